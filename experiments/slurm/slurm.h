#pragma once
// Slurm job arrays: one array task per run, each writing its own shard store (no shared
// SQLite over a network file system), then `sweep collect` merges the shards.
// Layout under the study folder:
//   slurm/runs.txt             run ids, line i = array task i
//   slurm/records/<id>.json    each run's record (config, spec, seed, git revision)
//   slurm/sweep.sbatch         the array script;  slurm/logs/%A_%a.out
//   shards/<id>.sqlite         written by array task for run <id>
#include <string>
#include <vector>

#include "experiments/runner/sweep.h"
#include "experiments/spec/plan.h"
#include "experiments/spec/spec.h"

namespace attnlab::exp {

struct SlurmOptions {
  std::string partition;   // empty: the cluster's default
  std::string time = "01:00:00";
  int gpus_per_task = 0;
  int cpus_per_task = 1;
  std::string mem;         // e.g. "4G"; empty: default
  std::string account;
  ComputeOptions compute;
  std::string extra;       // more #SBATCH lines, verbatim
};

// Writes the records, run list and script for the runs not yet done in the study store;
// returns the script path ("" when nothing is left to run).
std::string write_slurm_array(const StudySpec& spec, const std::vector<RunPlan>& plan, const StudyPaths& paths,
                              const std::string& exe, const SlurmOptions& opt);

// Runs `sbatch --parsable script`; returns the job id. Throws with sbatch's output on failure.
std::string submit_sbatch(const std::string& script);

// Merges every shards/*.sqlite into the study store. Returns the number of runs merged.
int collect_shards(const StudyPaths& paths);

}  // namespace attnlab::exp
