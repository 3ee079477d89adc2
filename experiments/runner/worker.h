#pragma once
// One run of a study, start to finish: the process `attnlab sweep worker` runs. It reads the
// resolved config from the store, trains, logs scalars and probes into the store, checkpoints,
// and on SIGINT/SIGTERM stops at the next step boundary leaving store and checkpoint in step
// (status "interrupted"). Started again, it resumes from the checkpoint bit-identically.
#include <string>

#include "experiments/device/train_device.h"

namespace attnlab::exp {

struct WorkerOptions {
  std::string store;       // the store this worker writes (the study store, or a shard)
  std::string seed_record;  // if set: a run record JSON to start the store from (Slurm shards)
  std::string run_id;
  std::string out_dir;     // runs/<id>/checkpoint.safetensors lives under it
  ComputeOptions compute;
  bool quiet = false;      // no per-step log lines
};

// Returns 0 when the run is done, 130 when interrupted. Throws attnlab::Error on bad input.
int run_worker(const WorkerOptions& opt);

// Set by the SIGINT/SIGTERM handler the worker installs; tests may set it directly.
void request_stop();
bool stop_requested();

// The folder and checkpoint path of a run under a study's output folder.
std::string run_dir(const std::string& out_dir, const std::string& run_id);
std::string checkpoint_path(const std::string& out_dir, const std::string& run_id);

}  // namespace attnlab::exp
