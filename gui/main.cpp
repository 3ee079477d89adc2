// attnlab-gui: the desktop explorer. `attnlab-gui --help` lists the options; with --screenshot
// or --export it renders offscreen and exits (scripted mode).
#include <QApplication>
#include <QTextStream>
#include <cstdio>

#include "gui/main_window.h"
#include "gui/script_options.h"
#include "gui/script_runner.h"

int main(int argc, char** argv) {
  using namespace attnlab::gui;
  QStringList args;
  for (int i = 0; i < argc; ++i) args << QString::fromLocal8Bit(argv[i]);
  ScriptOptions opts;
  QTextStream err(stderr), out(stdout);
  try {
    opts = parse_script_options(args);
  } catch (const std::exception& e) {
    err << "attnlab-gui: " << e.what() << "\nTry attnlab-gui --help.\n";
    return 2;
  }
  if (opts.help) {
    out << script_help_text();
    return 0;
  }
  // Scripted mode needs no display.
  if (opts.scripted() && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
    qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setOrganizationName("attnlab");
  QApplication::setApplicationName("attnlab-gui");
  MainWindow window;
  window.resize(1400, 900);
  window.show();
  if (opts.scripted()) return run_script(window, opts, err);
  apply_options_async(window, opts);
  return app.exec();
}
