// attnlab-gui: the desktop explorer. Usage: attnlab-gui [MODEL_FILE]
#include <QApplication>

#include "gui/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("attnlab");
  QApplication::setApplicationName("attnlab-gui");
  attnlab::gui::MainWindow window;
  window.show();
  const QStringList args = QApplication::arguments();
  if (args.size() > 1) window.open_model(args.at(1));
  return app.exec();
}
