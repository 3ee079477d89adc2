#include "datasets/needle.h"

#include <algorithm>
#include <cmath>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/task_registry.h"

namespace attnlab {

NeedleTask::NeedleTask(const NeedleConfig& cfg)
    : SeededTask(cfg.seed, cfg.batch, cfg.len), cfg_(cfg) {
  auto fail = [](const std::string& m) { throw Error("needle: " + m); };
  if (cfg.batch < 1) fail("batch must be >= 1");
  if (cfg.key_len < 1 || cfg.value_len < 1) fail("key_len and value_len must be >= 1");
  if (cfg.depth > 1) fail("depth must be in [0, 1], or < 0 for a random depth per sample");
  if (cfg.distractors < 0) fail("distractors must be >= 0");
  const int shortest = cfg.len_min > 0 ? cfg.len_min : cfg.len;
  if (cfg.len_min < 0 || cfg.len_min > cfg.len)
    fail("len_min must be in [0, len=" + std::to_string(cfg.len) + "], got " +
         std::to_string(cfg.len_min));
  if (haystack_len(shortest) < 1)
    fail((cfg.len_min > 0 ? "len_min=" : "len=") + std::to_string(shortest) +
         " leaves no haystack: needles and question take " +
         std::to_string(1 + (2 + cfg.distractors) * (1 + cfg.key_len + cfg.value_len)) +
         " tokens with BOS");
  if (cfg.haystack == "random") {
    if (cfg.vocab < 5) fail("vocab must be >= 5 (3 special tokens and 2 plain ones)");
    vocab_ = cfg.vocab;
  } else if (cfg.haystack == "text") {
    text_ = true;
    std::string text = read_text_file(cfg.corpus);
    strip_gutenberg(text);
    chars_ = CharVocab(text);
    corpus_ = chars_.encode(text);
    if (int64_t(corpus_.size()) < haystack_len())
      fail("corpus '" + cfg.corpus + "' is shorter than the haystack");
    bos_ = chars_.size();
    needle_ = bos_ + 1;
    question_ = bos_ + 2;
    vocab_ = bos_ + 3;
    for (char c = 'a'; c <= 'z'; ++c)
      if (int id = chars_.id_of(uint32_t(c)); id >= 0) key_alphabet_.push_back(id);
    if (key_alphabet_.size() < 2) fail("corpus has too few lowercase letters for keys");
  } else {
    fail("haystack='" + cfg.haystack + "' (expected random or text)");
  }
}

void NeedleTask::generate_row(Rng& rng, int32_t* tokens, int32_t* targets, float* mask,
                              SampleMeta& meta) {
  // The sample's own length; the row past it is unscored filler.
  const int T = cfg_.len_min > 0 ? cfg_.len_min + int(rng.below(T_ - cfg_.len_min + 1)) : T_;
  const int H = haystack_len(T), kl = cfg_.key_len, vl = cfg_.value_len;
  auto plain = [&]() -> int32_t {
    return text_ ? key_alphabet_[rng.below(int64_t(key_alphabet_.size()))]
                 : int32_t(first_plain_ + rng.below(vocab_ - first_plain_));
  };
  std::vector<int32_t> hay(H), key(kl), value(vl);
  if (text_) {
    int64_t off = rng.below(int64_t(corpus_.size()) - H + 1);
    std::copy(corpus_.begin() + off, corpus_.begin() + off + H, hay.begin());
  } else {
    for (int32_t& h : hay) h = plain();
  }
  auto key_occurs = [&]() {
    return std::search(hay.begin(), hay.end(), key.begin(), key.end()) != hay.end();
  };
  // The key must point at the needle only: redraw it while it occurs in the haystack.
  for (int attempt = 0;; ++attempt) {
    for (int32_t& k : key) k = plain();
    if (!key_occurs()) break;
    if (attempt == 100) {
      if (text_) throw Error("needle: cannot find a key absent from the haystack; raise key_len");
      // Random haystack: overwrite the accidental matches instead.
      for (auto it = std::search(hay.begin(), hay.end(), key.begin(), key.end()); it != hay.end();
           it = std::search(hay.begin(), hay.end(), key.begin(), key.end()))
        *it = plain();
      break;
    }
  }
  for (int32_t& v : value) v = plain();
  // Distractor needles: other keys, so that only the question's key finds the answer. A distractor
  // that contains the key anywhere (key' or value') is redrawn.
  struct Item {
    int at;
    std::vector<int32_t> tokens;
  };
  std::vector<Item> distractors;
  for (int d = 0; d < cfg_.distractors; ++d) {
    std::vector<int32_t> t(size_t(1 + kl + vl));
    for (int attempt = 0;; ++attempt) {
      t[0] = needle_;
      for (size_t i = 1; i < t.size(); ++i) t[i] = plain();
      if (std::search(t.begin(), t.end(), key.begin(), key.end()) == t.end()) break;
      if (attempt == 100)
        throw Error("needle: cannot draw a distractor without the key; raise key_len or vocab");
    }
    distractors.push_back({int(rng.below(H + 1)), std::move(t)});
  }

  int pre = cfg_.depth >= 0 ? int(std::lround(cfg_.depth * H)) : int(rng.below(H + 1));
  if (text_ && pre > 0 && pre < H) {
    // As in Retrieval_Head: insert at a sentence boundary, moving back to just after a '.'
    // (or a line end: verse has long stretches without a full stop).
    const int dot = chars_.id_of('.'), newline = chars_.id_of('\n');
    int p = pre;
    while (p > 0 && hay[p - 1] != dot && hay[p - 1] != newline) --p;
    if (p > 0) pre = p;
  }
  std::vector<int32_t> s;
  s.reserve(T_ + 1);
  s.push_back(bos_);
  int needle_begin = -1, needle_end = -1;
  for (int i = 0; i <= H; ++i) {  // before haystack token i: the needles placed there, then hay[i]
    for (const Item& d : distractors)
      if (d.at == i) s.insert(s.end(), d.tokens.begin(), d.tokens.end());
    if (i == pre) {
      needle_begin = int(s.size());
      s.push_back(needle_);
      s.insert(s.end(), key.begin(), key.end());
      s.insert(s.end(), value.begin(), value.end());
      needle_end = int(s.size());
    }
    if (i < H) s.push_back(hay[size_t(i)]);
  }
  s.push_back(question_);
  s.insert(s.end(), key.begin(), key.end());
  s.insert(s.end(), value.begin(), value.end());
  // s has T + 1 tokens; positions T - vl .. T - 1 predict the answer.
  while (int(s.size()) < T_ + 1) s.push_back(plain());
  for (int t = 0; t < T_; ++t) {
    tokens[t] = s[t];
    targets[t] = s[t + 1];
    const bool answer = t >= T - vl && t < T;
    mask[t] = (answer || (cfg_.mask_all && t < T)) ? 1.0f : 0.0f;
    if (answer) meta.query_positions.push_back(t);
  }
  meta.needle = Span{needle_begin, needle_end};
  meta.needle_value = Span{needle_end - vl, needle_end};
  meta.depth = H ? float(pre) / float(H) : 0.0f;
}

std::vector<TaskMetric> NeedleTask::score_rows(const Batch& batch,
                                               const std::vector<SampleMeta>& meta,
                                               const Tensor& logits) const {
  check_logits(batch, logits, vocab_, "needle");
  return {position_accuracy("accuracy", batch, meta, logits, &SampleMeta::query_positions),
          sequence_accuracy("exact_match", batch, meta, logits, &SampleMeta::query_positions)};
}

std::string NeedleTask::token_text(int id) const {
  if (id == bos_) return "<bos>";
  if (id == needle_) return "<needle>";
  if (id == question_) return "<q>";
  if (text_) return id >= 0 && id < chars_.size() ? chars_.char_text(id) : "<?>";
  return std::to_string(id);
}

std::string NeedleTask::describe() const {
  return "needle(haystack=" + cfg_.haystack + ",vocab=" + std::to_string(vocab_) +
         (text_ ? ",corpus=" + cfg_.corpus : std::string()) + ",len=" + std::to_string(cfg_.len) +
         ",key_len=" + std::to_string(cfg_.key_len) +
         ",value_len=" + std::to_string(cfg_.value_len) + ",depth=" + format_number(cfg_.depth) +
         ",mask_all=" + (cfg_.mask_all ? "true" : "false") +
         (cfg_.distractors ? ",distractors=" + std::to_string(cfg_.distractors) : std::string()) +
         (cfg_.len_min ? ",len_min=" + std::to_string(cfg_.len_min) : std::string()) +
         ",batch=" + std::to_string(cfg_.batch) + ",seed=" + std::to_string(cfg_.seed) + ")";
}

NeedleConfig NeedleTask::config_from(const TaskParams& p) {
  NeedleConfig c;
  c.haystack = p.str("haystack");
  c.vocab = int(p.integer("vocab"));
  c.corpus = p.str("corpus");
  c.len = int(p.integer("len"));
  c.len_min = int(p.integer("len_min"));
  c.key_len = int(p.integer("key_len"));
  c.value_len = int(p.integer("value_len"));
  c.depth = p.real("depth");
  c.mask_all = p.boolean("mask_all");
  c.distractors = int(p.integer("distractors"));
  c.batch = int(p.integer("batch"));
  c.seed = p.seed("seed");
  return c;
}

TaskInfo NeedleTask::info() {
  const NeedleConfig d;
  return TaskInfo{
      "needle",
      "needle in a haystack (small-model form of Retrieval_Head / gkamradt): a key->value needle "
      "at a chosen depth of a random or text haystack, then <q> key -> value",
      {
          {"haystack", d.haystack, "random (tokens) or text (chars of corpus)"},
          {"vocab", std::to_string(d.vocab), "random haystack vocabulary (3 specials included)"},
          {"corpus", d.corpus, "text haystack file (Gutenberg header stripped)"},
          {"len", std::to_string(d.len), "sequence length"},
          {"len_min", std::to_string(d.len_min),
           "> 0: each sample's length drawn from [len_min, len], the row's rest unscored filler "
           "(one model for every length)"},
          {"key_len", std::to_string(d.key_len), "key tokens"},
          {"value_len", std::to_string(d.value_len), "value (answer) tokens"},
          {"depth", format_number(d.depth), "needle depth in [0,1]; < 0: uniform per sample"},
          {"mask_all", d.mask_all ? "true" : "false", "loss on every position (else the answer)"},
          {"distractors", std::to_string(d.distractors),
           "more needles with other keys, at random depths"},
          {"batch", std::to_string(d.batch), "sequences per batch"},
          {"seed", std::to_string(d.seed), "random seed"},
      },
      [](const TaskParams& p) -> std::unique_ptr<Task> {
        return std::make_unique<NeedleTask>(config_from(p));
      }};
}

}  // namespace attnlab
