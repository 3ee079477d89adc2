#include "gui/attention_capture.h"

#include "core/model/observer.h"
#include "core/tensor/error.h"

namespace attnlab::gui {
namespace {

class InputCopier : public ForwardObserver {
 public:
  InputCopier(int n_layers, int d_model, const std::atomic<bool>* cancel,
              const std::function<void(double)>& progress)
      : n_layers_(n_layers), d_model_(d_model), cancel_(cancel), progress_(progress) {}

  struct Copy {
    AttnShape shape;
    std::vector<float> q, k, v, x;
  };
  std::vector<Copy> layers;

  void on_attention(const LayerAttentionView& view) override {
    const AttnInputs& in = *view.inputs;
    if (int(layers.size()) <= view.layer) layers.resize(view.layer + 1);
    Copy& c = layers[view.layer];
    c.shape = in.shape;
    const size_t n = size_t(in.shape.numel());
    c.q.assign(in.q, in.q + n);
    c.k.assign(in.k, in.k + n);
    c.v.assign(in.v, in.v + n);
    if (in.x) c.x.assign(in.x, in.x + size_t(in.shape.B) * in.shape.T * d_model_);
    if (progress_) progress_(double(view.layer + 1) / n_layers_);
    if (cancel_ && cancel_->load()) throw Cancelled{};
  }

 private:
  int n_layers_, d_model_;
  const std::atomic<bool>* cancel_;
  const std::function<void(double)>& progress_;
};

}  // namespace

std::shared_ptr<const CapturedForward> CapturedForward::run(
    std::shared_ptr<Transformer> model, const std::vector<int32_t>& tokens,
    const std::atomic<bool>* cancel, const std::function<void(double)>& progress) {
  if (tokens.empty()) throw Error("the prompt is empty: type some text first");
  const ModelConfig& cfg = model->config();
  if (int(tokens.size()) > cfg.context)
    throw Error("the prompt has " + std::to_string(tokens.size()) +
                " tokens but the model's context is " + std::to_string(cfg.context));
  InputCopier copier(cfg.n_layers, cfg.d_model, cancel, progress);
  model->add_observer(&copier);
  try {
    model->forward(tokens.data(), 1, int(tokens.size()));
  } catch (...) {
    model->remove_observer(&copier);
    throw;
  }
  model->remove_observer(&copier);

  auto out = std::shared_ptr<CapturedForward>(new CapturedForward());
  out->model_ = std::move(model);
  out->tokens_ = tokens;
  out->n_heads_ = cfg.n_heads;
  for (auto& c : copier.layers)
    out->layers_.push_back({c.shape, std::move(c.q), std::move(c.k), std::move(c.v), std::move(c.x)});
  return out;
}

void CapturedForward::check_head(int layer, int head) const {
  if (layer < 0 || layer >= n_layers() || head < 0 || head >= n_heads_)
    throw Error("no head L" + std::to_string(layer) + "H" + std::to_string(head) + ": the model has " +
                std::to_string(n_layers()) + " layers x " + std::to_string(n_heads_) + " heads");
}

void CapturedForward::stream_rows(int layer, int head, const RowVisitor& visit) const {
  check_head(layer, head);
  const Layer& l = layers_[layer];
  AttnInputs in{l.shape, l.q.data(), l.k.data(), l.v.data(), l.x.empty() ? nullptr : l.x.data()};
  model_->attention(layer).pattern(in, 0, head, visit);
}

void CapturedForward::stream_selections(int layer, int head, const std::vector<SparseSelector*>& selectors,
                                        const SelectionVisitor& visit) const {
  check_head(layer, head);
  const Layer& l = layers_[layer];
  AttnInputs in{l.shape, l.q.data(), l.k.data(), l.v.data(), l.x.empty() ? nullptr : l.x.data()};
  const KeyMask m = mask(layer);
  SelectionRun run;
  run.attention = &model_->attention(layer);
  run.inputs = &in;
  run.h = head;
  run.mask = &m;
  attnlab::stream_selections(run, selectors, visit);
}

KeyMask CapturedForward::mask(int layer) const {
  KeyMask m = KeyMask::from_spec(attention_spec(layer));
  m.prepare(T());
  return m;
}

std::string CapturedForward::attention_spec(int layer) const { return model_->attention(layer).spec(); }

bool CapturedForward::normalized_rows(int layer) const {
  return model_->attention(layer).normalized_rows();
}

HeadPattern CapturedForward::pattern(int layer, int head) const {
  HeadPattern p;
  p.layer = layer;
  p.head = head;
  p.T = T();
  p.w.assign(size_t(p.T) * p.T, 0.0f);
  p.mask = mask(layer);
  stream_rows(layer, head, [&](int t, const float* row) {
    std::copy(row, row + t + 1, p.w.begin() + size_t(t) * p.T);
  });
  return p;
}

}  // namespace attnlab::gui
