#pragma once
// How many keys a sparse pattern may keep per query row (shared/SPARSE.md 1.1, "budget
// conventions"). Three units, as the papers state them:
//   "64"          tokens per row (decoding style: Quest's token_budget, Double Sparsity's
//   heavy_const) "0.25", "25%" a fraction rho of the row's visible keys n_t (use it to compare
//   lengths) "4b"          key blocks (MInference's top-K blocks; other patterns read it as 4 x 64
//   tokens)
// Each pattern maps a budget onto its own size parameter (docs/sparse.md has the table).
#include <string>
#include <vector>

namespace attnlab {

struct Budget {
  enum Kind { tokens, fraction, blocks } kind = tokens;
  double value = 0;
  std::string str() const;  // reads back through parse_budget
  // Keys a per-row pattern keeps for a row with n visible keys (>= 1 when n >= 1, <= n).
  // `block` converts a block budget to tokens.
  int row_keys(int n, int block) const;
};

// Throws attnlab::Error naming the accepted forms.
Budget parse_budget(const std::string& s);
// "64,0.25,4b" -> budgets, in order; empty -> none.
std::vector<Budget> parse_budgets(const std::string& list);

}  // namespace attnlab
