#include "gui/map_tile_loader.h"

#include <algorithm>
#include <cmath>

#include "gui/job_runner.h"

namespace attnlab::gui {

MapTileLoader::MapTileLoader(QObject* parent) : QObject(parent), jobs_(new JobRunner(this)) {}

void MapTileLoader::close() {
  ++generation_;
  jobs_->cancel();
  src_.reset();
  overview_.reset();
  tile_.reset();
  in_flight_ = false;
}

void MapTileLoader::open(std::shared_ptr<const MapTileSource> src, int layer, int head, int side) {
  close();
  src_ = std::move(src);
  layer_ = layer, head_ = head;
  const uint64_t gen = generation_;
  auto out = std::make_shared<LongMapOverview>();
  auto source = src_;
  jobs_->submit(
      QString("Drawing layer %1, head %2 (%3 tokens, %4)")
          .arg(layer).arg(head).arg(source->T()).arg(QString::fromStdString(source->device(layer))),
      [source, out, layer, head, side](JobControl& c) {
        *out = build_long_overview(*source, layer, head, side, &c.cancel);
      },
      [this, gen, out](const QString& error, bool cancelled) {
        if (cancelled || gen != generation_) return;
        if (!error.isEmpty()) return emit failed(error);
        overview_ = out;
        emit overview_ready();
      });
}

bool MapTileLoader::covers(const MapTileRequest& have, const MapTileRequest& want) const {
  return have.t0 <= want.t0 && have.t1 >= want.t1 && have.j0 <= want.j0 && have.j1 >= want.j1 &&
         have.pool_rows <= want.pool_rows && have.pool_cols <= want.pool_cols;
}

bool MapTileLoader::request_view(int t0, int t1, int j0, int j1, double px_w, double px_h) {
  if (!overview_) return false;  // the overview job would be cancelled; the view asks again
  const int T = overview_->T;
  t0 = std::max(0, t0), j0 = std::max(0, j0), t1 = std::min(T, t1), j1 = std::min(T, j1);
  if (t0 >= t1 || j0 >= j1 || j0 > t1 - 1) return false;  // nothing, or only masked cells
  MapTileRequest want;
  want.layer = layer_, want.head = head_;
  want.t0 = t0, want.t1 = t1, want.j0 = j0, want.j1 = j1;
  // Cells per screen pixel, rounded down: the tile is at least as fine as the screen.
  want.pool_rows = std::max(1, int(std::floor((t1 - t0) / std::max(1.0, px_h))));
  want.pool_cols = std::max(1, int(std::floor((j1 - j0) / std::max(1.0, px_w))));
  if (want.pool_rows >= overview_->factor && want.pool_cols >= overview_->factor) return false;
  if (tile_ && covers(tile_->req, want)) return false;
  if (in_flight_ && covers(asked_, want)) return false;
  // A quarter of the visible size around it, so panning a little needs no new tile.
  MapTileRequest r = want;
  const int mt = (t1 - t0) / 4, mj = (j1 - j0) / 4;
  r.t0 = std::max(0, t0 - mt), r.t1 = std::min(T, t1 + mt);
  r.j0 = std::max(0, j0 - mj), r.j1 = std::min(T, j1 + mj);
  asked_ = r;
  in_flight_ = true;
  ++tiles_requested_;
  const uint64_t gen = generation_;
  auto source = src_;
  auto out = std::make_shared<MapTile>();
  jobs_->submit(
      QString("Recomputing %1 x %2 cells of layer %3, head %4")
          .arg(r.t1 - r.t0).arg(r.j1 - r.j0).arg(r.layer).arg(r.head),
      [source, out, r](JobControl& c) { *out = source->tile(r, &c.cancel); },
      [this, gen, out](const QString& error, bool cancelled) {
        if (gen != generation_) return;
        if (cancelled) return;  // a newer request replaced it and is now in flight
        in_flight_ = false;
        if (!error.isEmpty()) return emit failed(error);
        tile_ = out;
        emit tile_ready();
      });
  return true;
}

bool MapTileLoader::wait_idle(int timeout_ms) { return jobs_->wait_idle(timeout_ms); }

}  // namespace attnlab::gui
