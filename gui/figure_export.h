#pragma once
// Export of what a view shows: the plot as PDF, SVG or PNG at a paper size and dpi chosen
// independently of the window (a single 3.5 in or double 7 in column), the CSV behind it,
// written atomically (temporary file, then rename), and "copy figure" to the clipboard.
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
  double height_in = 0;  // 0: width x the view's aspect (export_aspect)
  int dpi = 300;         // PNG resolution
  double height_or(double aspect) const { return height_in > 0 ? height_in : width_in * aspect; }
};

// Format from the extension (.pdf, .svg, .png). Throws attnlab::Error for an unknown
// extension or a file that cannot be written. The plot is laid out at the figure's size
// for the export and returns to its on-screen size after.
void export_plot(QCustomPlot* plot, const QString& path, const FigureSize& size = {});
// Several plots side by side in one figure, each width / n wide and height_in high
// (the comparison: A, B and A - B at one fixed aspect).
void export_panels(const std::vector<QCustomPlot*>& plots, const QString& path,
                   const FigureSize& size);
// A widget (the dashboard's list) as it is laid out, scaled to the figure's width.
void export_widget(QWidget* widget, const QString& path, const FigureSize& size);
// Pixel size of a PNG `export_plot` writes: what tests check.
QSize exported_png_size(const FigureSize& size);
void export_csv(const QString& csv, const QString& path);
void copy_plot_to_clipboard(QCustomPlot* plot);

QString figure_file_filter();  // for save dialogs

}  // namespace attnlab::gui
