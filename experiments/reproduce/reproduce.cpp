#include "experiments/reproduce/reproduce.h"

#include <cstdio>
#include <filesystem>

#include "core/io/atomic_write.h"
#include "core/tensor/error.h"
#include "experiments/reproduce/report.h"
#include "experiments/runner/sweep.h"
#include "experiments/spec/plan.h"

namespace attnlab::exp {

namespace fs = std::filesystem;

RecipeResult evaluate_recipe(const Recipe& r, Store& store) {
  RecipeResult res;
  res.recipe = r;
  res.store = store.path();
  for (const RunRecord& run : store.runs()) {
    ++res.runs;
    res.runs_done += run.status == "done";
    res.compute_s += run.wall_s;
  }
  for (const Check& c : r.checks) res.checks.push_back(evaluate(store, c));
  res.verdict = combine(res.checks);
  return res;
}

RecipeResult reproduce_recipe(const Recipe& r, const ReproduceOptions& opt) {
  double t0 = now_seconds();
  StudySpec spec = study_at_scale(r, opt.scale);
  std::vector<RunPlan> plan = plan_runs(spec);
  StudyPaths paths = study_paths(spec, (fs::path(opt.out_dir) / "runs" / spec.name).string());
  fs::create_directories(paths.out_dir);
  {
    Store store(paths.store);
    register_runs(store, spec, plan);
  }
  if (opt.run) {
    SweepOptions so;
    so.exe = self_exe();
    so.paths = paths;
    so.jobs = opt.jobs;
    so.progress = false;  // one line per recipe is enough in the reproduce log
    std::fprintf(stderr, "reproduce %s (%s): %zu runs, store %s\n", r.id.c_str(), opt.scale.c_str(),
                 plan.size(), paths.store.c_str());
    SweepSummary s = run_sweep(plan, so);
    if (s.interrupted)
      throw Error("reproduce " + r.id + ": interrupted; run the same command again to resume");
    if (s.failed)
      std::fprintf(stderr, "reproduce %s: %d run(s) failed; their checks lack data\n", r.id.c_str(),
                   s.failed);
  }
  Store store(paths.store, /*readonly=*/true);
  Recipe current = r;
  for (Check& c : current.checks)
    for (const RunPlan& p : plan) c.runs.push_back(p.id);
  RecipeResult res = evaluate_recipe(current, store);
  res.scale = opt.scale;
  res.trained = opt.run;
  res.seeds = spec.seeds;
  // Only this plan's runs count toward the totals (a store may hold runs of older plans).
  res.runs = int(plan.size());
  res.runs_done = 0;
  res.compute_s = 0;
  for (const RunPlan& p : plan)
    if (store.has_run(p.id)) {
      RunRecord rec = store.run(p.id);
      res.runs_done += rec.status == "done";
      res.compute_s += rec.wall_s;
    }

  fs::path folder = fs::path(opt.out_dir) / fs::path(r.dir).filename();
  fs::create_directories(folder / "figures");
  for (const RecipeFigure& f : r.figures) {
    fig::FigureRequest q = f.request;
    q.output = (folder / "figures" / (f.name + ".png")).string();
    q.formats = {"pdf"};
    try {
      fig::make_figure(store, q);
      res.figures.push_back("figures/" + f.name + ".png");
    } catch (const Error& e) {
      // A figure is an illustration; a missing one is reported, it does not change the verdict.
      std::fprintf(stderr, "reproduce %s: figure %s not drawn: %s\n", r.id.c_str(), f.name.c_str(),
                   e.what());
    }
  }
  res.wall_s = now_seconds() - t0;
  write_file_atomic((folder / "REPORT.md").string(),
                    [&](std::ostream& o) { o << recipe_markdown(res, ""); });
  write_file_atomic((folder / "checks.csv").string(),
                    [&](std::ostream& o) { o << checks_csv({res}); });
  return res;
}

}  // namespace attnlab::exp
