#pragma once
// The reproduction report: markdown with one section per recipe (claim, published numbers, our
// numbers with 95 % intervals, each check's outcome, the verdict, figures) and the check values
// as CSV. Nothing in it is written by hand.
#include <string>
#include <vector>

#include "experiments/reproduce/reproduce.h"

namespace attnlab::exp {

// One recipe's section; figure links are prefixed with `fig_prefix` (the path from the report
// to the recipe's folder, "" when the report sits in it).
std::string recipe_markdown(const RecipeResult& r, const std::string& fig_prefix);
std::string report_markdown(const std::vector<RecipeResult>& results,
                            const std::vector<std::string>& fig_prefixes);
std::string checks_csv(const std::vector<RecipeResult>& results);
// "r5  REPRODUCED  (3/3 checks reproduced)  normalized attention grows a first-token sink"
std::string verdict_line(const RecipeResult& r);

}  // namespace attnlab::exp
