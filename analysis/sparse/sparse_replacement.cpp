#include "analysis/sparse/sparse_replacement.h"

#include <algorithm>

#include "analysis/key_mask.h"
#include "analysis/sparse/selection_stream.h"
#include "core/attention/attention.h"
#include "core/attention/spec.h"
#include "core/tensor/error.h"

namespace attnlab {

SparsePhase parse_sparse_phase(const std::string& s) {
  if (s == "prefill") return SparsePhase::prefill;
  if (s == "decode") return SparsePhase::decode;
  if (s == "kv") return SparsePhase::kv;
  throw Error("phase '" + s + "' is unknown; use prefill, decode or kv");
}

std::string sparse_phase_name(SparsePhase p) {
  return p == SparsePhase::prefill ? "prefill" : p == SparsePhase::decode ? "decode" : "kv";
}

std::vector<HeadRef> parse_head_selection(const std::string& s, int n_layers, int n_heads) {
  std::vector<HeadRef> out;
  auto layer_heads = [&](int l) {
    for (int h = 0; h < n_heads; ++h) out.push_back({l, h});
  };
  if (s == "all") {
    for (int l = 0; l < n_layers; ++l) layer_heads(l);
    return out;
  }
  if (s.size() >= 2 && (s[0] == 'L' || s[0] == 'l') &&
      s.find_first_of("Hh,") == std::string::npos) {
    const int l = parse_whole_number(s.substr(1)).value_or(-1);
    if (l < 0 || l >= n_layers)
      throw Error("heads '" + s + "': the model has layers L0 .. L" + std::to_string(n_layers - 1));
    layer_heads(l);
    return out;
  }
  out = parse_heads(s, n_layers, n_heads);
  if (out.empty())
    throw Error("heads '" + s + "' names no head; use all, a layer (L2) or heads (L0H1,L2H3)");
  return out;
}

SparseReplacement::SparseReplacement(const std::string& spec, const Budget* budget,
                                     SparsePhase phase, int prefill, std::vector<HeadRef> heads,
                                     int n_layers, int n_heads)
    : selector_(make_selector(spec, budget)),
      phase_(phase),
      heads_(std::move(heads)),
      L_(n_layers),
      H_(n_heads) {
  set_prefill(prefill);
  for (const HeadRef& r : heads_)
    if (r.layer < 0 || r.layer >= L_ || r.head < 0 || r.head >= H_)
      throw Error("sparse replacement: head " + r.str() + " does not exist");
}

void SparseReplacement::set_prefill(int prefill) {
  if (prefill < 1)
    throw Error("sparse replacement: the prefill length must be >= 1, got " +
                std::to_string(prefill));
  prefill_ = prefill;
}

void SparseReplacement::on_attention(const LayerAttentionView& view) { view_ = view; }

void SparseReplacement::on_head_outputs(int layer, const AttnShape& s, float* out) {
  bool any = false;
  for (const HeadRef& r : heads_) any |= r.layer == layer;
  if (!any) return;
  if (!view_.attention || view_.layer != layer)
    throw Error("sparse replacement: the layer's attention was not seen");
  const Attention& attn = *view_.attention;
  if (!attn.normalized_rows() || !attn.pattern_reproduces_output())
    throw Error(
        "sparse replacement needs a softmax-family variant whose rows are its output weights; '" +
        attn.spec() + "' is not one");
  if (selector_->needs_channels() && !calibration_)
    throw Error("channel_topk replacement needs a channel calibration (set_calibration)");
  if (prefill_ > s.T)
    throw Error("sparse replacement: prefill " + std::to_string(prefill_) +
                " is longer than the sequence (" + std::to_string(s.T) + ")");
  KeyMask mask = KeyMask::from_spec(attn.spec());
  mask.prepare(s.T);
  const AttnInputs& in = *view_.inputs;
  std::vector<SparseSelector*> sels = {selector_.get()};
  std::vector<double> acc(size_t(s.Dh));
  std::vector<int> kv_keys;
  for (const HeadRef& r : heads_) {
    if (r.layer != layer) continue;
    for (int b = 0; b < s.B; ++b) {
      SelectionRun run;
      run.attention = &attn;
      run.inputs = &in;
      run.b = b;
      run.h = r.head;
      run.mask = &mask;
      run.limit = prefill_;
      run.causal = phase_ == SparsePhase::decode;
      if (selector_->needs_channels()) run.channels = &calibration_->channels(layer, r.head);
      const int64_t base = (int64_t(b) * s.H + r.head) * s.head_size();
      const float* v = in.v + base;
      float* o = out + base;
      stream_selections(
          run, sels, [&](int t, const float* row, const std::vector<std::vector<int>>& sel) {
            const bool sparse_row = phase_ == SparsePhase::prefill ? t < prefill_ : t >= prefill_;
            if (phase_ == SparsePhase::kv && t == prefill_ - 1) kv_keys = sel[0];
            if (!sparse_row) return;
            const std::vector<int>* keys = &sel[0];
            std::vector<int> kept;
            if (phase_ == SparsePhase::kv) {
              for (int j : kv_keys)
                if (mask.visible(t, j)) kept.push_back(j);
              for (int j = prefill_; j <= t; ++j)
                if (mask.visible(t, j)) kept.push_back(j);
              keys = &kept;
            }
            const int n = mask.visible_count(t);
            selected_ += double(keys->size());
            visible_ += n;
            ++rows_;
            if (int(keys->size()) == n) return;  // every visible key: the dense output stands
            double mass = 0;
            std::fill(acc.begin(), acc.end(), 0.0);
            for (int j : *keys) {
              mass += row[j];
              for (int d = 0; d < s.Dh; ++d)
                acc[size_t(d)] += double(row[j]) * v[int64_t(j) * s.Dh + d];
            }
            for (int d = 0; d < s.Dh; ++d)
              o[int64_t(t) * s.Dh + d] = mass > 0 ? float(acc[size_t(d)] / mass) : 0.0f;
          });
    }
  }
}

}  // namespace attnlab
