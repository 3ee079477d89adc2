// The sparse-attention recipes (r15 Sparse Frontier phases, r16 hybrid KV) can fail: every check,
// read from its recipe.toml, is fed a store where its claim holds (REPRODUCED) and one where it is
// reversed (NOT REPRODUCED), like test_reproduce.cpp does for the check kinds.
#include <catch2/catch.hpp>
#include <filesystem>

#include "experiments/reproduce/check.h"
#include "experiments/reproduce/recipe.h"
#include "tests/test_support.h"

using namespace attnlab::exp;
namespace fs = std::filesystem;

namespace {

// {"train.seq_len": "128"} -> {"train": {"seq_len": 128}} (numbers stay numbers, as in a plan).
nlohmann::json config_of(const std::vector<Filter>& filters, int seed) {
  nlohmann::json c = {{"seed", seed}};
  for (const Filter& f : filters) {
    nlohmann::json* node = &c;
    std::string key = f.key;
    for (size_t dot; (dot = key.find('.')) != std::string::npos; key = key.substr(dot + 1))
      node = &(*node)[key.substr(0, dot)];
    try {
      size_t used = 0;
      const long v = std::stol(f.value, &used);
      (*node)[key] = used == f.value.size() ? nlohmann::json(v) : nlohmann::json(f.value);
    } catch (const std::exception&) {
      (*node)[key] = f.value;
    }
  }
  return c;
}

bool same_filters(const std::vector<Filter>& a, const std::vector<Filter>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].key != b[i].key || a[i].value != b[i].value) return false;
  return true;
}

// A store where group A's metric is va and group B's (metric_b, or metric) is vb, 3 seeds each.
Outcome outcome_with(const Check& c, double va, double vb, const std::string& tag) {
  fs::path path = attnlab::test::temp_dir("sparse_recipe_" + tag) / "s.sqlite";
  {
    Store s(path.string());
    s.exec("PRAGMA synchronous=OFF");
    const bool shared = c.kind == "threshold" || same_filters(c.a, c.b);
    const std::string mb = c.metric_b.empty() ? c.metric : c.metric_b;
    auto add = [&](const std::string& id, const std::vector<Filter>& f, int seed,
                   std::vector<std::pair<std::string, double>> metrics) {
      RunRecord r;
      r.id = id;
      r.study = "t";
      r.seed = seed;
      r.status = "done";
      r.total_steps = 10;
      r.config = config_of(f, seed);
      s.upsert_run(r);
      std::vector<ScalarRow> rows;
      for (const auto& [m, v] : metrics) rows.push_back({id, 10, m, v + 0.001 * seed});
      s.write_progress(id, 10, rows, {});
    };
    for (int seed = 0; seed < 3; ++seed) {
      if (shared) {
        std::vector<std::pair<std::string, double>> m = {{c.metric, va}};
        if (c.kind != "threshold" && mb != c.metric) m.push_back({mb, vb});
        add("a" + std::to_string(seed), c.a, seed, m);
      } else {
        add("a" + std::to_string(seed), c.a, seed, {{c.metric, va}});
        add("b" + std::to_string(seed), c.b, seed, {{mb, vb}});
      }
    }
  }
  Store s(path.string(), true);
  return evaluate(s, c).outcome;
}

}  // namespace

TEST_CASE("the sparse recipes' checks come out NOT REPRODUCED when their claim is false",
          "[reproduce][sparse]") {
  for (const std::string id : {"r15-sparse-frontier", "r16-hybrid-kv"}) {
    const Recipe r =
        load_recipe((attnlab::test::source_dir() / "experiments" / "recipes" / id).string());
    REQUIRE(!r.checks.empty());
    for (const Check& c : r.checks) {
      INFO(id << ": " << c.name);
      REQUIRE((c.kind == "compare" || c.kind == "threshold"));
      const bool greater = c.op == ">";
      double hi = 0, lo = 0;  // claim true: A at `hi` vs B / the threshold at `lo`
      if (c.kind == "threshold") {
        hi = greater ? c.value + 0.5 : c.value - 0.5;
        lo = greater ? c.value - 0.5 : c.value + 0.5;
        CHECK(outcome_with(c, hi, 0, "true") == Outcome::reproduced);
        CHECK(outcome_with(c, lo, 0, "false") == Outcome::not_reproduced);
      } else {
        const double big = 1.0, small = 0.2;
        CHECK(outcome_with(c, greater ? big : small, greater ? small : big, "true") ==
              Outcome::reproduced);
        CHECK(outcome_with(c, greater ? small : big, greater ? big : small, "false") ==
              Outcome::not_reproduced);
      }
    }
  }
}
