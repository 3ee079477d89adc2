#include "experiments/slurm/slurm.h"

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/io/atomic_write.h"
#include "core/tensor/error.h"
#include "experiments/store/store.h"

namespace attnlab::exp {

namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::string write_slurm_array(const StudySpec& spec, const std::vector<RunPlan>& plan, const StudyPaths& paths,
                              const std::string& exe, const SlurmOptions& opt) {
  validate_compute(opt.compute);  // not check_compute: the login node submitting may have no GPU
  fs::path out = fs::absolute(paths.out_dir);
  fs::path sdir = out / "slurm";
  fs::create_directories(sdir / "records");
  fs::create_directories(sdir / "logs");
  fs::create_directories(out / "shards");
  std::vector<std::string> ids;
  {
    Store store(paths.store);
    for (const RunPlan& p : plan) {
      RunRecord r = store.run(p.id);
      if (r.status == "done") continue;
      write_run_record((sdir / "records" / (p.id + ".json")).string(), r);
      ids.push_back(p.id);
    }
  }
  if (ids.empty()) return "";
  write_file_atomic((sdir / "runs.txt").string(), [&](std::ostream& o) {
    for (const std::string& id : ids) o << id << "\n";
  });
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# Written by `attnlab sweep submit` for study '" << spec.name << "': one array task per run.\n"
    << "#SBATCH --job-name=attnlab-" << spec.name << "\n"
    << "#SBATCH --array=0-" << ids.size() - 1 << "\n"
    << "#SBATCH --ntasks=1\n"
    << "#SBATCH --cpus-per-task=" << opt.cpus_per_task << "\n"
    << "#SBATCH --time=" << opt.time << "\n"
    << "#SBATCH --output=" << (sdir / "logs" / "%A_%a.out").string() << "\n";
  if (!opt.partition.empty()) s << "#SBATCH --partition=" << opt.partition << "\n";
  if (opt.gpus_per_task > 0) s << "#SBATCH --gpus-per-task=" << opt.gpus_per_task << "\n";
  if (!opt.mem.empty()) s << "#SBATCH --mem=" << opt.mem << "\n";
  if (!opt.account.empty()) s << "#SBATCH --account=" << opt.account << "\n";
  if (!opt.extra.empty()) s << opt.extra << (opt.extra.back() == '\n' ? "" : "\n");
  s << "set -euo pipefail\n"
    << "RUN_ID=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" " << quote((sdir / "runs.txt").string()) << ")\n"
    << "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1} OMP_WAIT_POLICY=PASSIVE\n"
    << "exec " << quote(exe) << " sweep worker --run \"$RUN_ID\""
    << " --store " << quote((out / "shards").string()) << "/\"$RUN_ID\".sqlite"
    << " --seed-record " << quote((sdir / "records").string()) << "/\"$RUN_ID\".json"
    << " --out " << quote(out.string());
  for (const std::string& f : compute_flags(opt.compute)) s << ' ' << f;  // validated names: nothing to quote
  s << "\n";
  std::string script = (sdir / "sweep.sbatch").string();
  write_file_atomic(script, [&](std::ostream& o) { o << s.str(); });
  fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
  return script;
}

std::string submit_sbatch(const std::string& script) {
  std::string cmd = "sbatch --parsable " + quote(script) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw Error("cannot run sbatch");
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int rc = pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (rc != 0)
    throw Error("sbatch failed (exit " + std::to_string(WEXITSTATUS(rc)) + "): " +
                (out.empty() ? std::string("is Slurm installed and sbatch on PATH?") : out) +
                "\n  the script is at " + script + " (submit it by hand, or run the sweep with `attnlab sweep run`)");
  // --parsable prints "jobid" or "jobid;cluster"
  return out.substr(0, out.find(';'));
}

int collect_shards(const StudyPaths& paths) {
  fs::path shards = fs::path(paths.out_dir) / "shards";
  if (!fs::exists(shards)) throw Error("no shards folder '" + shards.string() + "' (was the study submitted to Slurm?)");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(shards))
    if (e.path().extension() == ".sqlite") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  Store store(paths.store);
  int merged = 0;
  for (const fs::path& f : files) merged += store.merge_from(f.string());
  return merged;
}

}  // namespace attnlab::exp
