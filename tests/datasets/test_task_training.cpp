// Training checks from issue 6: small softmax transformers learn the published tasks within a
// CPU budget, and their attention shows the published mechanism. The Bigram-Backcopy budget
// (300 steps) shows the active head (trigger queries on t-1); the BOS sink of dormant
// queries needs far longer training (Guo et al. train 10k+ steps) and is reported, not asserted.
#include <catch2/catch.hpp>

#include "core/model/transformer.h"
#include "core/train/trainer.h"
#include "datasets/bigram_backcopy.h"
#include "datasets/mqar.h"

using namespace attnlab;

namespace {

ModelConfig small_model(int vocab, int context, int layers, int d, int heads) {
  ModelConfig c = preset_config("tiny");  // Llama-style: RoPE, RMSNorm, SwiGLU
  c.vocab_size = vocab;
  c.context = context;
  c.n_layers = layers;
  c.d_model = d;
  c.n_heads = heads;
  c.n_kv_heads = heads;
  c.d_ff = 2 * d;
  return c;
}

// Mean attention of trigger queries on t-1 and of non-trigger queries on BOS (Guo et al.'s
// active / dormant split), over every head of every layer.
struct BackcopyAttention : ForwardObserver {
  const Batch* batch = nullptr;
  const BigramBackcopyTask* task = nullptr;
  double trigger_prev = 0, trigger_bos = 0, other_bos = 0, other_prev = 0;
  int64_t n_trigger = 0, n_other = 0;
  void on_attention(const LayerAttentionView& v) override {
    const AttnShape& s = v.inputs->shape;
    for (int b = 0; b < s.B; ++b)
      for (int h = 0; h < s.H; ++h)
        v.attention->pattern(*v.inputs, b, h, [&](int t, const float* row) {
          if (t < 2) return;
          if (task->is_trigger(batch->tokens[size_t(b) * s.T + t])) {
            trigger_prev += row[t - 1];
            trigger_bos += row[0];
            ++n_trigger;
          } else {
            other_bos += row[0];
            other_prev += row[t - 1];
            ++n_other;
          }
        });
  }
};

}  // namespace

TEST_CASE("a 1-layer softmax model learns the Bigram-Backcopy rule", "[train]") {
  BigramBackcopyConfig tc_cfg;
  tc_cfg.len = 64;
  tc_cfg.batch = 32;
  tc_cfg.seed = 1;
  BigramBackcopyTask train(tc_cfg);
  tc_cfg.seed = 2;
  tc_cfg.batch = 64;
  BigramBackcopyTask eval(tc_cfg);

  Transformer model(small_model(train.vocab_size(), 64, 1, 64, 1));
  model.init_weights(1);
  TrainConfig tc;
  tc.steps = 300;
  tc.lr = 3e-3f;
  tc.warmup = 30;
  tc.weight_decay = 0.0f;
  tc.eval_every = 0;
  Trainer trainer(model, tc, train, nullptr);
  trainer.run();

  Batch batch;
  eval.next(batch);
  BackcopyAttention probe;
  probe.batch = &batch;
  probe.task = &eval;
  model.add_observer(&probe);
  std::vector<TaskMetric> m = eval.score(batch, model.forward(batch.tokens.data(), batch.B, batch.T));
  model.remove_observer(&probe);
  const double trig_prev = probe.trigger_prev / probe.n_trigger;
  const double other_bos = probe.other_bos / probe.n_other;
  INFO("backcopy accuracy " << m[0].value << " over " << m[0].count << " triggers; attention: "
       << "trigger->t-1 " << trig_prev << ", trigger->BOS " << probe.trigger_bos / probe.n_trigger
       << ", non-trigger->BOS " << other_bos << ", non-trigger->t-1 "
       << probe.other_prev / probe.n_other);
  CHECK(m[0].value > 0.9);
  // The only way one layer can copy x[t-1] is to attend to it.
  CHECK(trig_prev > 0.5);
  WARN("bigram_backcopy: backcopy accuracy " << m[0].value << "; trigger->t-1 " << trig_prev
       << ", non-trigger->BOS " << other_bos);
}

// About 20 s on 2 otherwise idle cores (minutes when other builds share them). Models first
// sit on the ln(4) plateau (uniform over the 4 in-context values, accuracy ~0.25); V = 66 (the smallest vocabulary Zoology's
// V > L allows), batch 64 and a constant lr after warmup left it by step 300 (0.81) in tuning
// runs, while V = 80-128 at batch 32, or a cosine-decayed lr over 600 steps, did not. This
// config measured 0.998 accuracy over 1024 held-out queries.
TEST_CASE("a 2-layer softmax model solves MQAR (L=64, 4 pairs) above 0.9", "[train]") {
  MqarConfig c;
  c.vocab = 66;
  c.len = 64;
  c.kv = 4;
  c.batch = 64;
  c.seed = 1;
  MqarTask train(c);
  c.seed = 2;
  c.batch = 256;
  MqarTask eval(c);

  ModelConfig mc = small_model(c.vocab, 64, 2, 64, 2);
  mc.d_ff = 4 * mc.d_model;
  Transformer model(mc);
  model.init_weights(1);
  TrainConfig tc;
  tc.steps = 500;
  tc.lr = 3e-3f;
  tc.warmup = 300;
  tc.min_lr_ratio = 1.0f;  // constant after warmup: a decaying lr stalls on the plateau
  tc.weight_decay = 0.0f;
  tc.eval_every = 0;
  Trainer trainer(model, tc, train, nullptr);
  trainer.run();

  Batch batch;
  eval.next(batch);
  std::vector<TaskMetric> m = eval.score(batch, model.forward(batch.tokens.data(), batch.B, batch.T));
  INFO("MQAR accuracy " << m[0].value << " over " << m[0].count << " queries");
  CHECK(m[0].value > 0.9);
  WARN("mqar: accuracy " << m[0].value << " over " << m[0].count << " queries");
}
