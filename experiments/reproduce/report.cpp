#include "experiments/reproduce/report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "experiments/store/export.h"

namespace attnlab::exp {

namespace {

std::string num(double v) {
  if (!std::isfinite(v)) return std::isinf(v) ? "inf" : "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string minutes(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s < 120 ? "%.0f s" : "%.1f min", s < 120 ? s : s / 60);
  return buf;
}

std::string step_text(const Check& c) {
  auto at = [](int64_t s) {
    return s < 0 ? std::string("last step") : "step " + std::to_string(s);
  };
  if (c.b_step != kSameStep && c.b_step != c.step)
    return "A at " + at(c.step) + ", B at " + at(c.b_step);
  return at(c.step);
}

// What the check compares, in one cell: "A > B", "A > 50 by step 500", "A / B >= 4".
std::string claim_text(const Check& c) {
  if (c.kind == "compare") return "A " + c.op + " B";
  if (c.kind == "threshold") return "A " + c.op + " " + num(c.value);
  return "A / B >= " + num(c.value);
}

std::string metric_text(const Check& c) {
  std::string s = "`" + c.metric + "`";
  if (!c.metric_b.empty()) s += " (A) vs `" + c.metric_b + "` (B)";
  if (c.reduce != "max" || c.layer >= 0)
    s += " (" + c.reduce + (c.layer >= 0 ? " of layer " + std::to_string(c.layer) : "") + ")";
  return s + ", " + step_text(c);
}

int count(const RecipeResult& r, Outcome o) {
  int n = 0;
  for (const CheckResult& c : r.checks) n += c.outcome == o;
  return n;
}

}  // namespace

std::string verdict_line(const RecipeResult& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-4s %-15s (%d/%zu checks reproduced, %d not)  %s",
                r.recipe.id.c_str(), outcome_name(r.verdict), count(r, Outcome::reproduced),
                r.checks.size(), count(r, Outcome::not_reproduced), r.recipe.title.c_str());
  return buf;
}

std::string recipe_markdown(const RecipeResult& r, const std::string& fig_prefix) {
  std::ostringstream o;
  o << "## " << r.recipe.id << ": " << r.recipe.title << "\n\n";
  o << "**Verdict: " << outcome_name(r.verdict) << "** (" << count(r, Outcome::reproduced) << " of "
    << r.checks.size() << " checks reproduced, " << count(r, Outcome::not_reproduced)
    << " not reproduced, " << count(r, Outcome::inconclusive) << " inconclusive)\n\n";
  o << "- Paper: " << r.recipe.paper << "\n";
  o << "- Claim: " << r.recipe.claim << "\n";
  o << "- Scale: " << r.scale << "; " << r.runs_done << "/" << r.runs << " runs done; seeds";
  for (uint64_t s : r.seeds) o << " " << s;
  o << "; compute " << minutes(r.compute_s) << " (the runs' wall times summed)";
  if (r.trained)
    o << ", this invocation " << minutes(r.wall_s) << "\n";
  else
    o << ", evaluated from the store without training (--no-run)\n";
  o << "- Each group's value is the mean over seeds (one run each) ± the 95 % t-interval "
       "half-width. "
       "REPRODUCED needs the intervals separated as the claim says; NOT REPRODUCED, separated (or "
       "tied) "
       "the other way; otherwise, or below "
    << kMinSeeds << " seeds, INCONCLUSIVE.\n\n";
  o << "| check | metric | A | B | claim | published | ours: A | ours: B | outcome |\n";
  o << "|---|---|---|---|---|---|---|---|---|\n";
  for (const CheckResult& c : r.checks) {
    const Check& k = c.check;
    std::string b = k.kind == "threshold" ? "-" : format_filters(k.b);
    std::string ours_b = k.kind == "threshold" ? "-" : format_group(c.b);
    if (k.kind == "ratio" && c.ratio_hi > 0)
      ours_b += "; ratio " + num(c.ratio) + " [" + num(c.ratio_lo) + ", " + num(c.ratio_hi) + "]";
    o << "| " << k.name << " | " << metric_text(k) << " | " << format_filters(k.a) << " | " << b
      << " | " << claim_text(k) << " | " << (k.published.empty() ? "-" : k.published) << " | "
      << format_group(c.a) << " | " << ours_b << " | **" << outcome_name(c.outcome)
      << "**: " << c.why << " |\n";
  }
  bool notes = false;
  for (const CheckResult& c : r.checks)
    if (!c.check.note.empty()) {
      if (!notes) o << "\nWhy these thresholds:\n\n";
      notes = true;
      o << "- " << c.check.name << ": " << c.check.note << "\n";
    }
  if (!r.figures.empty()) {
    o << "\n";
    for (const std::string& f : r.figures) {
      std::string pdf = f.substr(0, f.size() - 4) + ".pdf";
      o << "![" << f << "](" << fig_prefix << f << ") ([PDF](" << fig_prefix << pdf << "))\n";
    }
  }
  o << "\n";
  return o.str();
}

std::string report_markdown(const std::vector<RecipeResult>& results,
                            const std::vector<std::string>& fig_prefixes) {
  std::ostringstream o;
  o << "# Reproductions: computed verdicts\n\n";
  o << "Written by `attnlab reproduce`; every verdict below is computed from the results "
       "store.\n\n";
  o << "```\n";
  for (const RecipeResult& r : results) o << verdict_line(r) << "\n";
  o << "```\n\n";
  for (size_t i = 0; i < results.size(); ++i)
    o << recipe_markdown(results[i], i < fig_prefixes.size() ? fig_prefixes[i] : "");
  return o.str();
}

std::string checks_csv(const std::vector<RecipeResult>& results) {
  std::ostringstream o;
  o << "recipe,scale,check,kind,metric,reduce,step,group_a,a_n,a_mean,a_ci95,group_b,b_n,b_mean,b_"
       "ci95,op,value,"
       "ratio,ratio_lo,ratio_hi,outcome,why,published\n";
  for (const RecipeResult& r : results)
    for (const CheckResult& c : r.checks) {
      const Check& k = c.check;
      bool two = k.kind != "threshold";
      o << csv_escape(r.recipe.id) << "," << r.scale << "," << csv_escape(k.name) << "," << k.kind
        << "," << csv_escape(k.metric) << "," << k.reduce << "," << k.step << ","
        << csv_escape(format_filters(k.a)) << "," << c.a.n << "," << num(c.a.mean) << ","
        << num(c.a.half) << "," << (two ? csv_escape(format_filters(k.b)) : "") << ","
        << (two ? std::to_string(c.b.n) : "") << "," << (two ? num(c.b.mean) : "") << ","
        << (two ? num(c.b.half) : "") << "," << k.op << "," << num(k.value) << ","
        << (k.kind == "ratio" ? num(c.ratio) + "," + num(c.ratio_lo) + "," + num(c.ratio_hi) : ",,")
        << "," << outcome_name(c.outcome) << "," << csv_escape(c.why) << ","
        << csv_escape(k.published) << "\n";
    }
  return o.str();
}

}  // namespace attnlab::exp
