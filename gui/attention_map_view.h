#pragma once
// One head's T x T attention map with square cells: `position:«token»` labels on both axes
// (every token while they fit), linear or log colour scale (labelled, with its clip), masked
// cells greyed, zoom (wheel) and pan (drag), the hovered cell outlined with a crosshair that
// linked views follow, and side panels with the key importance alpha_k (below, under the
// layer's mask) and the per-query normalized entropy (right). A comparison shares one colour
// scale between views; a difference map shows A - B with a diverging palette. An overlay
// outlines a key set per query row (sparse patterns).
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
class QCPItemRect;
class QCPItemStraightLine;
class QCPColorScale;
class QCPLayoutGrid;
class QCPTextElement;
class QLabel;
class QComboBox;
class QTimer;

namespace attnlab::gui {

class CellOutlines;
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
  // Shows cells [first, last] on both axes.
  void zoom_to(int first, int last);

  // Comparison: the colour scale's top shared by several views (0: the head's own auto scale).
  void set_shared_top(double top);
  double own_top() const { return own_top_; }
  const ColorScale& scale() const { return scale_; }
  // A - B (same T) with a diverging palette symmetric around 0; the side panels show
  // alpha_k(A) - alpha_k(B) and entropy(A) - entropy(B).
  void show_difference(std::shared_ptr<const HeadPattern> a, std::shared_ptr<const HeadPattern> b,
                       const QString& title);
  bool difference_mode() const { return diff_; }
  QString title() const;
  // Compact: the map and its colour bar only, no alpha_k or entropy panels (the comparison's
  // three maps side by side).
  void set_compact(bool on);
  bool compact() const;
  // A panel of a multi-panel figure: without query labels (the panel to its left has them),
  // without a colour bar (another panel's bar holds for it), or with the bar's label cut to
  // "weight" / "A − B" (its ticks still show the clip, ≥ top, and log or linear). The default
  // parts are the normal view.
  struct FigureParts {
    bool query_labels = true;
    bool colour_bar = true;
    bool brief_bar_label = false;
  };
  void set_figure_parts(const FigureParts& parts);

  // The hovered cell's outline and crosshair, set from a linked view (t < 0 hides them).
  void set_crosshair(int t, int j);
  bool crosshair_shown() const;
  // Outlines the keys keys_per_row[t] in each query row t (sparse-pattern overlay); {} clears.
  // kept_mass[t] (optional): the row's attention mass on those keys, shown on hover.
  void set_key_overlay(std::vector<std::vector<int>> keys_per_row, std::vector<double> kept_mass = {});
  // The sparse-pattern chooser above the map (only the main map offers it): its spec ("" for
  // none), the line under it that sums up the selection, and whether it is shown.
  QString pattern_spec() const;
  void set_pattern_spec(const QString& spec);  // emits pattern_requested
  void set_pattern_summary(const QString& text);
  void set_pattern_chooser_visible(bool on);
  CellOutlines* overlay() const { return overlay_; }
  // The map's pixel rectangle inside plot() (square cells: width == height when fitted).
  QRect map_rect() const;
  // Tick labels on the key (top) or query (left) axis as drawn.
  QStringList tick_labels(bool key_axis) const;

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
  void cell_clicked(int t, int j);
  void cell_hovered(int t, int j);  // -1, -1 when the pointer leaves the map
  void hovered(const QString& text);
  void failed(const QString& error);  // a long-context overview or tile could not be computed
  void pattern_requested(const QString& spec);  // "" clears the overlay

 protected:
  bool eventFilter(QObject* obj, QEvent* ev) override;

 private:
  void rebuild_image();
  void set_panels(const std::vector<double>& alpha, const std::vector<double>& entropy);
  void show_overview();
  void show_tile();
  void request_tile();  // asks the loader for the visible region
  void apply_scale(const ColorScale& s);
  ColorScale effective_scale(double own_top) const;
  bool update_ticks();  // true when the labels changed
  bool update_bar_label();  // the colour bar's label, cut short on a small map; true when changed
  void sync_side_ranges();
  bool cell_at(const QPointF& pos, int& t, int& j) const;

  QCustomPlot* plot_;
  QCPLayoutGrid* square_grid_;
  QCPAxisRect* map_rect_;
  FigureParts parts_;
  QComboBox* pattern_box_;
  std::vector<double> kept_mass_;
  QLabel* pattern_label_;
  QCPAxisRect* alpha_rect_;
  QCPAxisRect* entropy_rect_;
  QCPTextElement* title_;
  QCPColorScale* color_scale_;
  PatternPlottable* map_;
  QCPBars* alpha_bars_;
  QCPGraph* entropy_graph_;
  CellOutlines* overlay_;
  QCPItemRect* hover_cell_;
  QCPItemStraightLine* hover_row_;
  QCPItemStraightLine* hover_col_;
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
  bool diff_ = false;
  double shared_top_ = 0, own_top_ = 0;
  QPointF press_;
};

}  // namespace attnlab::gui
