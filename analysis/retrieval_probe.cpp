// Retrieval score (Wu et al. 2024, REFERENCE 2.1 and 8.4), following retrieval_head_detection.py:
// greedy decoding; at each step, for each head, the top-1 attended position of the new query;
// a copy-paste when it lies in the answer span and the generated token equals the prompt token
// there, worth 1/|answer span|; trials kept only when ROUGE-1 recall(answer, response) > 50%;
// head score = mean over kept trials; retrieval heads have score > 0.1.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "analysis/probes.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tokenizer/tokenizer.h"
#include "datasets/text_corpus.h"

namespace attnlab {

namespace {

// Top-1 key of the last query row of batch item 0, per (layer, head).
struct LastRowTop1 : ForwardObserver {
  int H = 0;
  std::vector<int> top;  // [L*H]
  void on_attention(const LayerAttentionView& view) override {
    const AttnInputs& in = *view.inputs;
    const int T = in.shape.T;
    const bool signed_rows = !view.attention->normalized_rows();
    for (int h = 0; h < H; ++h) {
      int best = 0;
      view.attention->pattern(in, 0, h, [&](int t, const float* row) {
        if (t != T - 1) return;
        float bv = -1e30f;
        for (int j = 0; j <= t; ++j) {
          const float a = signed_rows ? std::fabs(row[j]) : row[j];
          if (a > bv) {
            bv = a;
            best = j;
          }
        }
      });
      top[size_t(view.layer) * H + h] = best;
    }
  }
};

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::string w;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      w += char(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      out.push_back(w);
      w.clear();
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}

}  // namespace

// ROUGE-1 recall of `reference` words found in `response` (clipped unigram counts).
double rouge1_recall(const std::string& reference, const std::string& response) {
  std::vector<std::string> ref = words(reference), got = words(response);
  if (ref.empty()) return 0;
  std::map<std::string, int> avail;
  for (const auto& w : got) ++avail[w];
  int hit = 0;
  for (const auto& w : ref)
    if (avail[w] > 0) {
      --avail[w];
      ++hit;
    }
  return double(hit) / double(ref.size());
}

HeadTable retrieval_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  if (!vocab.tokenizer) throw Error("retrieval probe: needs the model's tokenizer (this checkpoint has none)");
  const Tokenizer& tok = *vocab.tokenizer;
  const ModelConfig& cfg = model.config();
  const bool bos = resolve_bos(opt.bos, vocab);
  std::vector<int32_t> needle = tok.encode(opt.needle, false);
  std::vector<int32_t> answer = tok.encode(opt.needle_answer, false);
  std::vector<int32_t> question = tok.encode(opt.question, false);
  if (answer.empty() || needle.size() < answer.size())
    throw Error("retrieval probe: the answer must be a part of the needle");
  // Locate the answer in the needle by set overlap of a sliding window (> 0.9, as Wu et al.).
  int span_off = -1;
  double best = 0;
  std::set<int32_t> aset(answer.begin(), answer.end());
  for (size_t i = 0; i + answer.size() <= needle.size(); ++i) {
    std::set<int32_t> w(needle.begin() + int64_t(i), needle.begin() + int64_t(i + answer.size()));
    int common = 0;
    for (int32_t x : w) common += int(aset.count(x));
    double overlap = double(common) / double(aset.size());
    if (overlap > best) {
      best = overlap;
      span_off = int(i);
    }
  }
  if (best <= 0.9) throw Error("retrieval probe: cannot find the answer '" + opt.needle_answer + "' in the needle's tokens");
  const int max_new = std::max(1, opt.max_new);
  int hay_len = opt.haystack_tokens > 0
                    ? opt.haystack_tokens
                    : std::min(1000, cfg.context - int(needle.size() + question.size()) - (bos ? 1 : 0) - max_new);
  if (hay_len < 1 || hay_len + int(needle.size() + question.size()) + (bos ? 1 : 0) >= cfg.context)
    throw Error("retrieval probe: the needle and question do not fit in the context (" + std::to_string(cfg.context) + ")");
  std::string text = read_text_file(opt.corpus);
  strip_gutenberg(text);
  std::vector<int32_t> hay = tok.encode(text.substr(0, std::min(text.size(), size_t(hay_len) * 16 + 64)), false);
  if (int(hay.size()) < hay_len) throw Error("retrieval probe: corpus too short for the haystack");
  hay.resize(size_t(hay_len));

  const int L = cfg.n_layers, H = cfg.n_heads;
  LastRowTop1 top;
  top.H = H;
  top.top.assign(size_t(L) * H, 0);
  std::vector<double> score_sum(size_t(L) * H, 0.0);
  int accepted = 0;
  std::string responses;
  model.add_observer(&top);
  try {
    for (double depth : opt.depths) {
      // Insert at the depth, moved back to just after a sentence end (Wu et al.).
      int pre = int(std::lround(std::clamp(depth, 0.0, 1.0) * hay_len));
      for (int p = pre; p > 0; --p) {
        std::string s = tok.decode_token(hay[size_t(p - 1)]);
        if (!s.empty() && (s.back() == '.' || s.back() == '\n')) {
          pre = p;
          break;
        }
      }
      std::vector<int32_t> seq;
      if (bos) seq.push_back(vocab.bos);
      seq.insert(seq.end(), hay.begin(), hay.begin() + pre);
      const int span_begin = int(seq.size()) + span_off;
      const int span_end = span_begin + int(answer.size());
      seq.insert(seq.end(), needle.begin(), needle.end());
      seq.insert(seq.end(), hay.begin() + pre, hay.end());
      seq.insert(seq.end(), question.begin(), question.end());
      const size_t prompt_len = seq.size();
      std::vector<double> trial(size_t(L) * H, 0.0);
      std::vector<int32_t> gen;
      for (int step = 0; step < max_new && int(seq.size()) < cfg.context; ++step) {
        const Tensor& logits = model.forward(seq.data(), 1, int(seq.size()));
        const float* z = logits.ptr() + int64_t(seq.size() - 1) * cfg.vocab_size;
        const int32_t next = int32_t(std::max_element(z, z + cfg.vocab_size) - z);
        if (next == vocab.eos || next == vocab.bos) break;
        for (size_t k = 0; k < trial.size(); ++k) {
          const int i = top.top[k];
          if (i >= span_begin && i < span_end && seq[size_t(i)] == next) trial[k] += 1.0 / double(answer.size());
        }
        const std::string piece = tok.decode_token(next);
        if (piece.find('\n') != std::string::npos) break;  // Wu et al. stop at a newline
        seq.push_back(next);
        gen.push_back(next);
      }
      const std::string response = tok.decode(gen);
      responses += (responses.empty() ? "" : " | ") + response;
      if (rouge1_recall(opt.needle_answer, response) > 0.5) {
        ++accepted;
        for (size_t k = 0; k < trial.size(); ++k) score_sum[k] += trial[k];
      }
      (void)prompt_len;
    }
  } catch (...) {
    model.remove_observer(&top);
    throw;
  }
  model.remove_observer(&top);

  HeadTable t(L, H);
  int heads = 0;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) {
      const double s = accepted ? score_sum[size_t(l) * H + h] / accepted : 0.0;
      t.set("retrieval_score", l, h, s);
      heads += s > opt.retrieval_threshold;
    }
  t.set_scalar("trials", double(opt.depths.size()));
  t.set_scalar("accepted_trials", accepted);
  t.set_scalar("retrieval_heads", heads);
  t.set_scalar("retrieval_heads_pct", 100.0 * heads / (L * H));
  t.set_meta("probe", "retrieval");
  t.set_meta("needle", opt.needle);
  t.set_meta("answer", opt.needle_answer);
  t.set_meta("question", opt.question);
  t.set_meta("haystack", opt.corpus + " (" + std::to_string(hay_len) + " tokens)");
  t.set_meta("responses", responses);
  t.set_meta("bos", bos ? "prepend" : "none");
  return t;
}

}  // namespace attnlab
