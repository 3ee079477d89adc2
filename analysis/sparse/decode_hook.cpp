#include "analysis/sparse/decode_hook.h"

#include <cmath>
#include <memory>

#include "analysis/key_mask.h"
#include "analysis/sparse/selector.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

struct HookState {
  int prefill = 0, H = 0;
  std::vector<char> chosen;                          // [L*H]
  std::vector<std::unique_ptr<SparseSelector>> sel;  // [L*H], null where not chosen
  std::vector<std::vector<float>> q;                 // [L*H]: query rows seen, row t at t * Dh
  std::vector<KeyMask> masks;                        // [L]
  const ChannelCalibration* calibration = nullptr;
  std::vector<float> row;
  std::vector<int> keys;
};

}  // namespace

KeySelector sparse_decode_hook(const std::string& spec, const Budget* budget, int prefill,
                               const std::vector<HeadRef>& heads,
                               const std::vector<std::string>& layer_specs, int n_heads,
                               int context, const ChannelCalibration* calibration) {
  if (prefill < 1) throw Error("sparse decode: the prefill length must be >= 1");
  auto st = std::make_shared<HookState>();
  const int L = int(layer_specs.size());
  st->prefill = prefill;
  st->H = n_heads;
  st->calibration = calibration;
  st->chosen.assign(size_t(L) * n_heads, 0);
  st->sel.resize(size_t(L) * n_heads);
  st->q.resize(size_t(L) * n_heads);
  for (const std::string& s : layer_specs) {
    st->masks.push_back(KeyMask::from_spec(s));
    st->masks.back().prepare(context);
  }
  for (const HeadRef& r : heads) {
    if (r.layer < 0 || r.layer >= L || r.head < 0 || r.head >= n_heads)
      throw Error("sparse decode: head " + r.str() + " does not exist");
    const size_t i = size_t(r.layer) * n_heads + r.head;
    st->chosen[i] = 1;
    st->sel[i] = make_selector(spec, budget);
    if (st->sel[i]->lookback() > 0)
      throw Error("sparse decode: " + st->sel[i]->label() +
                  " estimates from the prefill's attention rows, which the KV cache does not keep");
    if (st->sel[i]->needs_channels() && !calibration)
      throw Error("sparse decode: channel_topk needs a calibration");
  }
  return [st](const KeySelectQuery& q, std::vector<int>& keep) {
    const size_t i = size_t(q.layer) * st->H + q.h;
    if (q.t < st->prefill || i >= st->chosen.size() || !st->chosen[i] || q.b != 0) {
      keep.insert(keep.end(), q.keys, q.keys + q.n);
      if (!(q.t < st->prefill || i >= st->chosen.size() || !st->chosen[i]))
        throw Error("sparse decode: batch size 1 only");
      return;
    }
    // The row as the decoder sees it: softmax over the candidates' scores.
    st->row.assign(size_t(q.t) + 1, 0.0f);
    double m = -INFINITY, z = 0;
    for (int c = 0; c < q.n; ++c) m = std::max(m, double(q.scores[c]));
    for (int c = 0; c < q.n; ++c)
      if (std::isfinite(q.scores[c])) z += std::exp(double(q.scores[c]) - m);
    for (int c = 0; c < q.n; ++c)
      if (std::isfinite(q.scores[c]))
        st->row[size_t(q.keys[c])] = float(std::exp(double(q.scores[c]) - m) / z);
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
    if (st->calibration) v.channels = &st->calibration->channels(q.layer, q.h);
    SparseSelector& s = *st->sel[i];
    s.begin_head(v);
    const float* r = st->row.data();
    s.begin_chunk(q.t, 1, &r);
    s.select(q.t, r, st->keys);
    keep.insert(keep.end(), st->keys.begin(), st->keys.end());
  };
}

}  // namespace attnlab
