// attnlab reproduce RECIPE | --all: run recipes' studies, compute their verdicts from the store,
// and write DIR/REPORT.md (+ checks.csv, each recipe's folder with figures). The work is in
// experiments/reproduce/; this file parses options and prints the verdict lines.
#include <cstdio>
#include <filesystem>

#include "core/io/atomic_write.h"
#include "core/tensor/error.h"
#include "experiments/cli/cli_options.h"
#include "experiments/reproduce/report.h"
#include "experiments/reproduce/reproduce.h"

namespace attnlab::cli {

using namespace attnlab::exp;
namespace fs = std::filesystem;

int cmd_reproduce(const Args& args) {
  po::options_description desc("reproduce options");
  std::vector<std::string> names;
  std::string recipes_dir = "experiments/recipes";
  ReproduceOptions opt;
  opt.out_dir = "runs/reproduce";
  desc.add_options()("recipe", po::value(&names)->composing(),
                     "recipe id (r5) or folder name (repeatable)")("all",
                                                                   "every recipe of --recipes")(
      "scale", po::value(&opt.scale)->default_value("full"),
      "full: the study as written | smoke: [scale.smoke] overrides, seconds each")(
      "out", po::value(&opt.out_dir)->default_value(opt.out_dir),
      "report folder (stores under DIR/runs/)")("recipes",
                                                po::value(&recipes_dir)->default_value(recipes_dir),
                                                "folder of recipe folders (recipe.toml each)")(
      "jobs,j", po::value(&opt.jobs)->default_value(1), "parallel worker processes per study")(
      "no-run", "evaluate what the stores already hold; train nothing");
  po::positional_options_description pos;
  pos.add("recipe", -1);
  po::variables_map vm;
  if (!parse_options(
          args, "attnlab reproduce RECIPE... | --all [--scale smoke|full] [--out DIR] [--jobs N]",
          desc, vm, &pos))
    return 0;
  opt.run = !vm.count("no-run");
  std::vector<Recipe> recipes;
  if (vm.count("all")) {
    if (!names.empty()) throw Error("give recipe names or --all, not both");
    recipes = find_recipes(recipes_dir);
  } else {
    for (const std::string& n : names) recipes.push_back(find_recipe(recipes_dir, n));
  }
  if (recipes.empty()) throw Error("no recipe to run (name one, or --all)");
  study_at_scale(recipes.front(), opt.scale);  // a bad --scale fails before any training
  fs::create_directories(opt.out_dir);

  std::vector<RecipeResult> results;
  std::vector<std::string> prefixes;
  for (const Recipe& r : recipes) {
    results.push_back(reproduce_recipe(r, opt));
    prefixes.push_back(fs::path(r.dir).filename().string() + "/");
    std::printf("%s\n", verdict_line(results.back()).c_str());
    std::fflush(stdout);
  }
  std::string report = (fs::path(opt.out_dir) / "REPORT.md").string();
  write_file_atomic(report, [&](std::ostream& o) { o << report_markdown(results, prefixes); });
  write_file_atomic((fs::path(opt.out_dir) / "checks.csv").string(),
                    [&](std::ostream& o) { o << checks_csv(results); });
  std::printf("wrote %s\n", report.c_str());
  return 0;
}

}  // namespace attnlab::cli
