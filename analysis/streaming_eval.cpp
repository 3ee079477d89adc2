#include "analysis/streaming_eval.h"

#include "core/attention/attention.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"

namespace attnlab {

std::string streaming_spec(const std::string& spec, int window, int sinks) {
  return spec + "+window(size=" + std::to_string(window) + ",sinks=" + std::to_string(sinks) + ")";
}

ScopedStreamingWindow::ScopedStreamingWindow(Transformer& model, int window, int sinks)
    : model_(model) {
  if (window < 1 || sinks < 0) throw Error("streaming window: need window >= 1 and sinks >= 0");
  const ModelConfig& mc = model.config();
  try {
    for (int l = 0; l < mc.n_layers; ++l) {
      Attention& old = model.attention(l);
      std::unique_ptr<Attention> w =
          make_attention(streaming_spec(old.spec(), window, sinks), mc.attention_context(l));
      // Same variant, same parameters (sink logits, gates, ...): only the mask differs.
      std::vector<Param> from = old.params(), to = w->params();
      if (from.size() != to.size())
        throw Error("streaming window: '" + w->spec() + "' changes the parameters");
      for (size_t i = 0; i < from.size(); ++i) {
        if (from[i].value->numel() != to[i].value->numel())
          throw Error("streaming window: parameter " + from[i].name + " changes shape");
        std::copy(from[i].value->ptr(), from[i].value->ptr() + from[i].value->numel(),
                  to[i].value->ptr());
      }
      originals_.push_back(model.swap_attention(l, std::move(w)));
    }
  } catch (...) {
    for (size_t l = 0; l < originals_.size(); ++l)
      model_.swap_attention(int(l), std::move(originals_[l]));
    throw;
  }
}

ScopedStreamingWindow::~ScopedStreamingWindow() {
  for (size_t l = 0; l < originals_.size(); ++l)
    model_.swap_attention(int(l), std::move(originals_[l]));
}

double positional_loss(Transformer& model, const std::vector<Batch>& batches, int from_pos) {
  double sum = 0, weight = 0;
  for (const Batch& b : batches) {
    if (b.in_dim > 0) throw Error("streaming loss needs a token task");
    model.forward_loss(b);
    const float* nll = model.token_losses().ptr();
    for (int i = 0; i < b.B; ++i)
      for (int t = from_pos; t < b.T; ++t) {
        const size_t k = size_t(i) * b.T + t;
        sum += double(b.mask[k]) * nll[k];
        weight += b.mask[k];
      }
  }
  if (weight <= 0)
    throw Error("streaming loss: no scored position at or after " + std::to_string(from_pos));
  return sum / weight;
}

StreamingLosses streaming_losses(Transformer& model, const std::vector<Batch>& batches, int window,
                                 int sinks) {
  StreamingLosses r;
  r.dense = positional_loss(model, batches, window);
  {
    ScopedStreamingWindow w(model, window, 0);
    r.window = positional_loss(model, batches, window);
  }
  {
    ScopedStreamingWindow w(model, window, sinks);
    r.sinks = positional_loss(model, batches, window);
  }
  return r;
}

}  // namespace attnlab
