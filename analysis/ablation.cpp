#include "analysis/ablation.h"

#include <algorithm>
#include <cctype>

#include "analysis/key_mask.h"
#include "core/attention/attention.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"

namespace attnlab {

std::vector<HeadRef> parse_heads(const std::string& list, int n_layers, int n_heads) {
  std::vector<HeadRef> out;
  const std::string range = "the model has " + std::to_string(n_layers) + " layers x " +
                            std::to_string(n_heads) + " heads: L0H0 .. L" +
                            std::to_string(n_layers - 1) + "H" + std::to_string(n_heads - 1) +
                            " (0-based)";
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(pos, end - pos);
    item.erase(std::remove_if(item.begin(), item.end(), [](unsigned char c) { return std::isspace(c); }),
               item.end());
    pos = end + 1;
    if (item.empty()) {
      if (end == list.size()) break;
      continue;
    }
    HeadRef r;
    size_t hpos = item.find_first_of("Hh");
    bool ok = item.size() >= 4 && (item[0] == 'L' || item[0] == 'l') && hpos != std::string::npos &&
              hpos > 1 && hpos + 1 < item.size();
    if (ok) {
      const std::string ls = item.substr(1, hpos - 1), hs = item.substr(hpos + 1);
      ok = std::all_of(ls.begin(), ls.end(), ::isdigit) && std::all_of(hs.begin(), hs.end(), ::isdigit) &&
           ls.size() < 7 && hs.size() < 7;
      if (ok) {
        r.layer = std::stoi(ls);
        r.head = std::stoi(hs);
      }
    }
    if (!ok) throw Error("head '" + item + "' is not of the form L<layer>H<head>, e.g. L0H1; " + range);
    if (r.layer >= n_layers || r.head >= n_heads)
      throw Error("head " + r.str() + " does not exist: " + range);
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

AblationMode parse_ablation_mode(const std::string& s) {
  if (s == "zero") return AblationMode::zero;
  if (s == "mean") return AblationMode::mean;
  if (s == "uniform") return AblationMode::uniform;
  throw Error("ablation mode '" + s + "' is unknown; use zero, mean or uniform");
}

HeadAblation::HeadAblation(std::vector<HeadRef> heads, AblationMode mode, int n_layers, int n_heads)
    : heads_(std::move(heads)), mode_(mode), L_(n_layers), H_(n_heads) {
  for (const HeadRef& r : heads_)
    if (r.layer < 0 || r.layer >= L_ || r.head < 0 || r.head >= H_)
      throw Error("head " + r.str() + " does not exist in a model of " + std::to_string(L_) +
                  " layers x " + std::to_string(H_) + " heads");
  mean_.resize(size_t(L_) * H_);
  mean_n_.assign(size_t(L_) * H_, 0);
}

void HeadAblation::calibrate(Transformer& model, const int32_t* tokens, int B, int T) {
  for (auto& m : mean_) m.clear();
  std::fill(mean_n_.begin(), mean_n_.end(), 0);
  recording_ = true;
  model.add_observer(this);
  try {
    model.forward_without_logits(tokens, B, T);
  } catch (...) {
    model.remove_observer(this);
    recording_ = false;
    throw;
  }
  model.remove_observer(this);
  recording_ = false;
  for (size_t k = 0; k < mean_.size(); ++k)
    for (double& x : mean_[k]) x /= double(std::max<int64_t>(1, mean_n_[k]));
  calibrated_ = true;
}

void HeadAblation::on_attention(const LayerAttentionView& view) {
  values_ = view.inputs->v;
  spec_ = view.attention->spec();
}

namespace {

// Row t of one head's output under uniform attention over its visible keys: mean of their values.
void uniform_attention_output(const float* v, int T, int Dh, const KeyMask& mask, float* o) {
  std::vector<double> acc(static_cast<size_t>(Dh), 0.0);
  for (int t = 0; t < T; ++t) {
    std::fill(acc.begin(), acc.end(), 0.0);
    int n = 0;
    for (int j = 0; j <= t; ++j) {
      if (!mask.visible(t, j)) continue;
      ++n;
      for (int d = 0; d < Dh; ++d) acc[size_t(d)] += v[int64_t(j) * Dh + d];
    }
    for (int d = 0; d < Dh; ++d) o[int64_t(t) * Dh + d] = n ? float(acc[size_t(d)] / n) : 0.0f;
  }
}

}  // namespace

void HeadAblation::on_head_outputs(int layer, const AttnShape& s, float* out) {
  KeyMask mask;
  if (mode_ == AblationMode::uniform && !recording_) {
    if (!values_) throw Error("uniform ablation needs the layer's values (on_attention was not called)");
    mask = KeyMask::from_spec(spec_);
    mask.prepare(s.T);
  }
  for (const HeadRef& r : heads_) {
    if (r.layer != layer) continue;
    const size_t k = size_t(r.layer) * H_ + r.head;
    for (int b = 0; b < s.B; ++b) {
      float* o = out + (int64_t(b) * s.H + r.head) * s.head_size();
      if (mode_ == AblationMode::uniform && !recording_) {
        uniform_attention_output(values_ + (int64_t(b) * s.H + r.head) * s.head_size(), s.T, s.Dh, mask, o);
        continue;
      }
      if (recording_) {
        mean_[k].resize(size_t(s.Dh), 0.0);
        for (int t = 0; t < s.T; ++t)
          for (int d = 0; d < s.Dh; ++d) mean_[k][size_t(d)] += o[int64_t(t) * s.Dh + d];
        mean_n_[k] += s.T;
        continue;
      }
      if (mode_ == AblationMode::mean && (!calibrated_ || mean_[k].size() != size_t(s.Dh)))
        throw Error("mean ablation of " + r.str() + " needs calibrate() on this model first");
      for (int t = 0; t < s.T; ++t)
        for (int d = 0; d < s.Dh; ++d)
          o[int64_t(t) * s.Dh + d] = mode_ == AblationMode::zero ? 0.0f : float(mean_[k][size_t(d)]);
    }
  }
}

std::string HeadAblation::describe() const {
  std::string s = mode_ == AblationMode::zero ? "zero:" : mode_ == AblationMode::mean ? "mean:" : "uniform:";
  for (size_t i = 0; i < heads_.size(); ++i) s += (i ? "," : " ") + heads_[i].str();
  return s;
}

}  // namespace attnlab
