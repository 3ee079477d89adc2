#include "gui/script_options.h"

#include <QCommandLineParser>
#include <QRegularExpression>

#include "core/tensor/error.h"

namespace attnlab::gui {
namespace {

std::string s(const QString& q) { return q.toStdString(); }

void add_options(QCommandLineParser& p) {
  p.setApplicationDescription(
      "attnlab-gui: the attention explorer. With --screenshot or --export it renders and exits "
      "without a display (offscreen), for figures in make files and for tests.");
  p.addHelpOption();
  p.addPositionalArgument("MODEL",
                          "model to open (attnlab checkpoint, GGUF, llama2.c .bin, HF folder)");
  p.addOptions({
      {"prompt", "prompt text to analyse (default: a sample of the model's own text)", "TEXT"},
      {"task", "analyse one sample of a synthetic task (drawn at the model's context)", "SPEC"},
      {"head", "head to open, e.g. L5H3 (layer 5, head 3; 0-based)", "LxHy"},
      {"compare", "second model to compare with, same prompt and head", "MODEL2"},
      {"compare-head", "second head of the same model to compare with, e.g. L1H2", "LxHy"},
      {"metric", "metric that colours the head grid (a name or a unique part of one)", "NAME"},
      {"pattern",
       "sparse-attention pattern whose kept keys the map outlines, e.g. 'topk(k=8)'; the head grid "
       "gains its recall per head",
       "SPEC"},
      {"query", "query position shown in the token view (default: the last)", "T"},
      {"scan", "scan a text file or task with the head's dashboard (ranked by --metric)", "SOURCE"},
      {"scan-windows", "windows the dashboard scan reads", "N", "16"},
      {"log", "log colour scale"},
      {"view", "figure --export writes: " + script_views().join(", "), "VIEW", "map"},
      {"screenshot", "write a PNG of the whole window, then exit", "PNG"},
      {"export", "export the --view figure (.pdf, .svg or .png, with a .csv beside it), then exit",
       "FILE"},
      {"size", "export width: single (3.5 in), double (7 in) or inches", "SIZE", "single"},
      {"dpi", "PNG resolution of --export", "DPI", "300"},
  });
}

}  // namespace

const QStringList& script_views() {
  static const QStringList v = {"map", "compare", "grid", "model", "tokens", "dashboard"};
  return v;
}

HeadRef parse_head_ref(const QString& text) {
  static const QRegularExpression re("^\\s*L(\\d+)\\s*H(\\d+)\\s*$",
                                     QRegularExpression::CaseInsensitiveOption);
  const auto m = re.match(text);
  if (!m.hasMatch()) throw Error("head '" + s(text) + "': expected L<layer>H<head>, e.g. L5H3");
  return {m.captured(1).toInt(), m.captured(2).toInt()};
}

QString script_help_text() {
  QCommandLineParser p;
  add_options(p);
  return p.helpText().replace("<executable_name>", "attnlab-gui");
}

ScriptOptions parse_script_options(const QStringList& args) {
  QCommandLineParser p;
  add_options(p);
  if (!p.parse(args)) throw Error(s(p.errorText()));
  ScriptOptions o;
  o.help = p.isSet("help");
  const QStringList pos = p.positionalArguments();
  if (pos.size() > 1)
    throw Error("one model at a time (got " + std::to_string(pos.size()) +
                "); --compare opens a second");
  if (!pos.isEmpty()) o.model = pos.first();
  o.prompt = p.value("prompt");
  o.task = p.value("task");
  if (!o.prompt.isEmpty() && !o.task.isEmpty())
    throw Error("--prompt and --task both set: choose one");
  if (p.isSet("head")) o.head = parse_head_ref(p.value("head"));
  if (p.isSet("compare-head")) o.compare_head = parse_head_ref(p.value("compare-head"));
  o.compare_model = p.value("compare");
  if (o.compare_head && !o.compare_model.isEmpty())
    throw Error(
        "--compare (a second model) and --compare-head (a second head) both set: choose one");
  o.metric = p.value("metric");
  o.pattern = p.value("pattern");
  bool ok = true;
  if (p.isSet("query")) {
    o.query = p.value("query").toInt(&ok);
    if (!ok || o.query < 0)
      throw Error("--query '" + s(p.value("query")) + "': expected a position >= 0");
  }
  o.log_scale = p.isSet("log");
  o.scan = p.value("scan");
  o.scan_windows = p.value("scan-windows").toInt(&ok);
  if (!ok || o.scan_windows < 1)
    throw Error("--scan-windows '" + s(p.value("scan-windows")) + "': expected a count >= 1");
  o.view = p.value("view").toLower();
  if (!script_views().contains(o.view))
    throw Error("--view '" + s(o.view) + "': expected one of " + s(script_views().join(", ")));
  o.screenshot = p.value("screenshot");
  o.export_path = p.value("export");
  const QString size = p.value("size").toLower();
  if (size == "single") {
    o.width_in = 3.5;
  } else if (size == "double") {
    o.width_in = 7.0;
  } else {
    o.width_in = size.toDouble(&ok);
    if (!ok || o.width_in < 1 || o.width_in > 20)
      throw Error("--size '" + s(size) +
                  "': expected single, double or a width in inches (1 to 20)");
  }
  o.dpi = p.value("dpi").toInt(&ok);
  if (!ok || o.dpi < 50 || o.dpi > 1200)
    throw Error("--dpi '" + s(p.value("dpi")) + "': expected 50 to 1200");
  if (o.scripted() && o.model.isEmpty() && !o.help)
    throw Error("--screenshot and --export need a MODEL to open");
  if (o.view == "dashboard" && !o.export_path.isEmpty() && o.scan.isEmpty())
    throw Error("--view dashboard needs --scan SOURCE (a text file or a task)");
  if (o.view == "compare" && !o.export_path.isEmpty() && o.compare_model.isEmpty() &&
      !o.compare_head)
    throw Error("--view compare needs --compare MODEL2 or --compare-head LxHy");
  return o;
}

}  // namespace attnlab::gui
