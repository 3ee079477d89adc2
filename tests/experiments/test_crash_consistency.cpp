// Crash consistency (issue 15: nothing is lost by a crash or Ctrl-C), end to end through the
// attnlab binary. `attnlab train` and a sweep are killed with SIGKILL at seeded random moments;
// after every kill each checkpoint in the output folder must load and the results store must pass
// SQLite's integrity check, and resuming to the end must give exactly (byte for byte) what an
// uninterrupted run gives. A checkpoint write that hits a file-size limit (a full disk) must fail
// with a message naming the file and leave the previous checkpoint intact.
//
// Kill times are drawn from a fixed seed and the runs sleep a few ms per step
// (ATTNLAB_STEP_DELAY_MS) so that a kill lands between steps, in a checkpoint write or at the end
// alike. Where the kills land still depends on the machine's speed, so the tests assert only
// what must hold wherever they land; the timeouts are hang guards.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "core/io/checkpoint.h"
#include "tests/experiments/store_support.h"
#include "tests/test_support.h"

using namespace attnlab;
namespace fs = std::filesystem;

namespace {

const int kStepDelayMs = 20;  // per training step while being killed: ~2 s for 100 steps

// Waits up to `ms` for the child `pid` to exit: true with its wait status in `status`, false
// when it is still running.
bool exits_within(pid_t pid, int ms, int& status) {
  return test::poll_until([&] { return waitpid(pid, &status, WNOHANG) == pid; }, ms);
}

// True when a child's wait status says it exited with code 0.
bool succeeded(int status) { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

// When to kill a child: a quarter of the kills come at a random moment of its start-up (loading,
// opening the store, before the first checkpoint), the others at a random moment after
// `training(...)` says it trains, so that they spread over the steps, checkpoints and the end
// whatever the machine's speed. Returns false if the child exited first (status in `status`).
template <class Training>
bool wait_to_kill(pid_t pid, std::mt19937& rng, Training training, int& status) {
  std::uniform_int_distribution<int> delay_ms(0, 900);
  bool at_startup = std::uniform_int_distribution<int>(0, 3)(rng) == 0;
  int ms = delay_ms(rng);
  if (!at_startup) {
    bool started = test::poll_until(
        [&] { return training() || waitpid(pid, &status, WNOHANG) == pid; }, 60000);
    if (!started) FAIL("the child shows no progress after 60 s");
    if (!training()) return false;  // it exited
  }
  return !exits_within(pid, ms, status);
}

// The files under `dir` whose names contain `part`.
std::vector<fs::path> files_named(const fs::path& dir, const std::string& part) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string().find(part) != std::string::npos)
      out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Loads every finished checkpoint (*.safetensors) under `dir`; "" when all load, else each
// file's error.
std::string unloadable_checkpoints(const fs::path& dir) {
  std::string errors;
  for (const fs::path& p : files_named(dir, ".safetensors")) {
    if (p.extension() != ".safetensors") continue;  // a temp file: not a checkpoint
    try {
      load_attnlab_checkpoint(p.string());
    } catch (const std::exception& e) {
      errors += p.string() + ": " + e.what() + "\n";
    }
  }
  return errors;
}

// The optimizer step a training state holds.
int64_t state_step(const fs::path& state) {
  LoadedAttnlabCheckpoint ck = load_attnlab_checkpoint(state.string());
  return nlohmann::json::parse(ck.extras.metadata.at("attnlab.train")).at("step").get<int64_t>();
}

// The steps 1..n that train_log.csv holds without a gap: n.
int64_t logged_steps(const fs::path& csv) {
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  int64_t n = 0;
  while (std::getline(in, line) && std::atoll(line.c_str()) == n + 1) ++n;
  return n;
}

// `attnlab train` on a model smaller than the tiny preset (a few ms a step): `steps` steps, a
// checkpoint every 5, eval every 10.
std::vector<std::string> train_args(const fs::path& out, int steps = 100) {
  std::vector<std::string> args = {test::attnlab_bin().string(), "train", "--preset", "tiny"};
  for (const char* a :
       {"--model", R"({"d_model": 16, "n_heads": 2, "n_kv_heads": 2, "n_layers": 1, "d_ff": 32})",
        "--task", "copy(batch=4)", "--warmup", "5", "--eval-every", "10", "--checkpoint-every", "5",
        "--seed", "7"})
    args.push_back(a);
  for (const std::string& a :
       {std::string("--steps"), std::to_string(steps), std::string("--out"), out.string()})
    args.push_back(a);
  return args;
}

std::string shell_join(const std::vector<std::string>& args) {
  std::string cmd;
  for (const std::string& a : args) cmd += (cmd.empty() ? "'" : " '") + a + "'";
  return cmd;
}

}  // namespace

TEST_CASE("attnlab train killed with SIGKILL at random moments resumes to the same bytes",
          "[crash]") {
  fs::path dir = test::temp_dir("crash_train");
  fs::path ref = dir / "ref", out = dir / "killed";
  int rc = test::run_logged(shell_join(train_args(ref)), dir / "ref.log");
  INFO(test::read_file(dir / "ref.log"));
  REQUIRE(rc == 0);

  std::mt19937 rng(15);
  int kills = 0, temp_left = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::vector<std::string> args = train_args(out);
    if (fs::exists(out / "train_state.safetensors"))
      args.push_back("--resume");  // else: killed before step 5
    fs::path log = dir / ("attempt" + std::to_string(attempt) + ".log");
    pid_t pid = test::spawn(args, log, kStepDelayMs);
    int status = 0;
    // The progress bar (stderr, unbuffered) shows after the first step.
    auto training = [&] { return test::read_file(log).find("train [") != std::string::npos; };
    bool killed = wait_to_kill(pid, rng, training, status);
    if (killed) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    INFO("attempt " << attempt << (killed ? " killed" : " finished") << "\n"
                    << test::read_file(log));
    if (!killed) REQUIRE(succeeded(status));
    kills += killed;
    temp_left += !files_named(out, ".tmp.").empty();
    // Whatever the moment: every checkpoint loads, and the log is never behind the state (a
    // resume continues after the state's step, so log rows missing there would be lost).
    CHECK(unloadable_checkpoints(out) == "");
    if (fs::exists(out / "train_state.safetensors"))
      CHECK(logged_steps(out / "train_log.csv") >= state_step(out / "train_state.safetensors"));
  }
  INFO(kills << " kills of 10 attempts; " << temp_left << " left a temp file behind");
  std::vector<std::string> args = train_args(out);
  if (fs::exists(out / "train_state.safetensors")) args.push_back("--resume");
  REQUIRE(test::run_logged(shell_join(args), dir / "final.log") == 0);

  // Byte for byte: weights, optimizer state, data position, and every logged loss.
  for (const char* f : {"model.safetensors", "train_state.safetensors", "train_log.csv"}) {
    INFO(f);
    CHECK(test::read_file(out / f) == test::read_file(ref / f));
  }
  CHECK(files_named(out, ".tmp.").empty());  // the resumed run removed what the kills left
}

namespace {

// Two runs (softmax, sigmoid) of 40 steps with checkpoints every 5, probes every 10.
const char* kCrashSpec = R"(name = "crash"
seeds = [3]
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
steps = 40
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

// True when a worker has marked its run 'running' in the store.
bool a_run_is_running(const std::string& store) {
  auto running = [](exp::Store& s) {
    for (const exp::RunRecord& r : s.runs())
      if (r.status == "running") return true;
    return false;
  };
  return test::wait_for(store, running, 0);
}

// True once `pid` has exited (gone, or a zombie nobody reaped yet).
bool is_gone(pid_t pid) {
  std::string stat = test::read_file("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return stat.empty() || paren == std::string::npos || stat.compare(paren + 2, 1, "Z") == 0;
}

// The child processes of a stopped process (pgrep, which reads /proc).
std::vector<pid_t> children_of(pid_t parent) {
  std::string out;
  test::run_command("pgrep -P " + std::to_string(parent), out);
  std::istringstream in(out);
  std::vector<pid_t> pids;
  for (pid_t p; in >> p;) pids.push_back(p);
  return pids;
}

// Kills a sweep and its workers at once, in a seeded random order: stopped first so that the
// list of workers is complete, then SIGKILL to each. A worker that outlives its sweep for a
// moment gets SIGTERM (PR_SET_PDEATHSIG) and may be killed mid-checkpoint: all fair.
void kill_sweep(pid_t sweep, std::mt19937& rng) {
  kill(sweep, SIGSTOP);
  std::vector<pid_t> victims{sweep};
  for (pid_t p : children_of(sweep)) victims.push_back(p);
  std::shuffle(victims.begin(), victims.end(), rng);
  for (pid_t p : victims) kill(p, SIGKILL);
  int status = 0;
  waitpid(sweep, &status, 0);
  for (pid_t p : victims) REQUIRE(test::poll_until([&] { return is_gone(p); }, 30000));
}

}  // namespace

TEST_CASE("a sweep killed with SIGKILL at random moments keeps a sound store and resumes exactly",
          "[crash]") {
  fs::path dir = test::temp_dir("crash_sweep");
  fs::path spec = dir / "crash.toml";
  { std::ofstream(spec) << kCrashSpec; }
  const std::string bin = test::attnlab_bin().string();
  fs::path ref = dir / "ref", out = dir / "killed";
  std::vector<std::string> sweep = {bin,      "sweep", "run",   spec.string(),
                                    "--jobs", "2",     "--out", out.string()};
  REQUIRE(test::run_logged(shell_join({bin, "sweep", "run", spec.string(), "--jobs", "2", "--out",
                                       ref.string()}),
                           dir / "ref.log") == 0);

  std::mt19937 rng(1515);
  const std::string store = (out / "crash.sqlite").string();
  int kills = 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    fs::path log = dir / ("attempt" + std::to_string(attempt) + ".log");
    pid_t pid = test::spawn(sweep, log, kStepDelayMs);
    int status = 0;
    bool killed = wait_to_kill(
        pid, rng, [&] { return a_run_is_running(store); }, status);
    if (killed) kill_sweep(pid, rng);
    INFO("attempt " << attempt << (killed ? " killed" : " finished") << "\n"
                    << test::read_file(log));
    if (!killed) REQUIRE(succeeded(status));
    kills += killed;
    if (fs::exists(store)) CHECK(test::sqlite_integrity(store) == "ok");
    CHECK(unloadable_checkpoints(out / "runs") == "");
  }
  INFO(kills << " kills of 8 attempts");
  REQUIRE(test::run_logged(shell_join(sweep), dir / "final.log") == 0);
  CHECK(test::sqlite_integrity(store) == "ok");
  CHECK(test::dump(store) == test::dump((ref / "crash.sqlite").string()));
  CHECK(files_named(out, ".tmp.").empty());
}

TEST_CASE("a checkpoint write that fills the disk fails clearly and keeps the previous one",
          "[crash]") {
  fs::path dir = test::temp_dir("crash_disk");
  fs::path out = dir / "run", state = out / "train_state.safetensors";
  REQUIRE(test::run_logged(shell_join(train_args(out, 10)), dir / "first.log") == 0);
  const std::string before = test::read_file(state);
  REQUIRE(state_step(state) == 10);

  // The resumed run may write files of half the state's size: its log fits, its state does not.
  // With SIGXFSZ ignored, a write past the limit fails with EFBIG as on a full disk.
  const rlim_t limit = before.size() / 2;
  std::vector<std::string> args = train_args(out, 20);
  args.push_back("--resume");
  pid_t pid = test::spawn(args, dir / "full.log", 0, [limit] {
    signal(SIGXFSZ, SIG_IGN);
    rlimit lim{limit, limit};
    setrlimit(RLIMIT_FSIZE, &lim);
  });
  int status = 0;
  REQUIRE(exits_within(pid, 60000, status));  // hang guard
  const std::string log = test::read_file(dir / "full.log");
  INFO(log);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK_THAT(
      log, Catch::Contains("cannot write " + state.string()) && Catch::Contains("File too large"));
  // The previous state is untouched and loads; the failed write left no temp file.
  CHECK(test::read_file(state) == before);
  CHECK(state_step(state) == 10);
  CHECK(files_named(out, ".tmp.").empty());
  // With room again, the run resumes from it and finishes.
  REQUIRE(test::run_logged(shell_join(args), dir / "after.log") == 0);
  CHECK(state_step(state) == 20);
}

TEST_CASE("a worker whose sweep is killed outright checkpoints and stops", "[crash]") {
  fs::path dir = test::temp_dir("crash_orphan");
  fs::path spec = dir / "crash.toml";
  { std::ofstream(spec) << kCrashSpec; }
  fs::path out = dir / "run";
  const std::string store = (out / "crash.sqlite").string();
  pid_t sweep = test::spawn({test::attnlab_bin().string(), "sweep", "run", spec.string(), "--jobs",
                             "1", "--out", out.string()},
                            dir / "sweep.log", kStepDelayMs);
  REQUIRE(test::poll_until([&] { return a_run_is_running(store); }, 60000));
  kill(sweep, SIGSTOP);  // so that it cannot start another worker meanwhile
  std::vector<pid_t> workers = children_of(sweep);
  kill(sweep, SIGKILL);
  waitpid(sweep, nullptr, 0);
  REQUIRE(workers.size() == 1);
  const pid_t worker = workers[0];
  // Left running, the orphan would race the next sweep's worker for its checkpoint and rows.
  REQUIRE(test::poll_until([&] { return is_gone(worker); }, 30000));
  exp::Store s(store, true);
  const std::vector<exp::RunRecord> runs = s.runs();
  auto interrupted = std::count_if(
      runs.begin(), runs.end(), [](const exp::RunRecord& r) { return r.status == "interrupted"; });
  CHECK(interrupted == 1);
  CHECK(unloadable_checkpoints(out / "runs") == "");
}
