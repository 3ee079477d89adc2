#pragma once
// Export of what a view shows: the plot as PDF, SVG or PNG (300 dpi) and the CSV behind it,
// written atomically (temporary file, then rename), and "copy figure" to the clipboard.
#include <QString>

class QCustomPlot;

namespace attnlab::gui {

// Format from the extension (.pdf, .svg, .png). Throws attnlab::Error for an unknown
// extension or a file that cannot be written.
void export_plot(QCustomPlot* plot, const QString& path);
void export_csv(const QString& csv, const QString& path);
void copy_plot_to_clipboard(QCustomPlot* plot);

QString figure_file_filter();  // for save dialogs

}  // namespace attnlab::gui
