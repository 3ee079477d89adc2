// The verdict engine (experiments/reproduce/): every check kind on hand-made stores where its
// claim is true, false, unresolved by the intervals, or measured on too few seeds; recipe files;
// and `attnlab reproduce r5 --scale smoke` end to end.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "experiments/reproduce/check.h"
#include "experiments/reproduce/recipe.h"
#include "experiments/reproduce/report.h"
#include "tests/test_support.h"

using namespace attnlab::exp;
namespace fs = std::filesystem;

namespace {

// A store with one finished run per (group, seed): config {"model": {"attention": group}}, and the
// scalar "m" at step 10 equal to the given value (at step 5, a tenth of it). Group "heads" values
// go to a per-head metric "h" instead: head 0 gets the value, head 1 zero.
struct StoreBuilder {
  fs::path path;
  explicit StoreBuilder(const std::string& tag)
      : path(attnlab::test::temp_dir("reproduce_" + tag) / "s.sqlite") {}

  void add(const std::string& group, const std::vector<double>& values) {
    Store s(path.string());
    s.exec("PRAGMA synchronous=OFF");  // throwaway stores: no fsync per row keeps the tests fast
    for (size_t i = 0; i < values.size(); ++i) {
      RunRecord r;
      r.id = group + "-" + std::to_string(i);
      r.study = "t";
      r.seed = i;
      r.status = "done";
      r.total_steps = 10;
      r.config = {{"model", {{"attention", group}}}, {"seed", i}};
      s.upsert_run(r);
      s.write_progress(r.id, 5, {{r.id, 5, "m", values[i] / 10}},
                       {{r.id, 5, 0, 0, "h", values[i] / 10}});
      s.write_progress(r.id, 10, {{r.id, 10, "m", values[i]}},
                       {{r.id, 10, 0, 0, "h", values[i]}, {r.id, 10, 0, 1, "h", 0}});
    }
  }
};

Check make_check(const std::string& kind, const std::string& op = ">", double value = 0) {
  Check c;
  c.name = kind;
  c.kind = kind;
  c.metric = "m";
  c.a = {{"model.attention", "A"}};
  if (kind != "threshold") c.b = {{"model.attention", "B"}};
  c.op = op;
  c.value = value;
  return c;
}

Outcome outcome_of(const std::string& tag, const std::vector<double>& a,
                   const std::vector<double>& b, const Check& c) {
  StoreBuilder sb(tag);
  sb.add("A", a);
  if (!b.empty()) sb.add("B", b);
  Store s(sb.path.string(), true);
  return evaluate(s, c).outcome;
}

}  // namespace

TEST_CASE("compare: A > B from the intervals over seeds", "[reproduce]") {
  Check c = make_check("compare");
  CHECK(outcome_of("cmp_true", {10, 11, 12}, {1, 2, 3}, c) == Outcome::reproduced);
  CHECK(outcome_of("cmp_false", {1, 2, 3}, {10, 11, 12}, c) == Outcome::not_reproduced);
  CHECK(outcome_of("cmp_tie", {0, 0, 0}, {0, 0, 0}, c) ==
        Outcome::not_reproduced);  // a tie is no "A > B"
  CHECK(outcome_of("cmp_overlap", {3, 6, 9}, {2, 5, 8}, c) == Outcome::inconclusive);
  CHECK(outcome_of("cmp_2seeds", {10, 11}, {1, 2}, c) == Outcome::inconclusive);
  c.op = "<";
  CHECK(outcome_of("cmp_less", {1, 2, 3}, {10, 11, 12}, c) == Outcome::reproduced);
  CHECK(outcome_of("cmp_less_false", {10, 11, 12}, {1, 2, 3}, c) == Outcome::not_reproduced);
}

TEST_CASE("threshold: A crosses a number, at the last step or by a given step", "[reproduce]") {
  Check c = make_check("threshold", ">", 5);
  CHECK(outcome_of("thr_true", {10, 11, 12}, {}, c) == Outcome::reproduced);
  CHECK(outcome_of("thr_false", {1, 2, 3}, {}, c) == Outcome::not_reproduced);
  CHECK(outcome_of("thr_overlap", {2, 6, 10}, {}, c) == Outcome::inconclusive);
  CHECK(outcome_of("thr_2seeds", {10, 11}, {}, c) == Outcome::inconclusive);
  c.step = 7;  // read at step 5, where the values are a tenth: not yet above 5
  CHECK(outcome_of("thr_step", {10, 11, 12}, {}, c) == Outcome::not_reproduced);
  c.step = 2;  // before anything was logged: no data
  CHECK(outcome_of("thr_nodata", {10, 11, 12}, {}, c) == Outcome::inconclusive);
  c.step = 300;  // runs of 10 steps say nothing about step 300
  CHECK(outcome_of("thr_short", {10, 11, 12}, {}, c) == Outcome::inconclusive);
  c = make_check("threshold", "<", 5);
  CHECK(outcome_of("thr_below", {1, 2, 3}, {}, c) == Outcome::reproduced);
  CHECK(outcome_of("thr_below_false", {10, 11, 12}, {}, c) == Outcome::not_reproduced);
}

TEST_CASE("ratio: mean A / mean B at least r, with the intervals' range", "[reproduce]") {
  Check c = make_check("ratio", ">", 4);
  CHECK(outcome_of("ratio_true", {50, 51, 52}, {10, 10.5, 11}, c) == Outcome::reproduced);
  CHECK(outcome_of("ratio_false", {20, 21, 22}, {10, 10.5, 11}, c) == Outcome::not_reproduced);
  CHECK(outcome_of("ratio_overlap", {20, 40, 60}, {10, 10.5, 11}, c) == Outcome::inconclusive);
  CHECK(outcome_of("ratio_2seeds", {50, 51}, {10, 11}, c) == Outcome::inconclusive);
  CHECK(outcome_of("ratio_zero", {50, 51, 52}, {0, 0, 0}, c) == Outcome::inconclusive);  // no ratio
}

TEST_CASE("compare and ratio can read B at another step: the same runs' change", "[reproduce]") {
  // Group A's values at step 10 against the same runs at step 5 (a tenth of them).
  Check c = make_check("ratio", ">", 5);
  c.b = c.a;
  c.b_step = 5;
  CHECK(outcome_of("bstep_ratio", {10, 11, 12}, {}, c) == Outcome::reproduced);  // 10x
  c.value = 20;
  CHECK(outcome_of("bstep_ratio_false", {10, 11, 12}, {}, c) == Outcome::not_reproduced);
  c = make_check("compare", "<");
  c.b = c.a;
  c.b_step = 5;  // A (the end) below B (step 5): false, the values grew tenfold
  CHECK(outcome_of("bstep_cmp", {10, 11, 12}, {}, c) == Outcome::not_reproduced);
  c.op = ">";
  CHECK(outcome_of("bstep_cmp_up", {10, 11, 12}, {}, c) == Outcome::reproduced);
  // Paired: each run grew tenfold, but the runs spread so that the two groups' intervals overlap
  // (A 2.75 ± 2.48 reaches down to 0.27, B up to 0.52); the per-run differences lie above zero.
  CHECK(outcome_of("bstep_paired", {1.75, 2.75, 3.75}, {}, c) == Outcome::reproduced);
  CHECK(outcome_of("bstep_paired_spread", {-5, 1, 10}, {}, c) == Outcome::inconclusive);
  CHECK(outcome_of("bstep_2runs", {10, 11}, {}, c) == Outcome::inconclusive);
  c.b_step = kSameStep;  // the same step on both sides: one interval twice, overlapping
  CHECK(outcome_of("bstep_same", {10, 11, 12}, {}, c) == Outcome::inconclusive);
}

TEST_CASE("checks read per-head metrics reduced over heads, and only finished runs",
          "[reproduce]") {
  StoreBuilder sb("heads");
  sb.add("A", {10, 11, 12});
  {
    Store s(sb.path.string());
    s.set_status("A-2", "failed");  // its values must not count: 2 seeds remain
  }
  Store s(sb.path.string(), true);
  Check c = make_check("threshold", ">", 5);
  c.metric = "h";
  c.reduce = "max";
  CheckResult r = evaluate(s, c);
  CHECK(r.a.n == 2);
  CHECK(r.a.mean == Approx(10.5));
  CHECK(r.outcome == Outcome::inconclusive);
  c.reduce = "mean";  // head 0 and head 1 (0): half
  CHECK(evaluate(s, c).a.mean == Approx(5.25));
  c.reduce = "min";  // head 1
  CHECK(evaluate(s, c).a.mean == Approx(0.0));
}

TEST_CASE("only the current plan's runs count, not an older version's left in the store", "[reproduce]") {
  StoreBuilder sb("plan_runs");
  sb.add("A", {10, 11, 12, 90});  // a run of an earlier plan
  Store s(sb.path.string(), true);
  Check c = make_check("threshold", "<", 50);
  CHECK(evaluate(s, c).a.n == 4);
  c.runs = {"A-0", "A-1", "A-2"};
  CheckResult r = evaluate(s, c);
  CHECK(r.a.n == 3);
  CHECK(r.a.mean == Approx(11.0));
  CHECK(r.outcome == Outcome::reproduced);
}

TEST_CASE("a check's group B can read another metric of the same runs (a baseline)", "[reproduce]") {
  StoreBuilder sb("metric_b");
  sb.add("A", {1.0, 1.1, 1.2});
  Store s(sb.path.string(), true);
  Check c = make_check("compare", ">", 0);
  c.metric = "m";  // a scalar: 1.0, 1.1, 1.2
  c.b = c.a;
  c.metric_b = "h";  // per-head: the smallest head holds 0
  c.reduce = "min";
  CHECK(evaluate(s, c).outcome == Outcome::reproduced);
  c.op = "<";  // the claim reversed must fail
  CHECK(evaluate(s, c).outcome == Outcome::not_reproduced);
}

TEST_CASE("a recipe's verdict combines its checks", "[reproduce]") {
  auto with = [](std::vector<Outcome> os) {
    std::vector<CheckResult> rs;
    for (Outcome o : os) {
      CheckResult r;
      r.outcome = o;
      rs.push_back(r);
    }
    return combine(rs);
  };
  CHECK(with({Outcome::reproduced, Outcome::reproduced}) == Outcome::reproduced);
  CHECK(with({Outcome::reproduced, Outcome::not_reproduced, Outcome::inconclusive}) ==
        Outcome::not_reproduced);
  CHECK(with({Outcome::reproduced, Outcome::inconclusive}) == Outcome::inconclusive);
  CHECK(with({}) == Outcome::inconclusive);
}

TEST_CASE("recipe.toml: checks as data, smoke overrides, errors with a line", "[reproduce]") {
  fs::path dir = attnlab::test::temp_dir("reproduce_recipe");
  std::ofstream(dir / "study.toml")
      << "name = \"s\"\nseeds = [0]\n[model]\npreset = \"tiny\"\n[task]\nname = \"copy\"\n"
         "[train]\nsteps = 100\n[sweep.grid]\n\"model.attention\" = [\"softmax\", \"relu\"]\n";
  std::ofstream(dir / "recipe.toml")
      << "id = \"rx\"\ntitle = \"t\"\npaper = \"p\"\nclaim = \"c\"\n"
         "[scale.smoke]\nseeds = [0, 1, 2]\n\"train.steps\" = 7\n"
         "[[check]]\nname = \"n\"\nkind = \"compare\"\nmetric = \"loss\"\n"
         "a = { \"model.attention\" = \"softmax\", \"model.n_layers\" = 2 }\n"
         "b = { \"model.attention\" = \"relu\" }\nop = \"<\"\n";
  Recipe r = load_recipe(dir.string());
  REQUIRE(r.checks.size() == 1);
  CHECK(r.checks[0].a.size() == 2);
  CHECK(r.checks[0].a[1].value == "2");  // integers filter as the store writes them
  CHECK(r.checks[0].op == "<");
  StudySpec smoke = study_at_scale(r, "smoke");
  CHECK(smoke.name == "s-smoke");
  CHECK(smoke.seeds.size() == 3);
  CHECK(smoke.base["train"]["steps"] == 7);
  CHECK(study_at_scale(r, "full").base["train"]["steps"] == 100);
  CHECK_THROWS_WITH(study_at_scale(r, "huge"), Catch::Contains("smoke or full"));

  std::ofstream(dir / "recipe.toml")
      << "id = \"rx\"\ntitle = \"t\"\npaper = \"p\"\nclaim = \"c\"\n"
         "[[check]]\nname = \"n\"\nkind = \"ratio\"\nmetric = \"loss\"\n";
  CHECK_THROWS_WITH(load_recipe(dir.string()),
                    Catch::Contains("recipe.toml:5") && Catch::Contains("needs group b"));
}

TEST_CASE("attnlab reproduce r5 --scale smoke writes a report with a computed verdict",
          "[reproduce][cli]") {
  fs::path dir = attnlab::test::temp_dir("reproduce_cli");
  std::string out;
  std::string cmd = "OMP_NUM_THREADS=1 " + attnlab::test::attnlab_bin().string() +
                    " reproduce r5 --scale smoke --recipes " +
                    (attnlab::test::source_dir() / "experiments" / "recipes").string() + " --out " +
                    dir.string();
  int rc = attnlab::test::run_command(cmd, out);
  INFO(out);
  REQUIRE(rc == 0);
  CHECK(out.find("r5 ") != std::string::npos);
  std::ifstream in(dir / "REPORT.md");
  std::stringstream report;
  report << in.rdbuf();
  CHECK(report.str().find("**Verdict: ") != std::string::npos);
  CHECK(fs::exists(dir / "checks.csv"));
  CHECK(fs::exists(dir / "r5-sink-softmax-vs-sigmoid" / "REPORT.md"));
}
