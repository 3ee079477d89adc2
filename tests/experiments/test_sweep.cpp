// End to end through the attnlab binary: a 2 variants x 2 seeds sweep runs with 2 worker
// processes; the same sweep interrupted by SIGINT, and with a worker killed outright, resumes
// to exactly the rows of the uninterrupted sweep (none lost, none duplicated); figures and
// CSV come out of its store.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "experiments/store/store.h"
#include "tests/experiments/store_support.h"
#include "tests/test_support.h"

using namespace attnlab;
using namespace attnlab::exp;
namespace fs = std::filesystem;

namespace {

using attnlab::test::attnlab_bin;

const char* kSpec = R"(name = "e2e"
seeds = [0, 1]
[model]
d_model = 16
n_heads = 2
n_layers = 1
d_ff = 32
context = 8
[task]
name = "induction"
[task.params]
vocab = 12
block = 4
repeats = 2
[train]
steps = 30
batch_size = 4
lr = 3e-3
warmup = 3
eval_every = 10
eval_batches = 1
checkpoint_every = 5
[probes]
every = 10
names = ["attn_stats"]
map_len = 8
[sweep.grid]
"model.attention" = ["softmax", "sigmoid"]
)";

using attnlab::test::dump;
using attnlab::test::spawn;
using attnlab::test::wait_for;

std::string read_all(const fs::path& p) { return test::read_file(p); }

// The command's exit code; its output shown if a check on the result fails.
int sh(const std::string& cmd, const fs::path& log) {
  int rc = test::run_logged(cmd, log);
  UNSCOPED_INFO(cmd << "\n" << read_all(log));
  return rc;
}

}  // namespace

TEST_CASE("a 2 x 2 sweep runs, survives SIGINT and a killed worker, and resumes exactly") {
  fs::path dir = test::temp_dir("sweep");
  fs::path spec = dir / "e2e.toml";
  { std::ofstream(spec) << kSpec; }
  std::string bin = attnlab_bin().string();

  // Reference: the sweep uninterrupted.
  fs::path ref = dir / "ref";
  REQUIRE(sh(bin + " sweep run " + spec.string() + " --jobs 2 --out " + ref.string(), dir / "ref.log") == 0);
  std::string ref_store = (ref / "e2e.sqlite").string();
  {
    Store s(ref_store, true);
    auto runs = s.runs();
    REQUIRE(runs.size() == 4);
    for (const RunRecord& r : runs) {
      CHECK(r.status == "done");
      CHECK(s.scalars(r.id, "loss").size() == 30);
      CHECK(s.scalars(r.id, "eval_loss").size() == 3);
      CHECK(s.scalars(r.id, "task/accuracy").size() == 3);
      CHECK(s.head_metrics(r.id).size() == 3 * 2 * 4);  // probe steps x heads x metrics
      CHECK(s.attention_maps(r.id).size() == 2);
      CHECK(!s.head_table(r.id, "attn_stats").empty());
      CHECK(fs::exists(fs::path(r.checkpoint_path)));
    }
  }
  // Running it again skips every run.
  REQUIRE(sh(bin + " sweep run " + spec.string() + " --out " + ref.string(), dir / "again.log") == 0);
  CHECK_THAT(read_all(dir / "again.log"), Catch::Contains("4 skipped"));

  SECTION("SIGINT to the sweep: workers checkpoint, mark 'interrupted', and resume") {
    fs::path out = dir / "int";
    std::string store = (out / "e2e.sqlite").string();
    pid_t pid = spawn({bin, "sweep", "run", spec.string(), "--jobs", "2", "--out", out.string()}, dir / "int.log", 20);
    bool mid = wait_for(store, [](Store& s) {
      for (const RunRecord& r : s.runs())
        if (r.step >= 5 && r.status == "running") return true;
      return false;
    });
    kill(pid, SIGINT);
    int status = 0;
    waitpid(pid, &status, 0);
    INFO(read_all(dir / "int.log"));
    REQUIRE(mid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 130);
    int interrupted = 0;
    {
      Store s(store, true);
      for (const RunRecord& r : s.runs()) {
        CHECK(r.status != "running");
        CHECK(r.status != "failed");
        if (r.status == "interrupted") {
          ++interrupted;
          // What the store holds ends exactly at the checkpoint.
          CHECK(int64_t(s.scalars(r.id, "loss").size()) == r.step);
        }
      }
    }
    CHECK(interrupted >= 1);
    REQUIRE(sh(bin + " sweep run " + spec.string() + " --jobs 2 --out " + out.string(), dir / "int2.log") == 0);
    CHECK(dump(store) == dump(ref_store));
  }

  SECTION("a worker killed with SIGKILL is resumed from its last checkpoint") {
    fs::path out = dir / "kill";
    std::string store = (out / "e2e.sqlite").string();
    // Register the runs without running them: plan + a sweep whose only worker we kill.
    pid_t pid = spawn({bin, "sweep", "run", spec.string(), "--jobs", "1", "--out", out.string()}, dir / "kill.log", 20);
    bool mid = wait_for(store, [](Store& s) {
      for (const RunRecord& r : s.runs())
        if (r.step >= 10 && r.status == "running") return true;
      return false;
    });
    REQUIRE(mid);
    // The worker is the sweep's child in its own process group; kill it hard, then the sweep.
    std::string worker_pids = dir / "pids";
    std::system(("pgrep -P " + std::to_string(pid) + " > " + worker_pids).c_str());
    pid_t worker = std::atoi(read_all(worker_pids).c_str());
    REQUIRE(worker > 0);
    kill(worker, SIGKILL);
    int status = 0;
    bool failed_seen = wait_for(store, [](Store& s) {
      for (const RunRecord& r : s.runs())
        if (r.status == "failed") return true;
      return false;
    });
    CHECK(failed_seen);
    kill(pid, SIGINT);
    waitpid(pid, &status, 0);
    {
      Store s(store, true);
      bool found = false;
      for (const RunRecord& r : s.runs())
        if (r.status == "failed") {
          found = true;
          CHECK_THAT(r.error, Catch::Contains("signal 9"));
        }
      CHECK(found);
    }
    REQUIRE(sh(bin + " sweep run " + spec.string() + " --jobs 2 --out " + out.string(), dir / "kill2.log") == 0);
    CHECK(dump(store) == dump(ref_store));
  }

  SECTION("results and plot commands read the store") {
    fs::path csv = dir / "loss.csv";
    REQUIRE(sh(bin + " results " + ref_store + " --metric loss --metric entropy --filter model.attention=softmax --csv " +
                   csv.string(),
               dir / "results.log") == 0);
    std::string text = read_all(csv);
    CHECK(text.rfind("run,seed,metric,step,layer,head,value\n", 0) == 0);
    CHECK(std::count(text.begin(), text.end(), '\n') == 1 + 2 * (30 + 3 * 2));
    REQUIRE(sh(bin + " plot " + ref_store + " --kind line --metric loss -o " + (dir / "fig.pdf").string() + " --formats svg png",
               dir / "plot.log") == 0);
    CHECK(read_all(dir / "fig.pdf").rfind("%PDF-", 0) == 0);
    CHECK(fs::exists(dir / "fig.svg"));
    CHECK(fs::exists(dir / "fig.png"));
    CHECK(fs::exists(dir / "fig.csv"));
    REQUIRE(sh(bin + " plot " + ref_store + " --kind heatmap --metric sink_alpha1 -o " + (dir / "sink.png").string(),
               dir / "plot2.log") == 0);
    CHECK(sh(bin + " sweep run " + spec.string() + " --device cuda --out " + (dir / "cuda").string(), dir / "cuda.log") == 1);
    CHECK_THAT(read_all(dir / "cuda.log"), Catch::Contains("--device cuda"));
  }
}
