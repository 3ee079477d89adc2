#pragma once
// Export of what a view shows: the plot as PDF, SVG or PNG at a paper size and dpi chosen
// independently of the window (a single 3.5 in or double 7 in column), the CSV behind it,
// written atomically (temporary file, then rename), and "copy figure" to the clipboard.
#include <QFont>
#include <QRect>
#include <QSize>
#include <QString>
#include <vector>

class QCustomPlot;
class QWidget;

namespace attnlab::gui {

constexpr double kSingleColumnIn = 3.5;
constexpr double kDoubleColumnIn = 7.0;

struct FigureSize {
  double width_in = kSingleColumnIn;
  double height_in = 0;  // 0: what the view needs at this width (MainWindow::export_height_in)
  int dpi = 300;         // PNG resolution
  double height_or(double aspect) const { return height_in > 0 ? height_in : width_in * aspect; }
};

// While alive, the plots' text is at paper sizes (7 pt ticks, as fig::paper_style) instead of
// the screen's: a figure keeps room for its data in a 3.5 in column. Restores the fonts after.
class PaperFonts {
 public:
  explicit PaperFonts(const std::vector<QCustomPlot*>& plots);
  ~PaperFonts();
  PaperFonts(const PaperFonts&) = delete;
  PaperFonts& operator=(const PaperFonts&) = delete;

 private:
  std::vector<QCustomPlot*> plots_;
  std::vector<std::pair<QObject*, std::vector<QFont>>> saved_;
};

// Format from the extension (.pdf, .svg, .png); the caller holds PaperFonts. Throws
// attnlab::Error for an unknown
// extension or a file that cannot be written. The plot is laid out at the figure's size
// for the export and returns to its on-screen size after.
void export_plot(QCustomPlot* plot, const QString& path, const FigureSize& size = {});
// Several plots in one figure, plot i drawn into rects[i] (logical pixels of 1/96 in; the
// figure is as large as their union from 0, 0): the comparison's A, B and A - B
// (comparison_figure.h).
void export_panels(const std::vector<QCustomPlot*>& plots, const std::vector<QRect>& rects,
                   const QString& path, int dpi);
// Lays `plot` out at width x height logical pixels without showing it (its elements' rects then
// tell what a figure of that size holds); the next replot restores the on-screen layout.
void layout_plot(QCustomPlot* plot, int width, int height);
// Height (logical pixels) that holds what `plot` draws at `width`, for layouts that give their
// elements their own size (the square map) rather than stretching them to fill the height.
int fitted_height(QCustomPlot* plot, int width);
// A widget (the dashboard's list) as it is laid out, scaled to the figure's width.
void export_widget(QWidget* widget, const QString& path, const FigureSize& size);
// Pixel size of a PNG `export_plot` writes: what tests check.
QSize exported_png_size(const FigureSize& size);
void export_csv(const QString& csv, const QString& path);
void copy_plot_to_clipboard(QCustomPlot* plot);

QString figure_file_filter();  // for save dialogs

}  // namespace attnlab::gui
