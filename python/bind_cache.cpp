// Model.run_with_cache: logits plus what the forward observers see (core/model/observer.h), the
// TransformerLens way. Patterns stream through Attention::pattern exactly as the analysis and
// capture_attention_maps (experiments/runner/probes.cpp) read them.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <set>

#include "core/model/observer.h"
#include "core/tensor/error.h"
#include "python/arrays.h"
#include "python/bindings.h"
#include "python/model_handle.h"

namespace attnlab::py {

namespace {

const std::vector<std::string> kNames = {"pattern", "q",       "k",         "v",
                                         "z",       "attn_in", "resid_pre", "resid_post"};

struct Captured {
  std::vector<float> data;
  std::vector<int64_t> shape;
};

// Copies what the forward passes by, for the chosen layers and heads. Runs without the GIL.
class CacheObserver : public ForwardObserver {
 public:
  CacheObserver(int n_layers, int d_model, std::vector<int> layers, std::vector<int> heads,
                std::set<std::string> names)
      : want_(size_t(n_layers), false),
        d_model_(d_model),
        heads_(std::move(heads)),
        names_(std::move(names)) {
    for (int l : layers) want_[size_t(l)] = true;
  }
  std::map<std::pair<std::string, int>, Captured> out;

  void on_attention(const LayerAttentionView& view) override {
    if (!want_[size_t(view.layer)]) return;
    const AttnShape& s = view.inputs->shape;
    if (wants("pattern")) {
      // [batch, head, query, key], zero above the diagonal.
      const int nh = int(heads_.size());
      Captured& c = out[{"pattern", view.layer}];
      c.shape = {s.B, nh, s.T, s.T};
      c.data.assign(size_t(s.B) * nh * s.T * s.T, 0.0f);
      for (int b = 0; b < s.B; ++b)
        for (int i = 0; i < nh; ++i) {
          float* dst = c.data.data() + (size_t(b) * nh + i) * s.T * s.T;
          view.attention->pattern(*view.inputs, b, heads_[i], [&](int t, const float* r) {
            std::copy(r, r + t + 1, dst + size_t(t) * s.T);
          });
        }
    }
    if (wants("q")) per_head("q", view.layer, s, view.inputs->q);
    if (wants("k")) per_head("k", view.layer, s, view.inputs->k);
    if (wants("v")) per_head("v", view.layer, s, view.inputs->v);
    if (wants("attn_in") && view.inputs->x) {
      Captured& c = out[{"attn_in", view.layer}];
      const int64_t D = d_model_;
      c.shape = {s.B, s.T, D};
      c.data.assign(view.inputs->x, view.inputs->x + size_t(s.B) * s.T * D);
    }
  }

  bool needs_block_input() const override { return wants("attn_in"); }

  void on_head_outputs(int layer, const AttnShape& s, float* heads) override {
    if (want_[size_t(layer)] && wants("z")) per_head("z", layer, s, heads);
  }

  void on_residual(int layer, const Tensor& h) override {
    // The stream after block l is the one before block l + 1 (layer -1: the embeddings).
    const std::vector<float> stream(h.data.begin(), h.data.begin() + shape_numel(h.shape));
    if (layer >= 0 && want_[size_t(layer)] && wants("resid_post"))
      out[{"resid_post", layer}] = {stream, h.shape};
    const size_t next = size_t(layer + 1);
    if (next < want_.size() && want_[next] && wants("resid_pre"))
      out[{"resid_pre", layer + 1}] = {stream, h.shape};
  }

 private:
  bool wants(const char* name) const { return names_.count(name) > 0; }
  // [B, H, T, Dh] -> TransformerLens's [batch, pos, head, d_head], chosen heads only.
  void per_head(const char* name, int layer, const AttnShape& s, const float* src) {
    const int nh = int(heads_.size());
    Captured& c = out[{name, layer}];
    c.shape = {s.B, s.T, nh, s.Dh};
    c.data.resize(size_t(s.B) * s.T * nh * s.Dh);
    for (int b = 0; b < s.B; ++b)
      for (int i = 0; i < nh; ++i)
        for (int t = 0; t < s.T; ++t) {
          const float* from = src + ((size_t(b) * s.H + heads_[i]) * s.T + t) * s.Dh;
          std::copy(from, from + s.Dh, c.data.data() + ((size_t(b) * s.T + t) * nh + i) * s.Dh);
        }
  }
  std::vector<bool> want_;
  int d_model_;
  std::vector<int> heads_;
  std::set<std::string> names_;
};

std::vector<int> chosen(const std::optional<std::vector<int>>& given, int n, const char* what) {
  std::vector<int> out;
  if (!given) {
    for (int i = 0; i < n; ++i) out.push_back(i);
    return out;
  }
  for (int i : *given) {
    if (i < 0 || i >= n)
      throw Error(std::string(what) + " " + std::to_string(i) + " does not exist (the model has " +
                  std::to_string(n) + ": 0.." + std::to_string(n - 1) + ")");
    out.push_back(i);
  }
  if (out.empty()) throw Error(std::string(what) + "s: an empty list captures nothing");
  return out;
}

pyb::tuple run_with_cache(ModelHandle& h, const pyb::handle& tokens,
                          std::optional<std::vector<int>> layers,
                          std::optional<std::vector<int>> heads,
                          std::optional<std::vector<std::string>> names) {
  const ModelConfig& c = h.config();
  if (c.input_dim > 0)
    throw Error("this is a continuous-input model: run_with_cache takes token models only");
  TokenBatch tb = token_batch(tokens, h.opened.tokenizer.get(), c.vocab_size, c.context);
  std::set<std::string> wanted;
  for (const std::string& n : names ? *names : kNames) {
    if (std::find(kNames.begin(), kNames.end(), n) == kNames.end()) {
      std::string known;
      for (const std::string& k : kNames) known += (known.empty() ? "" : ", ") + k;
      throw Error("no activation named '" + n + "' (known: " + known + ")");
    }
    wanted.insert(n);
  }
  CacheObserver obs(c.n_layers, c.d_model, chosen(layers, c.n_layers, "layer"),
                    chosen(heads, c.n_heads, "head"), wanted);
  std::vector<float> logits;
  {
    pyb::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(h.mu);
    Transformer& model = h.model();
    model.add_observer(&obs);
    try {
      logits = model.forward(tb.ids.data(), tb.B, tb.T).data;
    } catch (...) {
      model.remove_observer(&obs);
      throw;
    }
    model.remove_observer(&obs);
  }
  pyb::dict cache;
  for (auto& [key, cap] : obs.out)
    cache[pyb::make_tuple(key.first, key.second)] = owned_array(std::move(cap.data), cap.shape);
  return pyb::make_tuple(owned_array(std::move(logits), {tb.B, tb.T, c.vocab_size}), cache);
}

}  // namespace

void bind_cache(pyb::module_& m) {
  // Model is bound in bind_model.cpp; the Python wrapper (attnlab/cache.py) makes the dict an
  // ActivationCache.
  m.def("_run_with_cache", &run_with_cache, pyb::arg("model"), pyb::arg("tokens"),
        pyb::arg("layers") = pyb::none(), pyb::arg("heads") = pyb::none(),
        pyb::arg("names") = pyb::none());
  m.attr("CACHE_NAMES") = kNames;
}

}  // namespace attnlab::py
