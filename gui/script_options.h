#pragma once
// The command line of attnlab-gui: a model to open and, for figures in make files and for
// tests, a scripted mode that sets the prompt, head, metric and comparison, writes a screenshot
// and/or an export, and exits without a display.
#include <QString>
#include <QStringList>
#include <optional>

namespace attnlab::gui {

struct HeadRef {
  int layer = 0, head = 0;
};

struct ScriptOptions {
  QString model;                        // positional MODEL_FILE ("" = none)
  QString prompt;                       // --prompt
  QString task;                         // --task: a task sample as the prompt
  std::optional<HeadRef> head;          // --head L5H3
  std::optional<HeadRef> compare_head;  // --compare-head L1H2 (a second head of the same model)
  QString compare_model;                // --compare MODEL2
  QString metric;                       // --metric (head grid colouring, dashboard ranking)
  QString pattern;                      // --pattern (sparse pattern outlined on the map)
  QString scan;                         // --scan: the dashboard's source (a text file or a task)
  int scan_windows = 16;                // --scan-windows
  int query = -1;                       // --query (token view row; -1: the last)
  bool log_scale = false;               // --log
  QString view = "map";                 // --view: which figure --export writes
  QString screenshot;                   // --screenshot PNG: the whole window
  QString export_path;                  // --export PDF|SVG|PNG
  double width_in = 3.5;                // --size single (3.5 in) | double (7 in) | inches
  int dpi = 300;                        // --dpi
  bool help = false;

  // Scripted: render what was asked, write the files and exit (no event loop, no display).
  bool scripted() const { return !screenshot.isEmpty() || !export_path.isEmpty(); }
};

// Parses `args` (args[0] is the program). Throws attnlab::Error naming the bad option or value.
ScriptOptions parse_script_options(const QStringList& args);
QString script_help_text();
// "L5H3" (case-insensitive) -> {5, 3}; throws attnlab::Error otherwise.
HeadRef parse_head_ref(const QString& s);
// The views --view accepts.
const QStringList& script_views();

}  // namespace attnlab::gui
