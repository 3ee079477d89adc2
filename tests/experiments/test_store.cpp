// The SQLite results store: replace-not-duplicate writes, resume truncation, concurrent
// writers from separate processes, shard merging and CSV export.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>

#include "core/tensor/error.h"
#include "experiments/store/export.h"
#include "experiments/store/query.h"
#include "experiments/store/store.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::exp;

namespace {

RunRecord make_run(const std::string& id, const std::string& attn, uint64_t seed) {
  RunRecord r;
  r.id = id;
  r.study = "t";
  r.config = {{"model", {{"attention", {attn}}, {"d_model", 16}}}, {"seed", seed}};
  r.seed = seed;
  r.status = "pending";
  r.total_steps = 10;
  return r;
}

}  // namespace

TEST_CASE("rows written twice for the same step replace, and drop_after truncates") {
  auto dir = test::temp_dir("store");
  Store s((dir / "a.sqlite").string());
  s.add_run_if_missing(make_run("r1", "softmax", 0));
  s.add_run_if_missing(make_run("r1", "ignored", 9));  // already there: kept as is
  CHECK(s.run("r1").seed == 0);
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<ScalarRow> rows;
    std::vector<HeadRow> heads;
    for (int step = 1; step <= 10; ++step) {
      rows.push_back({"r1", step, "loss", 10.0 - step + pass});
      heads.push_back({"r1", step, 0, 1, "entropy", 0.5});
    }
    s.write_progress("r1", 10, rows, heads);
  }
  CHECK(s.count("scalars", "r1") == 10);
  CHECK(s.count("head_metrics", "r1") == 10);
  CHECK(s.scalars("r1", "loss").back().value == Approx(1.0));  // the second pass won
  s.drop_after("r1", 6);
  CHECK(s.count("scalars", "r1") == 6);
  CHECK(s.run("r1").step == 6);
  CHECK_THROWS_WITH(s.run("nope"), Catch::Contains("no run 'nope'"));
}

TEST_CASE("parallel writer processes never lose or corrupt rows") {
  auto dir = test::temp_dir("store_par");
  std::string path = (dir / "p.sqlite").string();
  { Store s(path); }
  const int kProcs = 4, kSteps = 60;
  std::vector<pid_t> pids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int rc = 0;
      try {
        Store s(path);
        std::string id = "run" + std::to_string(p);
        s.add_run_if_missing(make_run(id, "softmax", p));
        for (int step = 1; step <= kSteps; ++step) s.write_progress(id, step, {{id, step, "loss", double(step)}}, {});
      } catch (...) {
        rc = 1;
      }
      _exit(rc);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  Store s(path);
  CHECK(s.count("runs") == kProcs);
  CHECK(s.count("scalars") == kProcs * kSteps);
  for (const RunRecord& r : s.runs()) CHECK(r.step == kSteps);
}

TEST_CASE("shards merge into the study store, replacing what it had for their runs") {
  auto dir = test::temp_dir("store_merge");
  std::string main_path = (dir / "study.sqlite").string();
  {
    Store m(main_path);
    m.add_run_if_missing(make_run("a", "softmax", 0));
    m.add_run_if_missing(make_run("b", "sigmoid", 0));
    m.write_progress("a", 3, {{"a", 3, "loss", 99.0}, {"a", 4, "loss", 98.0}}, {});  // stale
  }
  for (std::string id : {"a", "b"}) {
    Store sh((dir / (id + ".sqlite")).string());
    RunRecord r = make_run(id, id == "a" ? "softmax" : "sigmoid", 0);
    r.status = "done";
    sh.upsert_run(r);
    sh.write_progress(id, 3, {{id, 1, "loss", 3.0}, {id, 2, "loss", 2.0}, {id, 3, "loss", 1.0}}, {{id, 3, 0, 0, "entropy", 0.25}});
    sh.put_attention_map({id, 3, 0, 0, 2, {1, 0, 0.5, 0.5}, {"<bos>", id}});
  }
  Store m(main_path);
  CHECK(m.merge_from((dir / "a.sqlite").string()) == 1);
  CHECK(m.merge_from((dir / "b.sqlite").string()) == 1);
  CHECK(m.merge_from((dir / "b.sqlite").string()) == 1);  // idempotent
  CHECK(m.count("scalars") == 6);
  CHECK(m.scalars("a", "loss").size() == 3);
  CHECK(m.run("a").status == "done");
  CHECK(m.attention_maps("b").at(0).data[2] == 0.5f);
  CHECK(m.attention_maps("b").at(0).tokens == std::vector<std::string>{"<bos>", "b"});
}

TEST_CASE("results CSV lists the varying fields and every row; filters select runs") {
  auto dir = test::temp_dir("store_csv");
  Store s((dir / "c.sqlite").string());
  s.add_run_if_missing(make_run("a", "softmax", 0));
  s.add_run_if_missing(make_run("b", "sigmoid", 0));
  s.write_progress("a", 2, {{"a", 1, "loss", 2.0}, {"a", 2, "loss", 1.5}}, {{"a", 2, 0, 1, "entropy", 0.75}});
  s.write_progress("b", 2, {{"b", 1, "loss", 2.5}, {"b", 2, "loss", 2.25}}, {});
  auto runs = s.runs();
  CHECK(varying_fields(runs) == std::vector<std::string>{"model.attention"});
  std::string csv = results_csv(s, runs, {"loss", "entropy"}, false);
  CHECK(csv ==
        "run,model.attention,metric,step,layer,head,value\n"
        "a,softmax,loss,1,,,2\n"
        "a,softmax,loss,2,,,1.5\n"
        "a,softmax,entropy,2,0,1,0.75\n"
        "b,sigmoid,loss,1,,,2.5\n"
        "b,sigmoid,loss,2,,,2.25\n");
  CHECK(results_csv(s, runs, {"loss"}, true) ==
        "run,model.attention,metric,step,layer,head,value\na,softmax,loss,2,,,1.5\nb,sigmoid,loss,2,,,2.25\n");
  CHECK(select_runs(s, {parse_filter("attention=sigmoid")}).size() == 1);
  CHECK(select_runs(s, {parse_filter("model.d_model=16")}).size() == 2);
  CHECK_THROWS_WITH(select_runs(s, {parse_filter("colour=red")}), Catch::Contains("no config field 'colour'"));
  CHECK_THROWS_WITH(check_metrics(s, {"los"}), Catch::Contains("no metric 'los'") && Catch::Contains("loss"));
  CHECK(final_value(s, "a", "loss") == 1.5);
  CHECK(std::isnan(final_value(s, "b", "entropy")));
}

TEST_CASE("a file that is not a store is refused clearly") {
  auto dir = test::temp_dir("store_bad");
  CHECK_THROWS_WITH(Store((dir / "missing.sqlite").string(), true), Catch::Contains("cannot open results store"));
  { Store s((dir / "x.sqlite").string()); }
  CHECK_NOTHROW(Store((dir / "x.sqlite").string(), true));
}

TEST_CASE("hostile run records: deep JSON and mistyped fields name the file and key") {
  auto dir = test::temp_dir("store_hostile");
  const std::string p = (dir / "run.json").string();
  std::ofstream(p) << "{\"id\": \"r\", \"config\": " << std::string(100000, '[')
                   << std::string(100000, ']') << "}";
  CHECK_THROWS_WITH(read_run_record(p), Catch::Contains("run.json") &&
                                            Catch::Contains("deeper than 64") &&
                                            Catch::Contains("'config'"));
  std::ofstream(p) << R"({"id": "r", "config": {}, "seed": "zero"})";
  CHECK_THROWS_WITH(read_run_record(p), Catch::Contains("run.json") && Catch::Contains("'seed'"));
  std::ofstream(p) << R"({"id": 3})";
  CHECK_THROWS_WITH(read_run_record(p), Catch::Contains("run.json") && Catch::Contains("'config'"));
}
