#pragma once
// One rectangle of one head's attention map — queries [t0, t1) x keys [j0, j1) — optionally
// max-pooled to fewer pixels: what the map view asks for at long context instead of the whole
// T x T map, whose memory (T = 16k: 1 GB per head) it cannot afford.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnlab::gui {

struct MapTileRequest {
  int layer = 0, head = 0;
  int t0 = 0, t1 = 0;  // query rows
  int j0 = 0, j1 = 0;  // key columns
  int pool_rows = 1, pool_cols = 1;  // cells per output pixel along queries / keys

  int rows() const { return (t1 - t0 + pool_rows - 1) / pool_rows; }
  int cols() const { return (j1 - j0 + pool_cols - 1) / pool_cols; }
  bool exact() const { return pool_rows == 1 && pool_cols == 1; }
  bool contains(int t, int j) const { return t >= t0 && t < t1 && j >= j0 && j < j1; }
};

// Throws attnlab::Error naming the bad field: an empty rectangle, one outside [0, T)^2, a pool
// below 1, or an output so large it would defeat the point (more than 64M pixels).
void validate(const MapTileRequest& r, int T);

// Exact tiles hold the weights, 0 where the key is in the query's future (as HeadPattern).
// Pooled tiles hold, per block, the largest |weight| of the block's visible cells (0 when the
// whole block is masked): the same max-pooling as image_pyramid, whose colour index grows with
// |weight|, so a sink column or a sharp diagonal survives any zoom-out.
struct MapTile {
  MapTileRequest req;
  std::vector<float> w;  // [req.rows(), req.cols()]
  float at(int r, int c) const { return w[size_t(r) * req.cols() + c]; }
  // The value drawn for cell (t, j) of the map; the cell must lie in the rectangle.
  float cell(int t, int j) const { return at((t - req.t0) / req.pool_rows, (j - req.j0) / req.pool_cols); }
};

// Builds a tile from rows streamed in any order: row t's weights for keys [j0, j1).
class TilePooler {
 public:
  explicit TilePooler(const MapTileRequest& r);
  void add_row(int t, const float* keys_j0_to_j1);
  MapTile take() { return std::move(tile_); }

 private:
  MapTile tile_;
};

}  // namespace attnlab::gui
