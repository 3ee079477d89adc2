#pragma once
// Running a study on one machine: register its runs in the store, then keep N worker processes
// busy (each `attnlab sweep worker`, fork/exec of our own binary, so a crash or an OOM kill
// takes down one run, not the sweep). Finished runs are skipped and unfinished ones resume from
// their checkpoint; SIGINT stops launching, passes the signal on, and waits for workers to
// checkpoint and mark themselves "interrupted".
#include <string>
#include <vector>

#include "experiments/device/train_device.h"
#include "experiments/spec/plan.h"
#include "experiments/spec/spec.h"
#include "experiments/store/store.h"

namespace attnlab::exp {

struct StudyPaths {
  std::string out_dir;  // runs/<study>/
  std::string store;    // runs/<study>/<study>.sqlite
};
// out_dir empty: runs/<name> under the current folder.
StudyPaths study_paths(const StudySpec& spec, const std::string& out_dir);

// Adds every planned run to the store as "pending" (runs already there keep their state).
void register_runs(Store& store, const StudySpec& spec, const std::vector<RunPlan>& plan);

// `git describe`-style revision of the source tree holding `path` ("unknown" outside git).
std::string git_revision(const std::string& path);

struct SweepOptions {
  std::string exe;  // the attnlab binary the workers exec
  StudyPaths paths;
  int jobs = 1;
  // OpenMP threads per worker. Fixed (not cores / jobs) so that a run's floats do not depend on
  // how many runs share the machine: a run resumed under another --jobs stays bit-identical.
  int threads = 1;
  ComputeOptions compute;
  bool progress = true;
};

struct SweepSummary {
  int total = 0, done = 0, skipped = 0, failed = 0, interrupted = 0;
};

// Runs every run of `plan` that is not done. Returns when all have ended or after a SIGINT.
SweepSummary run_sweep(const std::vector<RunPlan>& plan, const SweepOptions& opt);

// The path of the running executable (/proc/self/exe).
std::string self_exe();

}  // namespace attnlab::exp
