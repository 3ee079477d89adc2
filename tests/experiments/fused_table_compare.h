#pragma once
// Checks a table from the fused statistics (StreamStatsTable, `analyze --device cuda`) against
// the CPU analyzer's table on the same inputs: every metric both have, per head; coverage only
// where no row was censored (elsewhere the fused value is a lower bound); the alpha and
// sink_frac vectors; the Sink_k scalars. Shared by the host tests (reference statistics) and the
// GPU tests (kernel statistics), which differ only in tolerances.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "analysis/head_table.h"

namespace attnlab::test {

struct FusedTolerance {
  double value = 1e-4;  // |fused - cpu| <= value * max(1, |cpu|) for head metrics and alpha
  double frac = 1e-9;   // sink1_frac / sink_frac entries and Sink_k % / 100: indicators may flip
                        // on the GPU where alpha_k lies within rounding of eps
};

inline bool fused_close(double got, double want, double tol) {
  return std::abs(got - want) <= tol * std::max(1.0, std::abs(want));
}

inline void check_fused_matches_cpu(const HeadTable& fused, const HeadTable& cpu, const FusedTolerance& tol = {}) {
  REQUIRE(fused.n_layers() == cpu.n_layers());
  REQUIRE(fused.n_heads() == cpu.n_heads());
  for (const char* m : {"alpha1", "sink1_frac", "sink_mass", "entropy", "norm_entropy", "cover_mean", "cover_median",
                        "cover_censored", "prev_token", "prefix_matching", "echo", "tl_duplicate", "top1_mass",
                        "top32_mass"}) {
    INFO(m);
    CHECK(fused.has(m));
  }
  CHECK(fused.meta("not_measured").find("value_norm1_ratio") != std::string::npos);
  int compared = 0;
  for (const std::string& m : fused.metrics()) {
    if (!cpu.has(m)) continue;  // cover_censored, top<k>_mass: the fused pass's own
    const bool cover = m == "cover_mean" || m == "cover_median";
    const double t = m == "sink1_frac" ? tol.frac : tol.value;
    for (int l = 0; l < cpu.n_layers(); ++l)
      for (int h = 0; h < cpu.n_heads(); ++h) {
        const double got = fused.get(m, l, h), want = cpu.get(m, l, h);
        INFO(m << " L" << l << "H" << h << ": fused " << got << ", cpu " << want);
        if (cover && fused.get("cover_censored", l, h) > 0) CHECK(got <= want + t);
        else CHECK(fused_close(got, want, t));
        // Chance levels come from the same uniform pass over the same tokens and masks.
        if (cpu.has_chance(m)) CHECK(fused.chance(m, l, h) == Approx(cpu.chance(m, l, h)).margin(1e-12));
        ++compared;
      }
  }
  CHECK(compared >= 10 * cpu.n_layers() * cpu.n_heads());
  for (int l = 0; l < cpu.n_layers(); ++l)
    for (int h = 0; h < cpu.n_heads(); ++h) {
      for (const char* v : {"alpha", "sink_frac"}) {
        const auto& got = fused.head_vector(v, l, h);
        const auto& want = cpu.head_vector(v, l, h);
        REQUIRE(got.size() == want.size());
        const double t = std::string(v) == "alpha" ? tol.value : tol.frac;
        double worst = 0;
        for (size_t k = 0; k < got.size(); ++k) worst = std::max(worst, std::abs(got[k] - want[k]));
        INFO(v << " L" << l << "H" << h << ": worst difference " << worst);
        CHECK(worst <= t);
      }
    }
  for (const auto& [name, want] : cpu.scalars()) {
    // Intervals over sequences need per-sequence values the fused streams do not keep.
    if (name.rfind("sink_k", 0) != 0 || name.find("_ci95") != std::string::npos) continue;
    INFO(name);
    CHECK(std::abs(fused.scalar(name) - want) <= 100.0 * tol.frac + 1e-9);
  }
  for (const char* k : {"T", "sequences", "attention", "sink_eps"}) {
    INFO(k);
    CHECK(fused.meta(k) == cpu.meta(k));
  }
}

}  // namespace attnlab::test
