#include "analysis/sparse/decode_hook.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "analysis/key_mask.h"
#include "analysis/sparse/selector.h"
#include "core/model/kv_cache.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

struct HookState {
  int prefill = 0, H = 0, context = 0;
  bool compress = false;                             // the kv schedule
  KvKeptKeys kv;                                     // chosen heads; kv schedule: kept keys
  std::vector<std::unique_ptr<SparseSelector>> sel;  // [L*H], null where not chosen
  std::vector<std::vector<float>> q;                 // [L*H]: query rows seen, row t at t * Dh
  // [L*H]: the last lookback() prefill rows, each `context` long (vertical_slash's and snapkv's
  // estimates).
  std::vector<std::vector<std::vector<float>>> est;
  std::vector<KeyMask> masks;             // [L]
  const ChannelCalibration* calibration = nullptr;
  std::vector<float> row;
  std::vector<int> keys;
};

// Row t as the decoder sees it: the softmax over the candidates' scores, 0 elsewhere.
void decoder_row(const KeySelectQuery& q, int length, std::vector<float>& row) {
  row.assign(size_t(length), 0.0f);
  double m = -INFINITY, z = 0;
  for (int c = 0; c < q.n; ++c) m = std::max(m, double(q.scores[c]));
  for (int c = 0; c < q.n; ++c)
    if (std::isfinite(q.scores[c])) z += std::exp(double(q.scores[c]) - m);
  for (int c = 0; c < q.n; ++c)
    if (std::isfinite(q.scores[c]))
      row[size_t(q.keys[c])] = float(std::exp(double(q.scores[c]) - m) / z);
}

}  // namespace

KeySelector sparse_decode_hook(const std::string& spec, const Budget* budget, SparsePhase phase,
                               int prefill, const std::vector<HeadRef>& heads,
                               const std::vector<std::string>& layer_specs, int n_heads,
                               int context, const ChannelCalibration* calibration,
                               std::shared_ptr<const KvKeptKeys>* kept) {
  if (prefill < 1) throw Error("sparse decode: the prefill length must be >= 1");
  if (phase == SparsePhase::prefill)
    throw Error(
        "sparse decode: the prefill schedule is dense while decoding; use the decode or kv "
        "schedule (or the one-pass SparseReplacement)");
  auto st = std::make_shared<HookState>();
  const int L = int(layer_specs.size());
  st->prefill = prefill;
  st->H = n_heads;
  st->context = context;
  st->compress = phase == SparsePhase::kv;
  st->kv.n_heads = n_heads;
  st->kv.prefill = prefill;
  if (kept) *kept = std::shared_ptr<const KvKeptKeys>(st, &st->kv);
  st->calibration = calibration;
  st->kv.chosen.assign(size_t(L) * n_heads, 0);
  st->sel.resize(size_t(L) * n_heads);
  st->q.resize(size_t(L) * n_heads);
  st->est.resize(size_t(L) * n_heads);
  st->kv.keys.resize(size_t(L) * n_heads);
  for (const std::string& s : layer_specs) {
    st->masks.push_back(KeyMask::from_spec(s));
    st->masks.back().prepare(context);
  }
  for (const HeadRef& r : heads) {
    if (r.layer < 0 || r.layer >= L || r.head < 0 || r.head >= n_heads)
      throw Error("sparse decode: head " + r.str() + " does not exist");
    const size_t i = size_t(r.layer) * n_heads + r.head;
    st->kv.chosen[i] = 1;
    st->sel[i] = make_selector(spec, budget);
    if (st->compress && st->sel[i]->query_block(false) > 1)
      throw Error("sparse decode: the kv schedule cannot run block patterns; " +
                  st->sel[i]->label() + " pools a block of queries that the KV cache does not keep");
    st->est[i].assign(size_t(std::min(st->sel[i]->lookback(), prefill)),
                      std::vector<float>(size_t(context), 0.0f));
    if (st->sel[i]->needs_channels() && !calibration)
      throw Error("sparse decode: channel_topk needs a calibration");
  }
  return [st](const KeySelectQuery& q, std::vector<int>& keep) {
    const size_t i = size_t(q.layer) * st->H + q.h;
    const bool chosen = i < st->kv.chosen.size() && st->kv.chosen[i];
    auto keep_all = [&] { keep.insert(keep.end(), q.keys, q.keys + q.n); };
    if (!chosen) return keep_all();
    if (q.b != 0) throw Error("sparse decode: batch size 1 only");
    std::vector<std::vector<float>>& est = st->est[i];
    const int est_from = st->prefill - int(est.size());
    if (q.t < st->prefill && q.t >= est_from)
      decoder_row(q, st->context, est[size_t(q.t - est_from)]);
    if (st->compress && q.t >= st->prefill) {
      // Keys dropped at the end of the prefill stay dropped.
      const std::vector<int>& kept = st->kv.keys[i];
      for (int c = 0; c < q.n; ++c)
        if (q.keys[c] >= st->prefill || std::binary_search(kept.begin(), kept.end(), q.keys[c]))
          keep.push_back(q.keys[c]);
      return;
    }
    const bool select_row = st->compress ? q.t == st->prefill - 1 : q.t >= st->prefill;
    if (!select_row) return keep_all();
    decoder_row(q, q.t + 1, st->row);
    std::vector<float>& qb = st->q[i];
    qb.resize(size_t(q.t + 1) * q.Dh, 0.0f);
    std::copy(q.q, q.q + q.Dh, qb.begin() + int64_t(q.t) * q.Dh);
    HeadView v;
    v.q = qb.data();
    v.k = q.k;
    v.T = q.t + 1;
    v.Dh = q.Dh;
    v.mask = &st->masks.at(size_t(q.layer));
    v.limit = st->prefill;
    v.causal = true;
    v.est_rows = &est;
    if (st->calibration) v.channels = &st->calibration->channels(q.layer, q.h);
    SparseSelector& s = *st->sel[i];
    s.begin_head(v);
    const float* r = st->row.data();
    s.begin_chunk(q.t, 1, &r);
    s.select(q.t, r, st->keys);
    if (st->compress) {
      // The selection is the cache kept from here on; the prefill's own last row stays dense.
      st->kv.keys[i] = st->keys;
      std::sort(st->kv.keys[i].begin(), st->kv.keys[i].end());
      return keep_all();
    }
    keep.insert(keep.end(), st->keys.begin(), st->keys.end());
  };
}

size_t compress_kv_cache(KVCache& cache, const KvKeptKeys& kept) {
  if (cache.batch() != 1) throw Error("KV compression: batch size 1 only");
  const int length = cache.length(), H = kept.n_heads, rep = H / cache.kv_heads();
  if (length < kept.prefill)
    throw Error("KV compression: run the " + std::to_string(kept.prefill) +
                "-token prefill through the hook first (the cache holds " + std::to_string(length) +
                ")");
  const size_t before = cache.bytes();
  cache.compact([&](int layer, int, int g) {
    std::vector<char> keep(size_t(length), 0);
    for (int j = kept.prefill; j < length; ++j) keep[size_t(j)] = 1;  // decoded since
    for (int h = g * rep; h < (g + 1) * rep; ++h) {
      const size_t i = size_t(layer) * H + h;
      if (!kept.chosen[i]) {
        std::fill(keep.begin(), keep.end(), 1);
        break;
      }
      if (kept.keys[i].empty())
        throw Error("KV compression: head L" + std::to_string(layer) + "H" + std::to_string(h) +
                    " kept nothing; was the prefill run through the hook?");
      for (int j : kept.keys[i]) keep[size_t(j)] = 1;
    }
    std::vector<int> positions;
    for (int j = 0; j < length; ++j)
      if (keep[size_t(j)]) positions.push_back(j);
    return positions;
  });  // compact() also removes the hook
  return before - cache.bytes();
}

CompressedGeneration generate_with_compressed_kv(Transformer& model,
                                                 const std::vector<int32_t>& prompt,
                                                 const SampleOptions& opts, const std::string& spec,
                                                 const Budget* budget,
                                                 const std::vector<HeadRef>& heads) {
  const ModelConfig& cfg = model.config();
  if (prompt.empty() || int(prompt.size()) > cfg.context)
    throw Error("KV-compressed generation: the prompt must hold 1 to " +
                std::to_string(cfg.context) + " tokens (the context), not " +
                std::to_string(prompt.size()));
  std::vector<std::string> layer_specs;
  for (int l = 0; l < cfg.n_layers; ++l) layer_specs.push_back(model.attention(l).spec());
  const int prefill = int(prompt.size());
  const int capacity = std::min(cfg.context, prefill + std::max(opts.max_new, 1));
  KVCache cache(cfg, 1, capacity);
  std::shared_ptr<const KvKeptKeys> kept;
  cache.set_selector(sparse_decode_hook(spec, budget, SparsePhase::kv, prefill, heads,
                                        layer_specs, cfg.n_heads, capacity, nullptr, &kept));
  CompressedGeneration out;
  DecodeHooks hooks;
  hooks.cache = &cache;
  hooks.after_prefill = [&](KVCache& c) {
    out.kv_bytes_full = c.bytes();
    compress_kv_cache(c, *kept);
    out.kv_bytes_kept = c.bytes();
  };
  out.tokens = generate(model, prompt, opts, hooks);
  return out;
}

}  // namespace attnlab
