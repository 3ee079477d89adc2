#pragma once
// What every GUI test needs: one QApplication (offscreen under ctest), a folder for
// screenshots, and helpers to drive the explorer to a known state.
#include <QApplication>
#include <QImage>
#include <QString>
#include <filesystem>

namespace attnlab::gui {
class MainWindow;
}

namespace attnlab::test {

QApplication& gui_app();
// $ATTNLAB_SCREENSHOT_DIR, or gui-screenshots/ in the working folder (the build's tests/).
std::filesystem::path screenshot_dir();
// Saves `image` as <screenshot_dir>/<name>.png and returns the path.
std::filesystem::path save_screenshot(const QImage& image, const std::string& name);
// Distinct colours in an image (a blank or single-colour render has 1).
int distinct_colors(const QImage& image, int limit = 64);

// Opens stories260K (llama2.c .bin) and waits for it; fails the test on an error dialog.
void open_stories(gui::MainWindow& w);
// Types `prompt` into the prompt box and waits for the analysis to finish.
void type_prompt(gui::MainWindow& w, const QString& prompt);

}  // namespace attnlab::test
