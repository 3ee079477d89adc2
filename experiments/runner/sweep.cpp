#include "experiments/runner/sweep.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <thread>

#include "core/tensor/error.h"
#include "core/util/progress.h"
#include "experiments/runner/worker.h"

namespace attnlab::exp {

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sweep_signal(int) { g_interrupted.store(true); }

std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[256];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find the attnlab executable (/proc/self/exe)");
  return p.string();
}

StudyPaths study_paths(const StudySpec& spec, const std::string& out_dir) {
  StudyPaths p;
  p.out_dir = out_dir.empty() ? (std::filesystem::path("runs") / spec.name).string() : out_dir;
  p.store = (std::filesystem::path(p.out_dir) / (spec.name + ".sqlite")).string();
  return p;
}

std::string git_revision(const std::string& path) {
  std::string dir = std::filesystem::absolute(path).parent_path().string();
  std::string rev = run_command("git -C " + shell_quote(dir) + " rev-parse --short=12 HEAD 2>/dev/null");
  if (rev.empty()) return "unknown";
  std::string dirty = run_command("git -C " + shell_quote(dir) + " status --porcelain --untracked-files=no 2>/dev/null");
  return dirty.empty() ? rev : rev + "+dirty";
}

void register_runs(Store& store, const StudySpec& spec, const std::vector<RunPlan>& plan) {
  std::string rev = git_revision(spec.file == "<string>" ? "." : spec.file);
  store.exec("BEGIN IMMEDIATE");
  try {
    for (const RunPlan& p : plan) {
      RunRecord r;
      r.id = p.id;
      r.study = spec.name;
      r.spec = spec.text;
      r.config = p.config;
      r.seed = p.seed;
      r.git_rev = rev;
      r.status = "pending";
      r.total_steps = p.config["train"]["steps"].get<int64_t>();
      r.created_at = now_seconds();
      store.add_run_if_missing(r);
    }
    store.exec("COMMIT");
  } catch (...) {
    store.exec("ROLLBACK");
    throw;
  }
}

SweepSummary run_sweep(const std::vector<RunPlan>& plan, const SweepOptions& opt) {
  check_compute(opt.compute);
  if (opt.jobs < 1) throw Error("--jobs must be >= 1");
  SweepSummary sum;
  sum.total = int(plan.size());
  std::deque<std::string> queue;
  int64_t total_steps = 0;
  {
    Store store(opt.paths.store);
    for (const RunPlan& p : plan) {
      RunRecord r = store.run(p.id);
      total_steps += r.total_steps;
      if (r.status == "done") {
        ++sum.skipped;
        ++sum.done;
      } else {
        queue.push_back(p.id);
      }
    }
  }
  g_interrupted = false;
  struct sigaction sa {}, old_int {}, old_term {};
  sa.sa_handler = on_sweep_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  if (opt.threads < 1) throw Error("--threads must be >= 1");
  int threads = opt.threads;
  std::map<pid_t, std::string> running;
  bool forwarded = false;
  ProgressBar bar("sweep " + std::to_string(sum.total) + " runs", std::max<int64_t>(1, total_steps), "steps");
  auto progress = [&] {
    if (!opt.progress) return;
    Store store(opt.paths.store, true);
    int64_t done_steps = 0;
    int finished = 0;
    for (const RunRecord& r : store.runs()) {
      done_steps += r.status == "done" ? r.total_steps : r.step;
      finished += r.status == "done";
    }
    bar.update(done_steps, std::to_string(finished) + "/" + std::to_string(sum.total) + " done, " +
                               std::to_string(running.size()) + " running");
  };

  while (!running.empty() || (!g_interrupted && !queue.empty())) {
    while (!g_interrupted && !queue.empty() && int(running.size()) < opt.jobs) {
      std::string id = queue.front();
      queue.pop_front();
      std::filesystem::create_directories(run_dir(opt.paths.out_dir, id));
      std::string log = (std::filesystem::path(run_dir(opt.paths.out_dir, id)) / "log.txt").string();
      std::vector<std::string> argv_s = {opt.exe, "sweep", "worker", "--store", opt.paths.store, "--run", id,
                                         "--out", opt.paths.out_dir};
      for (const std::string& f : compute_flags(opt.compute)) argv_s.push_back(f);
      // The worker starts with SIGINT and SIGTERM blocked (the mask survives exec) and unblocks
      // them once its handler is installed: a Ctrl-C forwarded before then stays pending instead
      // of killing a worker that cannot yet checkpoint. Blocking before fork closes the window
      // between fork and exec as well.
      sigset_t stop_signals, old_mask;
      sigemptyset(&stop_signals);
      sigaddset(&stop_signals, SIGINT);
      sigaddset(&stop_signals, SIGTERM);
      sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
      const pid_t sweep_pid = getpid();
      pid_t pid = fork();
      if (pid != 0) sigprocmask(SIG_SETMASK, &old_mask, nullptr);
      if (pid < 0) throw Error(std::string("fork failed: ") + std::strerror(errno));
      if (pid == 0) {
        // The sweep forwards a Ctrl-C to each worker so that every worker checkpoints exactly once.
        setpgid(0, 0);
        // A worker outlives a sweep that is killed outright (it is in its own process group):
        // left running it would race the next sweep's worker for the same checkpoint and rows.
        // SIGTERM when the sweep dies makes it checkpoint and stop instead; pending until the
        // worker unblocks it, and sent now if the sweep died before prctl.
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != sweep_pid) kill(getpid(), SIGTERM);
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
          dup2(fd, 1);
          dup2(fd, 2);
          close(fd);
        }
        setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
        // Workers share the cores with each other (and with whatever else runs): spinning
        // OpenMP barriers then slow a run down by orders of magnitude, so wait passively.
        setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
        std::vector<char*> argv;
        for (std::string& s : argv_s) argv.push_back(s.data());
        argv.push_back(nullptr);
        execv(opt.exe.c_str(), argv.data());
        std::fprintf(stderr, "exec %s failed: %s\n", opt.exe.c_str(), std::strerror(errno));
        _exit(127);
      }
      setpgid(pid, pid);
      running[pid] = id;
    }
    if (g_interrupted && !forwarded) {
      for (auto& [pid, id] : running) kill(pid, SIGINT);
      forwarded = true;
      std::fprintf(stderr, "\ninterrupted: waiting for %zu worker(s) to checkpoint\n", running.size());
    }
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && running.count(pid)) {
      std::string id = running[pid];
      running.erase(pid);
      Store store(opt.paths.store);
      RunRecord r = store.run(id);
      if (r.status == "done") {
        ++sum.done;
      } else if (r.status == "interrupted") {
        ++sum.interrupted;
      } else {
        std::string why = WIFEXITED(status) ? "worker exited with code " + std::to_string(WEXITSTATUS(status))
                                            : "worker killed by signal " + std::to_string(WTERMSIG(status));
        // A worker that died without saying so: the next sweep resumes it from its checkpoint.
        if (r.status != "failed" || r.error.empty()) store.set_status(id, "failed", why + " (log: " + r.log_path + ")");
        ++sum.failed;
        std::fprintf(stderr, "\nrun %s failed: %s (see %s)\n", id.c_str(),
                     (r.status == "failed" && !r.error.empty() ? r.error : why).c_str(),
                     (std::filesystem::path(run_dir(opt.paths.out_dir, id)) / "log.txt").c_str());
      }
      continue;
    }
    if (pid < 0 && errno == EINTR) continue;
    progress();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  progress();
  bar.finish(std::to_string(sum.done) + " done, " + std::to_string(sum.failed) + " failed, " +
             std::to_string(sum.interrupted) + " interrupted");
  if (g_interrupted) sum.interrupted += int(queue.size());
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return sum;
}

}  // namespace attnlab::exp
