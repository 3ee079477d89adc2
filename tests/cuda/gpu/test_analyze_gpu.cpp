// `attnlab analyze --device cuda` against `--device cpu` on the real stories260K model: every
// probe that runs on the GPU (sink, induction with its loss, census, prompt) gives the CPU
// analyzer's numbers within float tolerance; long contexts run; the CLI records the device.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/probes.h"
#include "core/io/open_model.h"
#include "core/model/transformer.h"
#include "core/tokenizer/tokenizer.h"
#include "experiments/device/gpu_analysis.h"
#include "tests/experiments/fused_table_compare.h"
#include "tests/test_support.h"

using namespace attnlab;

namespace {

std::string shared(const std::string& rel) { return test::shared_file(rel).string(); }

OpenedModel& stories() {
  static OpenedModel m = open_model(shared("models/stories260K/stories260K.gguf"));
  return m;
}

VocabInfo stories_vocab() {
  return VocabInfo::from_tokenizer(*stories().tokenizer, stories().model->config().vocab_size);
}

// GPU statistics differ from the CPU's by float rounding; Sink_k indicators may flip for an
// alpha_k within rounding of eps (one flip = 1 / sequences).
test::FusedTolerance gpu_tolerance(int sequences) { return {1e-3, 1.0 / sequences + 1e-9}; }

}  // namespace

TEST_CASE("analyze --device cuda: sink probe matches the CPU on stories260K", "[gpu][analyze]") {
  Transformer& model = *stories().model;
  GpuAnalysis gpu(model);
  ProbeOptions opt;
  opt.n_seqs = 20, opt.T = 256;
  for (const std::string source : {"natural", "random", "repeated"}) {
    INFO(source);
    opt.source = source;
    const HeadTable cpu = sink_probe(model, stories_vocab(), opt);
    const HeadTable got = gpu.run_probe("sink", stories_vocab(), opt);
    test::check_fused_matches_cpu(got, cpu, gpu_tolerance(opt.n_seqs));
    CHECK(got.meta("device") == "cuda");
    CHECK(got.meta("probe") == "sink");
    CHECK(got.meta("source") == cpu.meta("source"));
    CHECK(got.meta("bos") == cpu.meta("bos"));
  }
}

TEST_CASE("analyze --device cuda: induction probe and loss match the CPU on stories260K", "[gpu][analyze]") {
  Transformer& model = *stories().model;
  GpuAnalysis gpu(model);
  ProbeOptions opt;
  const HeadTable cpu = induction_probe(model, stories_vocab(), opt);
  const HeadTable got = gpu.run_probe("induction", stories_vocab(), opt);
  test::check_fused_matches_cpu(got, cpu, gpu_tolerance(opt.samples));
  REQUIRE(got.has("tl_induction"));
  for (const char* s : {"induction_loss", "first_half_loss"}) {
    INFO(s << ": gpu " << got.scalar(s) << ", cpu " << cpu.scalar(s));
    CHECK(test::fused_close(got.scalar(s), cpu.scalar(s), 1e-3));
  }
  CHECK(got.meta("induction_loss_input") == cpu.meta("induction_loss_input"));
}

TEST_CASE("analyze --device cuda: census and prompt match the CPU on stories260K", "[gpu][analyze]") {
  Transformer& model = *stories().model;
  GpuAnalysis gpu(model);
  ProbeOptions opt;
  opt.samples = 20;
  const HeadTable cpu = census_probe(model, stories_vocab(), opt);
  const HeadTable got = gpu.run_probe("census", stories_vocab(), opt);
  test::check_fused_matches_cpu(got, cpu, gpu_tolerance(2));
  CHECK(got.scalar("razor_induction_heads") == cpu.scalar("razor_induction_heads"));
  CHECK(got.has("razor_echo"));

  const std::vector<int32_t> prompt =
      stories().tokenizer->encode_for_model("Once upon a time, there was a little girl named Lily. Lily liked to play.");
  const HeadTable pc = prompt_probe(model, prompt, opt);
  const HeadTable pg = gpu.prompt_probe(prompt, opt);
  test::check_fused_matches_cpu(pg, pc, gpu_tolerance(1));
  CHECK(pg.meta("probe") == "prompt");
}

TEST_CASE("analyze --device cuda: retrieval runs on the CPU model and says so", "[gpu][analyze]") {
  GpuAnalysis gpu(*stories().model);
  ProbeOptions opt;
  opt.haystack_lengths = {200};
  const HeadTable t = gpu.run_probe("retrieval", stories_vocab(), opt);
  CHECK(t.meta("device") == "cpu");
  CHECK(t.meta("device_note") == retrieval_on_cpu_note());
  CHECK(t.has("retrieval_score"));
}

TEST_CASE("analyze --device cuda: long contexts, against the CPU where it is affordable", "[gpu][analyze][long]") {
  ModelConfig cfg;
  cfg.vocab_size = 300, cfg.context = 16384, cfg.d_model = 64, cfg.n_layers = 2, cfg.n_heads = 4, cfg.n_kv_heads = 2;
  cfg.d_ff = 128;
  Transformer model(cfg);
  model.init_weights(7);
  const VocabInfo vocab = VocabInfo::from_config(cfg);
  GpuAnalysis gpu(model);
  ProbeOptions opt;
  opt.source = "random";
  opt.n_seqs = 2, opt.T = 2048;
  test::check_fused_matches_cpu(gpu.run_probe("sink", vocab, opt), sink_probe(model, vocab, opt), gpu_tolerance(2));

  opt.n_seqs = 1, opt.T = 16384;  // T x T in fp32 would be 1 GiB per head; the fused pass keeps O(T)
  const HeadTable t = gpu.run_probe("sink", vocab, opt);
  CHECK(t.meta("T") == "16384");
  for (int l = 0; l < cfg.n_layers; ++l)
    for (int h = 0; h < cfg.n_heads; ++h) {
      INFO("L" << l << "H" << h);
      for (const char* m : {"sink_mass", "norm_entropy", "cover_median", "cover_censored", "prev_token", "top32_mass"}) {
        INFO(m << " = " << t.get(m, l, h));
        CHECK(t.get(m, l, h) >= 0);
        CHECK(t.get(m, l, h) <= 1 + 1e-5);
      }
      CHECK(t.head_vector("alpha", l, h).size() == 16384);
    }
}

TEST_CASE("attnlab analyze --device cuda prints and records a GPU table", "[gpu][analyze][cli]") {
  // test_support's attnlab_bin() looks beside tests/, one folder up from this binary.
  setenv("ATTNLAB_BIN", ATTNLAB_BIN_DEFAULT, 0);
  const auto dir = test::temp_dir("analyze_gpu");
  std::string out;
  const int rc = test::run_command(test::attnlab_bin().string() + " analyze " + shared("models/stories260K/stories260K.gguf") +
                                       " --device cuda --probe sink,induction,retrieval --n 8 --haystack 200 --json " +
                                       (dir / "t.json").string(),
                                   out);
  INFO(out);
  REQUIRE(rc == 0);
  CHECK(out.find("note: " + retrieval_on_cpu_note()) != std::string::npos);
  CHECK(out.find("left out (use --device cpu)") != std::string::npos);
  std::ifstream in(dir / "t.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["meta"]["device"] == "cuda");
  CHECK(j["meta"]["sink.device"] == "cuda");
  CHECK(j["meta"]["retrieval.device"] == "cpu");
}
