#pragma once
// Keeps a long prompt's head on screen: the streamed overview once per head, then a tile of
// whatever region the view shows, at the view's resolution (exact weights once a cell spans a
// screen pixel or more), recomputed on a worker thread (JobRunner) so the UI never waits; a
// newer request cancels an older one.
#include <QObject>
#include <QString>
#include <memory>

#include "gui/long_map_overview.h"
#include "gui/map_tile_source.h"

namespace attnlab::gui {

class JobRunner;

// Overview side in pixels: about a screen's worth, so the fitted map looks as sharp as the
// materialized one while holding 4 MB instead of 4 T^2 bytes.
constexpr int kOverviewSide = 1024;

class MapTileLoader : public QObject {
  Q_OBJECT
 public:
  explicit MapTileLoader(QObject* parent = nullptr);

  // Drops what was shown and starts the overview of (layer, head) on the worker.
  void open(std::shared_ptr<const MapTileSource> src, int layer, int head, int side = kOverviewSide);
  void close();
  // The visible cells [t0, t1) x [j0, j1) fill about px_w x px_h screen pixels. Asks for a tile
  // of them (plus a margin, so small pans need nothing new) when neither the overview nor the
  // current tile is that fine; true when it did.
  bool request_view(int t0, int t1, int j0, int j1, double px_w, double px_h);

  const MapTileSource* source() const { return src_.get(); }
  std::shared_ptr<const LongMapOverview> overview() const { return overview_; }
  std::shared_ptr<const MapTile> tile() const { return tile_; }
  int tiles_requested() const { return tiles_requested_; }
  bool wait_idle(int timeout_ms = 30000);

 signals:
  void overview_ready();
  void tile_ready();
  void failed(const QString& error);

 private:
  bool covers(const MapTileRequest& have, const MapTileRequest& want) const;

  JobRunner* jobs_;
  std::shared_ptr<const MapTileSource> src_;
  int layer_ = -1, head_ = -1;
  uint64_t generation_ = 0;  // results of an older open() are dropped
  std::shared_ptr<const LongMapOverview> overview_;
  std::shared_ptr<const MapTile> tile_;
  bool in_flight_ = false;
  MapTileRequest asked_;  // the tile being computed, while in_flight_
  int tiles_requested_ = 0;
};

}  // namespace attnlab::gui
