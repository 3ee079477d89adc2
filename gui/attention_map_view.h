#pragma once
// One head's T x T attention map: token labels on both axes, linear or log colour scale,
// the masked triangle greyed, zoom (wheel) and pan (drag), hover read-out of query token, key
// token and weight, and side panels with the key importance alpha_k (below) and the
// per-query normalized entropy (right).
#include <QStringList>
#include <QWidget>
#include <memory>

#include "gui/attention_capture.h"
#include "gui/pattern_image.h"

class QCustomPlot;
class QCPAxisRect;
class QCPBars;
class QCPGraph;
class QCPColorScale;
class QCPTextElement;
class QLabel;
class QComboBox;

namespace attnlab::gui {

class PatternPlottable;

class AttentionMapView : public QWidget {
  Q_OBJECT
 public:
  explicit AttentionMapView(QWidget* parent = nullptr);

  void set_tokens(const QStringList& labels);  // display labels, one per position
  // Prepares (on this thread) and shows a head.
  void set_pattern(std::shared_ptr<const HeadPattern> p, const QString& title);
  // Shows a head prepared elsewhere (prepare_map on a worker): only data hand-over and a replot.
  void show_prepared(const PreparedMap& m, const QString& title);
  void clear();
  void set_log_scale(bool log);
  bool log_scale() const { return log_; }
  void reset_zoom();

  std::shared_ptr<const HeadPattern> pattern() const { return pattern_; }
  const QImage& image() const;
  QCustomPlot* plot() const { return plot_; }
  // Text of the hover read-out for cell (query t, key j), as the tooltip shows it.
  QString describe_cell(int t, int j) const;
  // Rows "query,key,query_token,key_token,weight" of the causal cells: the CSV behind the figure.
  QString csv() const;

 signals:
  void query_clicked(int t);
  void hovered(const QString& text);

 protected:
  bool eventFilter(QObject* obj, QEvent* ev) override;

 private:
  void rebuild_image();
  void apply_scale(const ColorScale& s);
  bool update_ticks();  // true when the labels changed
  void sync_side_ranges();
  bool cell_at(const QPointF& pos, int& t, int& j) const;

  QCustomPlot* plot_;
  QCPAxisRect* map_rect_;
  QCPAxisRect* alpha_rect_;
  QCPAxisRect* entropy_rect_;
  QCPTextElement* title_;
  QCPColorScale* color_scale_;
  PatternPlottable* map_;
  QCPBars* alpha_bars_;
  QCPGraph* entropy_graph_;
  QComboBox* scale_box_;
  QLabel* readout_;

  std::shared_ptr<const HeadPattern> pattern_;
  QStringList labels_;
  bool log_ = false;
  QPointF press_;
};

}  // namespace attnlab::gui
