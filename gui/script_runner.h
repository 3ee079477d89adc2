#pragma once
// The scripted mode: drives a MainWindow through what ScriptOptions ask (open, prompt, head,
// metric, comparison), writes the screenshot and export, and reports errors on stderr.
#include <QTextStream>

#include "gui/script_options.h"

namespace attnlab::gui {

class MainWindow;

// Returns the process exit code: 0 when every step worked, 1 otherwise (the first error is
// written to `err`). Blocks, processing events, until each step's work is done.
int run_script(MainWindow& w, const ScriptOptions& o, QTextStream& err);

// Applies the interactive part of `o` (prompt, head, metric, comparison) to an open window
// without waiting; what main() does when no output is asked for.
void apply_options_async(MainWindow& w, const ScriptOptions& o);

}  // namespace attnlab::gui
