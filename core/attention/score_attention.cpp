#include "core/attention/score_attention.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/tensor/error.h"

namespace attnlab {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMap = Eigen::Map<const RowMat>;
using MMap = Eigen::Map<RowMat>;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

void softmax_row(const float* s, float* a, int n, float* sink) {
  float m = sink ? *sink : kNegInf;
  for (int j = 0; j < n; ++j) m = std::max(m, s[j]);
  if (m == kNegInf) {  // nothing visible: an all-zero row
    for (int j = 0; j < n; ++j) a[j] = 0.0f;
    return;
  }
  double z = 0.0;
  for (int j = 0; j < n; ++j) {
    a[j] = std::exp(s[j] - m);
    z += a[j];
  }
  float es = sink ? std::exp(*sink - m) : 0.0f;
  z += es;
  const float inv = float(1.0 / z);
  for (int j = 0; j < n; ++j) a[j] *= inv;
  if (sink) *sink = es * inv;
}

void softmax_row_backward(const float* a, const float* da, float* ds, int n, float sink_a,
                          float da_sink, float* ds_sink) {
  double dot = double(sink_a) * da_sink;
  for (int j = 0; j < n; ++j) dot += double(a[j]) * da[j];
  for (int j = 0; j < n; ++j) ds[j] = a[j] * float(da[j] - dot);
  if (ds_sink) *ds_sink = sink_a * float(da_sink - dot);
}

ScoreAttention::ScoreAttention(const AttnBuildContext& ctx, MaskSet masks)
    : ctx_(ctx), masks_(std::move(masks)), scale_(1.0f / std::sqrt(float(ctx.head_dim))) {}

struct ScoreAttention::Scratch {
  std::vector<float> K, V;    // a tile's keys and values gathered when they are not contiguous
  const float* Kp = nullptr;  // the tile's keys / values, rows of Dh
  const float* Vp = nullptr;
  std::vector<float> S, A, dA, ds, sink_a, tmp;
  std::vector<Row> rows;
  std::vector<int> keep;
  std::vector<char> mark;
};

namespace {
bool contiguous(const std::vector<int>& keys) {
  return keys.empty() || keys.back() - keys.front() + 1 == int(keys.size());
}
// Points sc.Kp / sc.Vp at the tile's keys, gathering them when they are not one run.
template <class Sc>
void gather(const float* k, const float* v, const std::vector<int>& keys, int Dh, Sc& sc) {
  if (contiguous(keys)) {
    const int64_t o = keys.empty() ? 0 : int64_t(keys.front()) * Dh;
    sc.Kp = k + o;
    sc.Vp = v + o;
    return;
  }
  sc.K.resize(keys.size() * size_t(Dh));
  sc.V.resize(keys.size() * size_t(Dh));
  for (size_t e = 0; e < keys.size(); ++e) {
    std::copy_n(k + int64_t(keys[e]) * Dh, Dh, sc.K.data() + e * Dh);
    std::copy_n(v + int64_t(keys[e]) * Dh, Dh, sc.V.data() + e * Dh);
  }
  sc.Kp = sc.K.data();
  sc.Vp = sc.V.data();
}
// dst rows keys[e] += src row e (src [m, Dh]).
void scatter_add(float* dst, const float* src, const std::vector<int>& keys, int Dh) {
  for (size_t e = 0; e < keys.size(); ++e) {
    float* d = dst + int64_t(keys[e]) * Dh;
    const float* x = src + e * Dh;
    for (int c = 0; c < Dh; ++c) d[c] += x[c];
  }
}
}  // namespace

ScoreAttention::Tile ScoreAttention::make_tile(int t0, int t1) const {
  Tile tile;
  tile.t0 = t0;
  tile.t1 = t1;
  if (masks_.empty()) {
    tile.keys.resize(size_t(t1));
    for (int j = 0; j < t1; ++j) tile.keys[size_t(j)] = j;
    return tile;
  }
  std::vector<char> mark(size_t(t1), 0);
  std::vector<int> vis;
  for (int t = t0; t < t1; ++t) {
    vis.clear();
    masks_.visible_keys(t, vis);
    for (int j : vis) mark[size_t(j)] = 1;
  }
  for (int j = 0; j < t1; ++j)
    if (mark[size_t(j)]) tile.keys.push_back(j);
  return tile;
}

std::vector<ScoreAttention::Tile> ScoreAttention::make_tiles(int first, int T,
                                                             size_t* a_total) const {
  std::vector<Tile> tiles;
  size_t total = 0;
  for (int t0 = first; t0 < T; t0 += kTileRows) {
    Tile tile = make_tile(t0, std::min(T, t0 + kTileRows));
    tile.a_off = total;
    total += size_t(tile.t1 - tile.t0) * tile.keys.size();
    tiles.push_back(std::move(tile));
  }
  if (a_total) *a_total = total;
  return tiles;
}

void ScoreAttention::tile_scores(const HeadIO& io, const Tile& tile, const std::vector<float>& prep,
                                 const KeySelector* select, Scratch& sc) const {
  const int Dh = ctx_.head_dim, rows = tile.t1 - tile.t0, m = int(tile.keys.size());
  sc.S.resize(size_t(rows) * m);
  sc.rows.resize(size_t(rows));
  MMap Sm(sc.S.data(), rows, m);
  Sm.noalias() =
      CMap(io.q + int64_t(tile.t0 - io.first) * Dh, rows, Dh) * CMap(sc.Kp, m, Dh).transpose();
  Sm *= scale_;
  const int* keys = tile.keys.data();
  for (int i = 0; i < rows; ++i) {
    const int t = tile.t0 + i;
    float* s = sc.S.data() + size_t(i) * m;
    int n_vis = 0;
    for (int e = 0; e < m; ++e) {
      if (keys[e] > t || (!masks_.empty() && !masks_.visible(t, keys[e])))
        s[e] = kNegInf;
      else
        ++n_vis;
    }
    const Row r{io.b, io.h, t, io.T, n_vis, m, keys};
    add_bias_row(prep, r, s);
    if (select) {
      KeySelectQuery query{ctx_.layer, io.b, io.h, t, Dh, io.q + int64_t(t - io.first) * Dh,
                           io.k,       m,    keys, s};
      sc.keep.clear();
      (*select)(query, sc.keep);
      sc.mark.assign(size_t(m), 0);
      for (int j : sc.keep) {
        const int* p = std::lower_bound(keys, keys + m, j);
        if (p != keys + m && *p == j) sc.mark[size_t(p - keys)] = 1;
      }
      for (int e = 0; e < m; ++e)
        if (!sc.mark[size_t(e)]) s[e] = kNegInf;
    }
    sc.rows[size_t(i)] = r;
  }
}

void ScoreAttention::tile_weights(const HeadIO& io, const Tile& tile, const AttnInputs& qv,
                                  const std::vector<float>& prep, const KeySelector* select,
                                  Scratch& sc, float* A, float* sink_a) const {
  tile_scores(io, tile, prep, select, sc);
  const int m = int(tile.keys.size());
  const bool sink = has_sink();
  for (int i = 0; i < tile.t1 - tile.t0; ++i) {
    float sv = sink ? sink_logit(qv, io.b, io.h, tile.t0 + i - io.first) : 0.0f;
    row_forward(sc.rows[size_t(i)], sc.S.data() + size_t(i) * m, A + size_t(i) * m,
                sink ? &sv : nullptr);
    sink_a[i] = sv;
  }
}

void ScoreAttention::tile_output(const HeadIO& io, const Tile& tile, const float* A,
                                 const float* sink_a, Scratch& sc, float* out) const {
  const int Dh = ctx_.head_dim, rows = tile.t1 - tile.t0, m = int(tile.keys.size());
  MMap O(out + int64_t(tile.t0 - io.first) * Dh, rows, Dh);
  O.noalias() = CMap(A, rows, m) * CMap(sc.Vp, m, Dh);
  if (const float* vs = has_sink() ? sink_value(io.h) : nullptr)
    for (int i = 0; i < rows; ++i)
      for (int c = 0; c < Dh; ++c) O(i, c) += sink_a[i] * vs[c];
}

void ScoreAttention::forward(const AttnInputs& in, float* out) {
  check_attention_inputs(in, ctx_, "forward");
  const AttnShape sh = in.shape;
  const int B = sh.B, H = sh.H, T = sh.T, Dh = sh.Dh;
  const bool keep = in.keep_for_backward;
  size_t a_total = 0;
  std::vector<Tile> tiles = make_tiles(0, T, &a_total);
  std::vector<float> prep = prepare(in);
  if (keep) {
    cached_ = sh;
    a_head_ = a_total;
    A_.resize(size_t(B) * H * a_total);
    sink_a_.assign(size_t(B) * H * T, 0.0f);
  } else {  // a later backward must not use weights of another forward
    A_.clear();
    tiles_.clear();
  }
#pragma omp parallel if (int64_t(B) * H * int64_t(a_total) * Dh > (1 << 16))
  {
    Scratch sc;
#pragma omp for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        const int64_t bh = int64_t(b) * H + h, off = bh * sh.head_size();
        const HeadIO io{b, h, T, 0, in.q + off, in.k + off, in.v + off};
        for (const Tile& tile : tiles) {
          const size_t rows = size_t(tile.t1 - tile.t0), m = tile.keys.size();
          float* A = nullptr;
          float* sa = nullptr;
          if (keep) {
            A = A_.data() + size_t(bh) * a_total + tile.a_off;
            sa = sink_a_.data() + size_t(bh) * T + tile.t0;
          } else {
            sc.A.resize(rows * m);
            sc.sink_a.resize(rows);
            A = sc.A.data();
            sa = sc.sink_a.data();
          }
          gather(io.k, io.v, tile.keys, Dh, sc);
          tile_weights(io, tile, in, prep, nullptr, sc, A, sa);
          tile_output(io, tile, A, sa, sc, out + off);
        }
      }
  }
  if (keep) {
    tiles_ = std::move(tiles);
    prep_ = std::move(prep);
  }
}

void ScoreAttention::backward(const AttnInputs& in, const float* dout, const AttnGrads& g) {
  check_attention_inputs(in, ctx_, "backward");
  const AttnShape sh = in.shape;
  if (sh.B != cached_.B || sh.T != cached_.T || A_.empty() || tiles_.empty())
    throw Error("attention backward: no forward on inputs of this shape preceded it");
  const int B = sh.B, H = sh.H, T = sh.T, Dh = sh.Dh;
  const bool sink = has_sink();
  const size_t na = n_acc(sh);
  std::vector<double> acc(size_t(B) * H * na, 0.0);
#pragma omp parallel if (int64_t(B) * H * int64_t(a_head_) * Dh > (1 << 16))
  {
    Scratch sc;
    std::vector<float> ds_sink(T);
#pragma omp for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        const int64_t bh = int64_t(b) * H + h, off = bh * sh.head_size();
        const HeadIO io{b, h, T, 0, in.q + off, in.k + off, in.v + off};
        float* dq = g.dq + off;
        float* dk = g.dk + off;
        float* dv = g.dv + off;
        std::fill(dk, dk + sh.head_size(), 0.0f);
        std::fill(dv, dv + sh.head_size(), 0.0f);
        const float* vs = sink ? sink_value(h) : nullptr;
        const float* sink_a = sink_a_.data() + bh * T;
        double* my_acc = acc.data() + bh * na;
        for (const Tile& tile : tiles_) {
          const int rows = tile.t1 - tile.t0, m = int(tile.keys.size());
          const float* A = A_.data() + size_t(bh) * a_head_ + tile.a_off;
          gather(io.k, io.v, tile.keys, Dh, sc);
          tile_scores(io, tile, prep_, nullptr, sc);
          CMap dO(dout + off + int64_t(tile.t0) * Dh, rows, Dh);
          CMap Q(io.q + int64_t(tile.t0) * Dh, rows, Dh);
          CMap Kg(sc.Kp, m, Dh), Vg(sc.Vp, m, Dh), Am(A, rows, m);
          sc.dA.resize(size_t(rows) * m);
          MMap dAm(sc.dA.data(), rows, m);
          dAm.noalias() = dO * Vg.transpose();
          const bool direct = contiguous(tile.keys);
          const int64_t k0 = m ? int64_t(tile.keys.front()) * Dh : 0;
          sc.tmp.resize(size_t(m) * Dh);
          MMap tmp(sc.tmp.data(), m, Dh);
          if (direct) {
            MMap(dv + k0, m, Dh).noalias() += Am.transpose() * dO;
          } else {
            tmp.noalias() = Am.transpose() * dO;
            scatter_add(dv, sc.tmp.data(), tile.keys, Dh);
          }
          // dA becomes dS in place, row by row.
          sc.ds.resize(size_t(m));
          float* ds_row = sc.ds.data();
          for (int i = 0; i < rows; ++i) {
            const int t = tile.t0 + i;
            const float* s = sc.S.data() + size_t(i) * m;
            float das = 0.0f;
            if (vs)
              for (int c = 0; c < Dh; ++c) das += dO(i, c) * vs[c];
            float dsk = 0.0f;
            row_backward(sc.rows[size_t(i)], s, A + size_t(i) * m, &dAm(i, 0), ds_row,
                         sink ? sink_a[t] : 0.0f, das, sink ? &dsk : nullptr);
            for (int e = 0; e < m; ++e) dAm(i, e) = s[e] == kNegInf ? 0.0f : ds_row[e];
            ds_sink[size_t(t)] = dsk;
            bias_backward_row(prep_, sc.rows[size_t(i)], &dAm(i, 0), my_acc);
          }
          MMap dQ(dq + int64_t(tile.t0) * Dh, rows, Dh);
          dQ.noalias() = dAm * Kg;
          dQ *= scale_;
          if (direct) {
            MMap(dk + k0, m, Dh).noalias() += scale_ * (dAm.transpose() * Q);
          } else {
            tmp.noalias() = dAm.transpose() * Q;
            tmp *= scale_;
            scatter_add(dk, sc.tmp.data(), tile.keys, Dh);
          }
        }
        if (sink) sink_backward(in, b, h, ds_sink.data(), sink_a, dout + off, dq, my_acc);
      }
  }
  finish_backward(in, g, acc);
}

void ScoreAttention::pattern(const AttnInputs& in, int b, int h, const RowVisitor& visit) const {
  pattern_rows(in, b, h, 0, visit);
}

void ScoreAttention::pattern_rows(const AttnInputs& in, int b, int h, int first, const RowVisitor& visit) const {
  check_attention_inputs(in, ctx_, "pattern");
  if (b < 0 || b >= in.shape.B || h < 0 || h >= in.shape.H)
    throw Error("attention pattern: (b=" + std::to_string(b) + ", h=" + std::to_string(h) +
                ") is out of range");
  const int T = in.shape.T, Dh = in.shape.Dh;
  const int64_t off = (int64_t(b) * in.shape.H + h) * in.shape.head_size();
  const HeadIO io{b, h, T, 0, in.q + off, in.k + off, in.v + off};
  const std::vector<float> prep = prepare(in);
  Scratch sc;
  std::vector<float> row(size_t(T), 0.0f);
  // Smaller tiles made one at a time: analysis streams every head, so this call's memory must
  // stay a small multiple of T.
  // Tiles start at multiples of kPatternRows whatever `first` is, so a row's weights are the
  // same numbers either way.
  for (int t0 = std::max(0, first) / kPatternRows * kPatternRows; t0 < T; t0 += kPatternRows) {
    const Tile tile = make_tile(t0, std::min(T, t0 + kPatternRows));
    const int rows = tile.t1 - tile.t0, m = int(tile.keys.size());
    sc.A.resize(size_t(rows) * m);
    sc.sink_a.resize(size_t(rows));
    gather(io.k, io.v, tile.keys, Dh, sc);
    tile_weights(io, tile, in, prep, nullptr, sc, sc.A.data(), sc.sink_a.data());
    for (int i = 0; i < rows; ++i) {
      const float* a = sc.A.data() + size_t(i) * m;
      if (tile.t0 + i < first) continue;
      for (int e = 0; e < m; ++e) row[size_t(tile.keys[size_t(e)])] = a[e];
      visit(tile.t0 + i, row.data());
      for (int e = 0; e < m; ++e) row[size_t(tile.keys[size_t(e)])] = 0.0f;
    }
  }
}

void ScoreAttention::forward_cached(const CachedAttnInputs& in, float* out) {
  if (in.H != ctx_.n_heads || in.Dh != ctx_.head_dim || in.Hkv < 1 || in.H % in.Hkv != 0 ||
      in.first < 0 || in.first >= in.T || (!in.positions && in.T > in.capacity) || in.B < 1 ||
      (in.positions && (int(in.positions->size()) != in.B * in.Hkv || !in.head_start)))
    throw Error("cached attention: bad call (B=" + std::to_string(in.B) +
                ", H=" + std::to_string(in.H) + ", Hkv=" + std::to_string(in.Hkv) +
                ", Dh=" + std::to_string(in.Dh) + ", positions " + std::to_string(in.first) + ".." +
                std::to_string(in.T) + " of capacity " +
                std::to_string(in.positions ? in.max_positions : in.capacity) +
                ") for a variant built for H=" + std::to_string(ctx_.n_heads) +
                ", Dh=" + std::to_string(ctx_.head_dim));
  if (!in.q || !in.k || !in.v) throw Error("cached attention: q, k or v missing");
  if (length_dependent())
    throw Error("attention '" + spec() +
                "': cached (incremental) decoding is not supported for this variant: its "
                "weights depend on the sequence length, so every position changes with each new "
                "token");
  const int B = in.B, H = in.H, Dh = in.Dh, n = in.n_new(), rep = in.H / in.Hkv;
  const std::vector<float> prep = prepare_cached(in);
  const std::vector<Tile> tiles = make_tiles(in.first, in.T, nullptr);
  AttnInputs qv{{B, H, n, Dh}, in.q, in.q, in.q, in.x, false};  // sink_logit reads q rows
  const KeySelector* select = in.select && *in.select ? in.select : nullptr;
  if (select && in.positions)
    throw Error("cached attention: a key selector reads keys by position, which a compacted KV "
                "cache no longer stores");
#pragma omp parallel if (!select && int64_t(B) * H * n * in.T * Dh > (1 << 16))
  {
    Scratch sc;
#pragma omp for collapse(2) schedule(dynamic)
    for (int b = 0; b < B; ++b)
      for (int h = 0; h < H; ++h) {
        const int64_t qoff = (int64_t(b) * H + h) * n * Dh;
        const int64_t kvoff = in.head_start ? in.head_start[int64_t(b) * in.Hkv + h / rep]
                                            : (int64_t(b) * in.Hkv + h / rep) * in.capacity * Dh;
        const HeadIO io{b, h, in.T, in.first, in.q + qoff, in.k + kvoff, in.v + kvoff};
        // A compacted cache: a tile sees the stored positions among its keys, read by row.
        const std::vector<int>* stored =
            in.positions ? &(*in.positions)[size_t(b) * in.Hkv + h / rep] : nullptr;
        Tile kept;
        std::vector<int> rows_of_kept;
        for (const Tile& full : tiles) {
          const Tile* tile = &full;
          if (stored) {
            kept.t0 = full.t0;
            kept.t1 = full.t1;
            kept.keys.clear();
            rows_of_kept.clear();
            for (size_t r = 0; r < stored->size(); ++r)
              if (std::binary_search(full.keys.begin(), full.keys.end(), (*stored)[r])) {
                kept.keys.push_back((*stored)[r]);
                rows_of_kept.push_back(int(r));
              }
            tile = &kept;
          }
          const size_t rows = size_t(tile->t1 - tile->t0);
          sc.A.resize(rows * tile->keys.size());
          sc.sink_a.resize(rows);
          gather(io.k, io.v, stored ? rows_of_kept : tile->keys, Dh, sc);
          tile_weights(io, *tile, qv, prep, select, sc, sc.A.data(), sc.sink_a.data());
          tile_output(io, *tile, sc.A.data(), sc.sink_a.data(), sc, out + qoff);
        }
      }
  }
}

}  // namespace attnlab
