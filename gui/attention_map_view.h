#pragma once
// One head's T x T attention map: token labels on both axes, linear or log colour scale,
// the masked triangle greyed, zoom (wheel) and pan (drag), hover read-out of query token, key
// token and weight, and side panels with the key importance alpha_k (below) and the
// per-query normalized entropy (right).
// Up to kMaterializedMapMaxT tokens the head's whole map is materialized (HeadPattern); above,
// the view shows a streamed, max-pooled overview and recomputes the visible region as a tile on
// a worker thread (MapTileLoader), exact once a cell spans a screen pixel.
#include <QStringList>
#include <QWidget>
#include <memory>

#include "gui/attention_capture.h"
#include "gui/map_tile_source.h"
#include "gui/pattern_image.h"

class QCustomPlot;
class QCPAxisRect;
class QCPBars;
class QCPGraph;
class QCPColorScale;
class QCPTextElement;
class QLabel;
class QComboBox;
class QTimer;

namespace attnlab::gui {

class MapTileLoader;
class PatternPlottable;

// Longest prompt whose heads are materialized: 2048^2 floats = 16 MB per head.
constexpr int kMaterializedMapMaxT = 2048;

class AttentionMapView : public QWidget {
  Q_OBJECT
 public:
  explicit AttentionMapView(QWidget* parent = nullptr);

  void set_tokens(const QStringList& labels);  // display labels, one per position
  // Prepares (on this thread) and shows a head.
  void set_pattern(std::shared_ptr<const HeadPattern> p, const QString& title);
  // Shows a head prepared elsewhere (prepare_map on a worker): only data hand-over and a replot.
  void show_prepared(const PreparedMap& m, const QString& title);
  // Shows a head of a long prompt without materializing it: overview and tiles from `src`.
  void show_long(std::shared_ptr<const MapTileSource> src, int layer, int head, const QString& title);
  void clear();
  void set_log_scale(bool log);
  bool log_scale() const { return log_; }
  void reset_zoom();

  // The materialized map (null at long context, where nothing T x T exists).
  std::shared_ptr<const HeadPattern> pattern() const { return pattern_; }
  bool has_head() const { return pattern_ || long_T_ > 0; }
  int cells() const;  // T of the head shown, 0 when none
  bool long_context() const { return long_T_ > 0; }
  MapTileLoader* tile_loader() const { return loader_; }
  // Waits for the overview and tile jobs (tests).
  bool wait_idle(int timeout_ms = 30000);
  const QImage& image() const;
  QCustomPlot* plot() const { return plot_; }
  // Text of the hover read-out for cell (query t, key j), as the tooltip shows it.
  // At long context: the exact weight where an exact tile covers the cell, else the largest
  // weight of the pooled block it lies in, said so.
  QString describe_cell(int t, int j) const;
  // Rows "query,key,query_token,key_token,weight" of the causal cells: the CSV behind the figure
  // (at long context, of the exact tile on screen only; none while zoomed out).
  QString csv() const;

 signals:
  void query_clicked(int t);
  void hovered(const QString& text);
  void failed(const QString& error);  // a long-context overview or tile could not be computed

 protected:
  bool eventFilter(QObject* obj, QEvent* ev) override;

 private:
  void rebuild_image();
  void set_panels(const std::vector<double>& alpha, const std::vector<double>& entropy);
  void show_overview();
  void show_tile();
  void request_tile();  // asks the loader for the visible region
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
  MapTileLoader* loader_;
  QTimer* tile_timer_;  // coalesces the range changes of one wheel turn or drag into one request
  int long_T_ = 0;
  bool long_keep_zoom_ = false;
  QString long_title_;
  ColorScale scale_;
  QStringList labels_;
  bool log_ = false;
  QPointF press_;
};

}  // namespace attnlab::gui
