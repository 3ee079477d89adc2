#pragma once
// `attnlab reproduce`: run a recipe's study (the sweep runner), evaluate its checks on the
// study's store, draw its figures, and report. Every verdict in the report is computed here.
#include <string>
#include <vector>

#include "experiments/reproduce/check.h"
#include "experiments/reproduce/recipe.h"

namespace attnlab::exp {

struct ReproduceOptions {
  std::string scale = "full";  // full | smoke
  std::string out_dir;         // DIR: DIR/runs/<study>/ stores, DIR/<id>/ figures and report
  int jobs = 1;
  bool run = true;  // false: evaluate what the store already holds (no training)
};

struct RecipeResult {
  Recipe recipe;
  std::string scale, store;
  int runs = 0, runs_done = 0;
  std::vector<uint64_t> seeds;
  std::vector<CheckResult> checks;
  Outcome verdict = Outcome::inconclusive;
  bool trained = true;   // false: --no-run, evaluated from the store only
  double wall_s = 0;     // this invocation (0-ish when every run was already done)
  double compute_s = 0;  // the runs' own wall times, summed (what a fresh run costs on one core)
  std::vector<std::string> figures;  // relative to the recipe's report folder
};

// Evaluates a recipe's checks on a store that holds its study (no training, no figures).
RecipeResult evaluate_recipe(const Recipe& r, Store& store);

RecipeResult reproduce_recipe(const Recipe& r, const ReproduceOptions& opt);

}  // namespace attnlab::exp
