// attnlab sweep plan|run|worker|submit|collect: the study runner's command line. The work is
// in experiments/{spec,runner,slurm}; this file only parses options and prints.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "core/tensor/error.h"
#include "experiments/cli/cli_options.h"
#include "experiments/runner/sweep.h"
#include "experiments/runner/worker.h"
#include "experiments/slurm/slurm.h"
#include "experiments/spec/plan.h"
#include "experiments/spec/spec.h"

namespace attnlab::cli {

namespace {

using namespace attnlab::exp;

const char* kUsage =
    "attnlab sweep plan SPEC.toml              print the expanded runs (no training)\n"
    "       attnlab sweep run SPEC.toml [--jobs N] [--device cpu|cuda] [--precision fp32|tf32|bf16] [--out DIR]\n"
    "       attnlab sweep submit SPEC.toml --slurm [--partition P] [--gpus-per-task N] [--time T]\n"
    "       attnlab sweep collect SPEC.toml [--out DIR]   merge Slurm shards into the study store";

int plan_cmd(const Args& args) {
  po::options_description desc("sweep plan options");
  std::string spec_path, out;
  desc.add_options()("spec", po::value(&spec_path)->required(), "the study spec (TOML)")(
      "json", "print the resolved configs as JSON lines");
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab sweep plan SPEC.toml [--json]", desc, vm, &pos)) return 0;
  StudySpec spec = parse_spec_file(spec_path);
  std::vector<RunPlan> plan = plan_runs(spec);
  if (vm.count("json")) {
    for (const RunPlan& p : plan) std::cout << nlohmann::json{{"id", p.id}, {"axes", p.axes}, {"config", p.config}}.dump() << "\n";
    return 0;
  }
  std::cout << "study " << spec.name << ": " << plan.size() << " runs\n";
  for (const RunPlan& p : plan) {
    const auto& m = p.config["model"];
    std::printf("  %s  %-50s  d=%d L=%d H=%d  %lld steps\n", p.id.c_str(), p.label().c_str(), m["d_model"].get<int>(),
                m["n_layers"].get<int>(), m["n_heads"].get<int>(), (long long)p.config["train"]["steps"].get<int64_t>());
  }
  return 0;
}

struct Common {
  std::string spec_path, out;
  ComputeOptions compute;
};

void add_common(po::options_description& desc, Common& c) {
  desc.add_options()("spec", po::value(&c.spec_path)->required(), "the study spec (TOML)")(
      "out", po::value(&c.out), "study folder (default runs/<name>)")(
      "device", po::value(&c.compute.device)->default_value("cpu"), "cpu | cuda")(
      "precision", po::value(&c.compute.precision)->default_value("fp32"),
      "GPU GEMM inputs: fp32 | tf32 | bf16 (fp32 accumulation; cuda only)");
}

int run_cmd(const Args& args) {
  po::options_description desc("sweep run options");
  Common c;
  int jobs = 1, threads = 1;
  add_common(desc, c);
  desc.add_options()("jobs,j", po::value(&jobs)->default_value(1), "parallel worker processes")(
      "threads", po::value(&threads)->default_value(1), "OpenMP threads per worker (results depend on it)");
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab sweep run SPEC.toml [--jobs N] [--device cpu|cuda] [--precision fp32|tf32|bf16] [--out DIR]", desc, vm, &pos))
    return 0;
  check_compute(c.compute);
  if (c.compute.device != "cpu" && jobs > 1)
    std::fprintf(stderr, "note: the %d workers share one GPU (each holds its own model copy there)\n", jobs);
  StudySpec spec = parse_spec_file(c.spec_path);
  std::vector<RunPlan> plan = plan_runs(spec);
  SweepOptions opt;
  opt.exe = self_exe();
  opt.paths = study_paths(spec, c.out);
  opt.jobs = jobs;
  opt.threads = threads;
  opt.compute = c.compute;
  std::filesystem::create_directories(opt.paths.out_dir);
  {
    Store store(opt.paths.store);
    register_runs(store, spec, plan);
  }
  std::fprintf(stderr, "study %s: %zu runs, store %s\n", spec.name.c_str(), plan.size(), opt.paths.store.c_str());
  SweepSummary s = run_sweep(plan, opt);
  std::printf("study %s: %d/%d done (%d skipped as already done), %d failed, %d interrupted\n", spec.name.c_str(),
              s.done, s.total, s.skipped, s.failed, s.interrupted);
  if (s.interrupted) std::printf("run the same command again to resume\n");
  return s.failed ? 1 : (s.interrupted ? 130 : 0);
}

int worker_cmd(const Args& args) {
  po::options_description desc("sweep worker options (internal: started by sweep run and Slurm)");
  WorkerOptions w;
  desc.add_options()("run", po::value(&w.run_id)->required(), "run id")(
      "store", po::value(&w.store)->required(), "results store to write")(
      "seed-record", po::value(&w.seed_record), "run record JSON to start the store from")(
      "out", po::value(&w.out_dir)->required(), "study folder")(
      "device", po::value(&w.compute.device)->default_value("cpu"), "cpu | cuda")(
      "precision", po::value(&w.compute.precision)->default_value("fp32"), "fp32 | tf32 | bf16 (cuda only)");
  po::variables_map vm;
  if (!parse_options(args, "attnlab sweep worker --run ID --store DB --out DIR", desc, vm)) return 0;
  return run_worker(w);
}

int submit_cmd(const Args& args) {
  po::options_description desc("sweep submit options");
  Common c;
  SlurmOptions so;
  desc.add_options()("slurm", "submit as a Slurm job array (the only scheduler supported)")(
      "partition", po::value(&so.partition), "Slurm partition")(
      "gpus-per-task", po::value(&so.gpus_per_task)->default_value(0), "GPUs per array task")(
      "cpus-per-task", po::value(&so.cpus_per_task)->default_value(1), "CPUs per array task")(
      "time", po::value(&so.time)->default_value("01:00:00"), "time limit per run")(
      "mem", po::value(&so.mem), "memory per task, e.g. 4G")(
      "account", po::value(&so.account), "Slurm account")(
      "dry-run", "write the script but do not call sbatch");
  add_common(desc, c);
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab sweep submit SPEC.toml --slurm [--partition P] [--gpus-per-task N] [--time T]",
                     desc, vm, &pos))
    return 0;
  if (!vm.count("slurm")) throw Error("sweep submit needs --slurm (the only scheduler supported)");
  so.compute = c.compute;
  validate_compute(c.compute);
  if (c.compute.device != "cpu" && so.gpus_per_task == 0) so.gpus_per_task = 1;
  StudySpec spec = parse_spec_file(c.spec_path);
  std::vector<RunPlan> plan = plan_runs(spec);
  StudyPaths paths = study_paths(spec, c.out);
  std::filesystem::create_directories(paths.out_dir);
  {
    Store store(paths.store);
    register_runs(store, spec, plan);
  }
  std::string script = write_slurm_array(spec, plan, paths, self_exe(), so);
  if (script.empty()) {
    std::printf("study %s: every run is done; nothing to submit\n", spec.name.c_str());
    return 0;
  }
  std::printf("wrote %s\n", script.c_str());
  if (vm.count("dry-run")) return 0;
  std::string job = submit_sbatch(script);
  std::printf("submitted job array %s; when it finishes: attnlab sweep collect %s%s\n", job.c_str(),
              c.spec_path.c_str(), c.out.empty() ? "" : (" --out " + c.out).c_str());
  return 0;
}

int collect_cmd(const Args& args) {
  po::options_description desc("sweep collect options");
  Common c;
  add_common(desc, c);
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  if (!parse_options(args, "attnlab sweep collect SPEC.toml [--out DIR]", desc, vm, &pos)) return 0;
  StudySpec spec = parse_spec_file(c.spec_path);
  StudyPaths paths = study_paths(spec, c.out);
  int n = collect_shards(paths);
  Store store(paths.store, true);
  int done = 0, total = 0;
  for (const RunRecord& r : store.runs()) {
    ++total;
    done += r.status == "done";
  }
  std::printf("merged %d shard run(s) into %s: %d/%d runs done\n", n, paths.store.c_str(), done, total);
  return 0;
}

}  // namespace

int cmd_sweep(const Args& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "usage: " << kUsage << "\n";
    return args.empty() ? 2 : 0;
  }
  Args rest(args.begin() + 1, args.end());
  const std::string& sub = args[0];
  if (sub == "plan") return plan_cmd(rest);
  if (sub == "run") return run_cmd(rest);
  if (sub == "worker") return worker_cmd(rest);
  if (sub == "submit") return submit_cmd(rest);
  if (sub == "collect") return collect_cmd(rest);
  throw Error("unknown sweep command '" + sub + "' (plan, run, submit, collect)\nusage: " + kUsage);
}

}  // namespace attnlab::cli
