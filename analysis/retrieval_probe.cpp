// Retrieval score (Wu et al. 2024, REFERENCE 2.1 and 8.4), following retrieval_head_detection.py:
// greedy decoding; at each step, for each head, the top-1 attended position of the new query;
// a copy-paste when it lies in the answer span and the generated token equals the prompt token
// there, worth 1/|answer span|; trials kept only when ROUGE-1 recall(answer, response) > 50%;
// head score = mean over kept trials (undefined when none is kept); retrieval heads have score
// > 0.1. Trials: a grid of haystack lengths x needle depths over corpus text, or a needle task.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <memory>
#include <map>
#include <set>

#include "analysis/ablation.h"
#include "analysis/probes.h"
#include "core/model/transformer.h"
#include "core/tensor/error.h"
#include "core/tokenizer/tokenizer.h"
#include "datasets/task_registry.h"
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

namespace {

// One needle trial: the prompt to decode from, the span of the prompt that holds the answer (where
// copy-paste attention must land), and the answer itself.
struct Trial {
  std::vector<int32_t> prompt;
  Span span;
  std::vector<int32_t> answer;
  int length = 0;  // haystack tokens (text mode), for the per-length acceptance grid
};

// ROUGE-1 recall on token ids (clipped counts): task mode's trial filter.
double token_recall(const std::vector<int32_t>& ref, const std::vector<int32_t>& got) {
  if (ref.empty()) return 0;
  std::map<int32_t, int> avail;
  for (int32_t x : got) ++avail[x];
  int hit = 0;
  for (int32_t x : ref)
    if (avail[x] > 0) {
      --avail[x];
      ++hit;
    }
  return double(hit) / double(ref.size());
}

// Where the answer's tokens sit inside the needle's: the window with set overlap > 0.9 (Wu et al.).
int locate_answer(const std::vector<int32_t>& needle, const std::vector<int32_t>& answer, const std::string& what) {
  int span_off = -1;
  double best = 0;
  std::set<int32_t> aset(answer.begin(), answer.end());
  for (size_t i = 0; i + answer.size() <= needle.size(); ++i) {
    std::set<int32_t> w(needle.begin() + int64_t(i), needle.begin() + int64_t(i + answer.size()));
    int common = 0;
    for (int32_t x : w) common += int(aset.count(x));
    const double overlap = double(common) / double(aset.size());
    if (overlap > best) {
      best = overlap;
      span_off = int(i);
    }
  }
  if (best <= 0.9) throw Error("retrieval probe: cannot find the answer '" + what + "' in the needle's tokens");
  return span_off;
}

// Text mode: the needle sentence at each depth of haystacks of each length, each haystack from a
// random line start of the corpus (seeded per length), the question appended.
std::vector<Trial> text_trials(const Tokenizer& tok, const VocabInfo& vocab, int context, const ProbeOptions& opt,
                               bool bos, int max_new, std::vector<int>& lengths) {
  const std::vector<int32_t> needle = tok.encode(opt.needle, false);
  const std::vector<int32_t> answer = tok.encode(opt.needle_answer, false);
  if (answer.empty() || needle.size() < answer.size())
    throw Error("retrieval probe: the answer must be a part of the needle");
  const int span_off = locate_answer(needle, answer, opt.needle_answer);
  std::vector<int32_t> question;
  if (opt.question_style == "ask") question = tok.encode(opt.question, false);
  else if (opt.question_style == "copy_cue") question.assign(needle.begin(), needle.begin() + span_off);
  else throw Error("retrieval probe: question style '" + opt.question_style + "' is unknown; use ask or copy_cue");
  const int fixed = int(needle.size() + question.size()) + (bos ? 1 : 0) + max_new;
  const int fit = std::min(1000, context - fixed);
  if (fit < 8)
    throw Error("retrieval probe: the needle, question and answer budget (" + std::to_string(fixed) +
                " tokens) leave no room for a haystack in the context (" + std::to_string(context) + ")");
  lengths = opt.haystack_lengths;
  if (lengths.empty()) lengths = {std::max(8, fit / 4), std::max(8, fit / 2), fit};
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  std::vector<Trial> trials;
  for (size_t li = 0; li < lengths.size(); ++li) {
    const int len = lengths[li];
    if (len < 1 || len > context - fixed)
      throw Error("retrieval probe: haystack length " + std::to_string(len) + " does not fit the context (" +
                  std::to_string(context) + ") beside " + std::to_string(fixed) + " tokens of needle, question and answer");
    const auto hays = natural_sequences(vocab, opt.corpus, int(opt.depths.size()), len, false, opt.seed + 7919 * li);
    for (size_t d = 0; d < opt.depths.size(); ++d) {
      const std::vector<int32_t>& hay = hays[d];
      // Insert at the depth, moved back to just after a sentence end (Wu et al.).
      int pre = int(std::lround(std::clamp(opt.depths[d], 0.0, 1.0) * len));
      for (int p = pre; p > 0; --p) {
        const std::string piece = tok.decode_token(hay[size_t(p - 1)]);
        if (!piece.empty() && (piece.back() == '.' || piece.back() == '\n')) {
          pre = p;
          break;
        }
      }
      Trial t;
      t.length = len;
      if (bos) t.prompt.push_back(vocab.bos);
      t.prompt.insert(t.prompt.end(), hay.begin(), hay.begin() + pre);
      t.span = Span{int(t.prompt.size()) + span_off, int(t.prompt.size()) + span_off + int(answer.size())};
      t.prompt.insert(t.prompt.end(), needle.begin(), needle.end());
      t.prompt.insert(t.prompt.end(), hay.begin() + pre, hay.end());
      t.prompt.insert(t.prompt.end(), question.begin(), question.end());
      t.answer = answer;
      trials.push_back(std::move(t));
    }
  }
  return trials;
}

// Task mode: sequences of a needle task, cut before the answer; the needle's value is the span.
std::vector<Trial> task_trials(const std::string& spec, int n, int context, uint64_t seed) {
  std::unique_ptr<Task> task = make_task(spec);
  if (task->name() != "needle") throw Error("retrieval probe: task '" + spec + "' is not a needle task");
  if (task->seq_len() > context)
    throw Error("retrieval probe: the task's sequences (" + std::to_string(task->seq_len()) +
                " tokens) exceed the context (" + std::to_string(context) + ")");
  task->seek(int64_t(seed));
  std::vector<Trial> trials;
  Batch batch;
  while (int(trials.size()) < n) {
    task->next(batch);
    for (int b = 0; b < batch.B && int(trials.size()) < n; ++b) {
      const SampleMeta& m = task->meta()[size_t(b)];
      if (m.query_positions.empty() || m.needle_value.empty()) continue;
      const int first = m.query_positions.front();  // its target is the answer's first token
      const int32_t* x = batch.tokens.data() + int64_t(b) * batch.T;
      const int32_t* y = batch.targets.data() + int64_t(b) * batch.T;
      Trial t;
      t.prompt.assign(x, x + first + 1);
      for (int p : m.query_positions) t.answer.push_back(y[p]);
      t.span = m.needle_value;
      t.length = m.query_positions.back() + 1;  // the sample's own (needle len_min)
      trials.push_back(std::move(t));
    }
  }
  return trials;
}

}  // namespace

HeadTable retrieval_probe(Transformer& model, const VocabInfo& vocab, const ProbeOptions& opt) {
  const bool task_mode = !opt.retrieval_task.empty();
  if (!task_mode && !vocab.tokenizer)
    throw Error("retrieval probe: text needles need the model's tokenizer (this checkpoint has none); a model "
                "trained on a needle task takes its task's sequences (retrieval_task)");
  if (!task_mode && opt.corpus.empty())
    throw Error("retrieval probe: the haystack is corpus text, and none is given (the checkpoint records no "
                "training corpus): pass --corpus, e.g. corpora/tinyshakespeare/input.txt");
  const ModelConfig& cfg = model.config();
  const bool bos = !task_mode && resolve_bos(opt.bos, vocab);
  std::vector<int> lengths;
  int max_new = 0;
  std::vector<Trial> trials;
  if (task_mode) {
    trials = task_trials(opt.retrieval_task, std::max(1, opt.retrieval_trials), cfg.context, opt.seed);
  } else {
    const int answer_len = int(vocab.tokenizer->encode(opt.needle_answer, false).size());
    max_new = opt.max_new > 0 ? opt.max_new : answer_len + 8;
    trials = text_trials(*vocab.tokenizer, vocab, cfg.context, opt, bos, max_new, lengths);
  }

  const int L = cfg.n_layers, H = cfg.n_heads;
  LastRowTop1 top;
  top.H = H;
  top.top.assign(size_t(L) * H, 0);
  std::vector<double> score_sum(size_t(L) * H, 0.0);
  std::map<int, std::pair<int, int>> grid;  // length -> (accepted, trials)
  int accepted = 0;
  double recall_sum = 0;
  std::string responses;
  model.add_observer(&top);
  try {
    for (const Trial& trial : trials) {
      std::vector<int32_t> seq = trial.prompt;
      std::vector<double> score(size_t(L) * H, 0.0);
      std::vector<int32_t> gen;
      const int budget = task_mode ? int(trial.answer.size()) : max_new;
      // The forward runs over seq, which may fill the context (a task's last answer token is
      // predicted from all T inputs).
      for (int step = 0; step < budget && int(seq.size()) <= cfg.context; ++step) {
        const Tensor& logits = model.forward(seq.data(), 1, int(seq.size()));
        const float* z = logits.ptr() + int64_t(seq.size() - 1) * cfg.vocab_size;
        const int32_t next = int32_t(std::max_element(z, z + cfg.vocab_size) - z);
        if (!task_mode && (next == vocab.eos || next == vocab.bos)) break;
        for (size_t k = 0; k < score.size(); ++k) {
          const int i = top.top[k];
          if (trial.span.contains(i) && seq[size_t(i)] == next) score[k] += 1.0 / double(trial.span.size());
        }
        if (!task_mode && vocab.tokenizer->decode_token(next).find('\n') != std::string::npos) break;  // Wu et al. stop at a newline
        seq.push_back(next);
        gen.push_back(next);
      }
      const double recall = task_mode ? token_recall(trial.answer, gen)
                                      : rouge1_recall(opt.needle_answer, vocab.tokenizer->decode(gen));
      recall_sum += recall;
      if (!task_mode) responses += (responses.empty() ? "" : " | ") + vocab.tokenizer->decode(gen);
      auto& cell = grid[trial.length];
      ++cell.second;
      if (recall > 0.5) {
        ++accepted;
        ++cell.first;
        for (size_t k = 0; k < score.size(); ++k) score_sum[k] += score[k];
      }
    }
  } catch (...) {
    model.remove_observer(&top);
    throw;
  }
  model.remove_observer(&top);

  HeadTable t(L, H);
  int heads = 0;
  std::string head_list;
  for (int l = 0; l < L; ++l)
    for (int h = 0; h < H; ++h) {
      const double s = accepted ? score_sum[size_t(l) * H + h] / accepted : std::numeric_limits<double>::quiet_NaN();
      t.set("retrieval_score", l, h, s);
      if (s > opt.retrieval_threshold) {
        ++heads;
        head_list += (head_list.empty() ? "" : ",") + HeadRef{l, h}.str();
      }
    }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  t.set_scalar("trials", double(trials.size()));
  t.set_scalar("accepted_trials", accepted);
  t.set_scalar("answer_recall", trials.empty() ? nan : recall_sum / double(trials.size()));
  t.set_scalar("retrieval_heads", accepted ? heads : nan);
  t.set_scalar("retrieval_heads_pct", accepted ? 100.0 * heads / (L * H) : nan);
  t.set_meta("probe", "retrieval");
  t.set_meta("retrieval_head_list", head_list);
  std::string g;
  for (const auto& [len, c] : grid)
    g += (g.empty() ? "" : ", ") + std::to_string(len) + " tokens: " + std::to_string(c.first) + "/" + std::to_string(c.second);
  t.set_meta("grid", "accepted/trials per haystack length: " + g);
  if (!accepted) t.set_meta("retrieval_note", "no trial was accepted (answer recall <= 0.5 in every trial): scores are undefined");
  if (task_mode) {
    t.set_meta("task", opt.retrieval_task);
  } else {
    std::string depths;
    for (double d : opt.depths) depths += (depths.empty() ? "" : ",") + std::to_string(d).substr(0, 4);
    t.set_meta("depths", depths);
    t.set_meta("needle", opt.needle);
    t.set_meta("answer", opt.needle_answer);
    t.set_meta("question", opt.question_style == "ask" ? opt.question : "copy_cue (the needle up to the answer)");
    t.set_meta("question_style", opt.question_style);
    t.set_meta("haystack", opt.corpus);
    t.set_meta("responses", responses);
    t.set_meta("bos", bos ? "prepend" : "none");
  }
  return t;
}

}  // namespace attnlab
