#pragma once
// A recipe: a published claim, the study that tests it, and the checks that decide it. Declared
// in each recipe folder's recipe.toml beside its study.toml:
//
//   id = "r5"                       # what `attnlab reproduce r5` names
//   title = "normalized attention grows a first-token sink"
//   paper = "Gu et al. 2025, Table 6"
//   claim = "softmax and normalized sigmoid grow a sink; sigmoid (Z = 1), softpick, ReLU do not"
//   study = "study.toml"
//   [scale.smoke]                   # keys overridden at --scale smoke (seconds per recipe)
//   seeds = [0, 1, 2]
//   "train.steps" = 20
//   [[check]]                       # experiments/reproduce/check.h
//   name = "softmax grows a sink"
//   kind = "threshold"              # compare | threshold | ratio
//   metric = "sink1_pct"
//   a = { "model.attention" = "softmax" }
//   op = ">"
//   value = 50
//   published = "Sink_1 18.18 %"
//   [[figure]]                      # experiments/figures/figures.h FigureRequest fields
//   name = "alpha1"
//   metric = "sink_alpha1"
//   group_by = "model.attention"
#include <string>
#include <vector>

#include "experiments/figures/figures.h"
#include "experiments/reproduce/check.h"
#include "experiments/spec/spec.h"

namespace attnlab::exp {

struct RecipeFigure {
  std::string name;  // file stem
  fig::FigureRequest request;
};

struct Recipe {
  std::string id, title, paper, claim;
  std::string dir;         // the recipe folder
  std::string study_file;  // absolute or relative to the working directory
  nlohmann::json smoke;    // {"seeds": [...], "train.steps": 20, ...}
  std::vector<Check> checks;
  std::vector<RecipeFigure> figures;
};

// Reads DIR/recipe.toml. Throws attnlab::Error "FILE:LINE: message" on a malformed file.
Recipe load_recipe(const std::string& dir);
// Every folder of `recipes_dir` that holds a recipe.toml, sorted by id.
std::vector<Recipe> find_recipes(const std::string& recipes_dir);
// The recipe named by its id ("r5") or its folder name; the error lists the known ids.
Recipe find_recipe(const std::string& recipes_dir, const std::string& name);

// The recipe's study at a scale: "full" is the study file as written; "smoke" applies the
// [scale.smoke] overrides (seeds, dotted config paths) and names the study <name>-smoke.
StudySpec study_at_scale(const Recipe& r, const std::string& scale);

}  // namespace attnlab::exp
