// `attnlab analyze --probe sparsity` and `attnlab eval --replace` end to end on a small random
// checkpoint: the tables carry each pattern's columns, a full budget costs nothing, bad options
// fail with a message naming what is wrong.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/io/checkpoint.h"
#include "core/model/transformer.h"
#include "tests/test_support.h"

using namespace attnlab;

TEST_CASE("attnlab analyze --probe sparsity and attnlab eval --replace", "[cli][sparse]") {
  const auto dir = test::temp_dir("cli_sparse");
  ModelConfig mc;
  mc.vocab_size = 64;
  mc.context = 64;
  mc.d_model = 32;
  mc.n_layers = 2;
  mc.n_heads = 4;
  mc.n_kv_heads = 4;
  mc.d_ff = 48;
  mc.attention = {"softmax"};
  Transformer model(mc);
  model.init_weights(1);
  const std::string m = (dir / "m.safetensors").string();
  save_checkpoint(m, model);
  const std::string bin = "OMP_NUM_THREADS=1 " + test::attnlab_bin().string();
  std::string out;

  const std::string csv = (dir / "r.csv").string();
  REQUIRE(test::run_command(
              bin + " analyze " + m +
                  " --probe sparsity --patterns 'topk(k=8);window(size=6,sinks=2)' --budgets 8 "
                  "--source random --T 32 --n 2 --classify 8 --csv " +
                  csv,
              out) == 0);
  const std::string header = test::read_file(csv).substr(0, test::read_file(csv).find('\n'));
  CHECK(header.find("topk(budget=8).recall") != std::string::npos);
  CHECK(header.find("window(budget=8 sinks=2).density") != std::string::npos);
  CHECK(header.find("sparse_class") != std::string::npos);

  const std::string json = (dir / "e.json").string();
  REQUIRE(test::run_command(bin + " eval " + m +
                                " --replace topk --budget 1.0 --phase decode --task "
                                "'needle(len=48,vocab=64,batch=4)' "
                                "--batches 1 --json " +
                                json,
                            out) == 0);
  const nlohmann::json j = nlohmann::json::parse(test::read_file(json));
  INFO(j.dump());
  CHECK(out.find("sparse.dce 0\n") != std::string::npos);
  CHECK(out.find("sparse.density 1\n") != std::string::npos);

  CHECK(test::run_command(bin + " eval " + m + " --phase sideways --task 'needle(len=48,vocab=64)'",
                          out) != 0);
  CHECK(out.find("prefill, decode or kv") != std::string::npos);
  CHECK(test::run_command(
            bin + " eval " + m + " --replace 'nope(k=1)' --task 'needle(len=48,vocab=64)'", out) !=
        0);
  CHECK(out.find("unknown sparse pattern") != std::string::npos);
  CHECK(test::run_command(
            bin + " analyze " + m + " --probe sparsity --patterns 'topk(q=1)' --source random",
            out) != 0);
  CHECK(out.find("q") != std::string::npos);
  CHECK(test::run_command(bin + " analyze " + m + " --probe sparsity --budgets 0% --source random",
                          out) != 0);
  CHECK(out.find("budget") != std::string::npos);
}
