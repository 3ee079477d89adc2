#pragma once
// The layers x heads overview: each cell coloured by the chosen metric, the value on hover,
// click to open that head (Ctrl+click: open it as the second head of the comparison).
#include <QWidget>

#include "gui/head_metrics.h"

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPItemRect;
class QCPTextElement;
class QCPItemText;

namespace attnlab::gui {

class HeadGridView : public QWidget {
  Q_OBJECT
 public:
  explicit HeadGridView(QWidget* parent = nullptr);

  void set_grid(const MetricGrid& grid);
  void clear();
  void select_metric(const QString& name);
  QString metric() const;
  // Colour and label each head by observed / chance (uniform attention over its visible keys).
  void set_relative_to_chance(bool on);
  // The value a cell shows: observed, or observed / chance in relative mode (NaN without one).
  double shown_value(int metric, int layer, int head) const;
  void mark_selected(int layer, int head);
  // The comparison's second head, outlined dashed (layer < 0: none).
  void mark_compare(int layer, int head);
  bool compare_marked() const;
  // Selects the metric whose name is `name` or contains it (case-insensitive) when only one
  // does; throws attnlab::Error listing the metrics otherwise.
  void select_metric_matching(const QString& name);
  const MetricGrid& grid() const { return grid_; }
  QCustomPlot* plot() const { return plot_; }
  QString csv() const;  // layer,head,<every metric>
  // Centre of a cell in plot() coordinates (tests click it).
  QPoint cell_center(int layer, int head) const;

 signals:
  void head_clicked(int layer, int head);
  void compare_clicked(int layer, int head);

 private:
  void redraw();
  bool cell_at(const QPointF& pos, int& layer, int& head) const;

  QComboBox* metric_box_;
  QCheckBox* relative_box_;
  QCustomPlot* plot_;
  QCPColorMap* map_;
  QCPColorScale* scale_;
  QCPItemRect* selection_;
  QCPItemRect* compare_mark_;
  QCPTextElement* title_;
  QList<QCPItemText*> cell_texts_;
  MetricGrid grid_;
};

}  // namespace attnlab::gui
