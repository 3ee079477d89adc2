// Spec parsing, validation at the source line, and sweep expansion.
#include <catch2/catch.hpp>
#include <set>

#include "core/tensor/error.h"
#include "experiments/spec/plan.h"
#include "experiments/spec/spec.h"

using namespace attnlab;
using namespace attnlab::exp;

namespace {

const char* kGood = R"(name = "tiny-study"
seeds = [0, 1]
[model]
preset = "tiny"
d_model = 32
n_heads = 2
n_layers = 1
d_ff = 64
[task]
name = "induction"
[task.params]
vocab = 16
block = 4
repeats = 2
[train]
steps = 10
batch_size = 4
lr = 1e-3
warmup = 2
eval_every = 5
[probes]
every = 5
names = ["attn_stats"]
[sweep.grid]
"model.attention" = ["softmax", "sigmoid"]
)";

// The message of the attnlab::Error `text` throws when parsed and planned.
std::string error_of(const std::string& text) {
  try {
    plan_runs(parse_spec_string(text, "s.toml"));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string with(const std::string& from, const std::string& to) {
  std::string s = kGood;
  auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a grid of 2 variants x 2 seeds plans 4 distinct runs with stable ids") {
  StudySpec spec = parse_spec_string(kGood, "s.toml");
  CHECK(spec.name == "tiny-study");
  auto runs = plan_runs(spec);
  REQUIRE(runs.size() == 4);
  std::set<std::string> ids;
  for (const auto& r : runs) {
    ids.insert(r.id);
    CHECK(r.id.size() == 12);
    CHECK(r.config["model"]["d_model"] == 32);
    CHECK(r.config["model"]["n_kv_heads"] == 2);     // follows n_heads, not the preset's 4
    CHECK(r.config["model"]["vocab_size"] == 16);    // taken from the task
    CHECK(r.config["train"]["steps"] == 10);
    CHECK(r.config["task"]["params"]["block"] == 4);
  }
  CHECK(ids.size() == 4);
  CHECK(runs[0].config["model"]["attention"][0] == "softmax");
  CHECK(runs[0].seed == 0);
  CHECK(runs[1].seed == 1);
  // The same spec plans the same ids; changing one value changes them.
  auto again = plan_runs(parse_spec_string(kGood, "other-name.toml"));
  for (size_t i = 0; i < runs.size(); ++i) CHECK(again[i].id == runs[i].id);
  auto changed = plan_runs(parse_spec_string(with("lr = 1e-3", "lr = 2e-3"), "s.toml"));
  CHECK(changed[0].id != runs[0].id);
  CHECK(run_id_of(runs[0].config) == runs[0].id);
}

TEST_CASE("zipped axes vary together, grid axes multiply") {
  std::string text = std::string(kGood) + R"(
[[sweep.zip]]
"train.lr" = [1e-3, 3e-3, 1e-2]
"train.warmup" = [1, 2, 3]
)";
  auto runs = plan_runs(parse_spec_string(text, "s.toml"));
  REQUIRE(runs.size() == 2 * 3 * 2);
  std::set<std::pair<float, int64_t>> pairs;
  for (const auto& r : runs) pairs.insert({r.config["train"]["lr"].get<float>(), r.config["train"]["warmup"].get<int64_t>()});
  CHECK(pairs == std::set<std::pair<float, int64_t>>{{1e-3f, 1}, {3e-3f, 2}, {1e-2f, 3}});
}

TEST_CASE("nested [sweep.grid] tables name the same axes as quoted dotted keys") {
  std::string text = with("[sweep.grid]\n\"model.attention\" = [\"softmax\", \"sigmoid\"]",
                          "[sweep.grid.model]\nattention = [\"softmax\", \"sigmoid\"]\n[sweep.grid.task.params]\nblock = [4, 3]");
  auto runs = plan_runs(parse_spec_string(text, "s.toml"));
  CHECK(runs.size() == 8);
}

TEST_CASE("malformed specs give errors naming the file, line and key") {
  SECTION("unknown key") {
    std::string e = error_of(with("d_ff = 64", "d_fff = 64"));
    CHECK_THAT(e, Catch::Contains("s.toml:8:") && Catch::Contains("model.d_fff") && Catch::Contains("unknown key") &&
                      Catch::Contains("d_ff"));
  }
  SECTION("unknown top-level key") {
    CHECK_THAT(error_of(std::string("colour = 3\n") + kGood), Catch::Contains("s.toml:1:") && Catch::Contains("colour"));
  }
  SECTION("wrong type") {
    std::string e = error_of(with("steps = 10", "steps = \"ten\""));
    CHECK_THAT(e, Catch::Contains("s.toml:16:") && Catch::Contains("train.steps") && Catch::Contains("integer"));
  }
  SECTION("wrong type inside an axis") {
    std::string e = error_of(with("[\"softmax\", \"sigmoid\"]", "[\"softmax\",\n 3]"));
    CHECK_THAT(e, Catch::Contains("s.toml:26:") && Catch::Contains("model.attention"));
  }
  SECTION("empty axis") {
    std::string e = error_of(with("[\"softmax\", \"sigmoid\"]", "[]"));
    CHECK_THAT(e, Catch::Contains("s.toml:25:") && Catch::Contains("empty axis"));
  }
  SECTION("unknown attention variant, at the line of its axis value") {
    std::string e = error_of(with("[\"softmax\", \"sigmoid\"]", "[\"softmax\",\n  \"softmaxx\"]"));
    CHECK_THAT(e, Catch::Contains("s.toml:26:") && Catch::Contains("model.attention") && Catch::Contains("softmaxx") &&
                      Catch::Contains("softmax"));
  }
  SECTION("unknown task") {
    std::string e = error_of(with("name = \"induction\"", "name = \"inductoin\""));
    CHECK_THAT(e, Catch::Contains("s.toml:10:") && Catch::Contains("task.name") && Catch::Contains("inductoin"));
  }
  SECTION("unknown task parameter") {
    std::string e = error_of(with("block = 4", "blocks = 4"));
    CHECK_THAT(e, Catch::Contains("s.toml:") && Catch::Contains("blocks"));
  }
  SECTION("unknown probe") {
    std::string e = error_of(with("names = [\"attn_stats\"]", "names = [\"sinkz\"]"));
    CHECK_THAT(e, Catch::Contains("s.toml:23:") && Catch::Contains("sinkz") && Catch::Contains("attn_stats"));
  }
  SECTION("zipped axes of unequal length") {
    std::string e = error_of(std::string(kGood) + "[[sweep.zip]]\n\"train.lr\" = [1e-3, 2e-3]\n\"train.warmup\" = [1]\n");
    CHECK_THAT(e, Catch::Contains("s.toml:28:") && Catch::Contains("equal lengths"));
  }
  SECTION("TOML syntax error") {
    std::string e = error_of(with("steps = 10", "steps = = 10"));
    CHECK_THAT(e, Catch::Contains("s.toml:16:"));
  }
  SECTION("a model that does not validate names the model section") {
    std::string e = error_of(with("n_heads = 2", "n_heads = 3"));
    CHECK_THAT(e, Catch::Contains("s.toml:3:") && Catch::Contains("model"));
  }
  SECTION("missing name") {
    CHECK_THAT(error_of(with("name = \"tiny-study\"", "")), Catch::Contains("name"));
  }
}

TEST_CASE("hostile specs: nesting and sizes are refused before toml++ or the model sees them") {
  auto dotted = [](int parts) {
    std::string k = "a";
    for (int i = 1; i < parts; ++i) k += ".a";
    return k;
  };
  SECTION("a dotted key of 100,000 parts") {
    std::string e = error_of(std::string(kGood) + dotted(100000) + " = 1\n");
    CHECK_THAT(e, Catch::Contains("s.toml:26:") && Catch::Contains("deeper than 64"));
  }
  SECTION("a [table] header of 100,000 parts") {
    CHECK_THAT(error_of("[" + dotted(100000) + "]\n"),
               Catch::Contains("s.toml:1:") && Catch::Contains("deeper than 64"));
  }
  SECTION("header, dotted keys and inline tables add up") {
    std::string inner = "x = 1";
    for (int i = 0; i < 10; ++i) inner = dotted(4) + " = {" + inner + "}";  // 30 + 10 * 4 levels
    CHECK_THAT(error_of("[" + dotted(30) + "]\n" + inner + "\n"),
               Catch::Contains("s.toml:2:") && Catch::Contains("deeper than 64"));
  }
  SECTION("dots in strings, comments and numbers do not count") {
    std::string dots(500, '.');
    std::string text =
        with("name = \"tiny-study\"", "name = \"tiny" + dots + "\" # " + dots + "\n" +
                                          "description = '''\n" + dotted(200) + "\n'''");
    CHECK_THAT(error_of(text), !Catch::Contains("deeper than"));
    CHECK_NOTHROW(parse_spec_string(with("lr = 1e-3", "lr = 0.001"), "s.toml"));
  }
  SECTION("model sizes beyond this machine's memory") {
    std::string e = error_of(with("d_model = 32\nn_heads = 2\nn_layers = 1\nd_ff = 64",
                                  "d_model = 1000000\nn_heads = 2\nn_layers = 100000\nd_ff = "
                                  "1000000\nvocab_size = 2147483647"));
    CHECK_THAT(e, Catch::Contains("s.toml:3:") && Catch::Contains("model") &&
                      Catch::Contains("n_layers 100000") && Catch::Contains("memory"));
  }
}
