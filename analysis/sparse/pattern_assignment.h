#pragma once
// Per-head pattern assignment (issue 16 item 4; MInference's offline search, shared/SPARSE.md
// 1.4): at one budget, the recall of each pattern family decides a head's class:
//   dispersed       oracle top-k keeps < 0.9 of the mass: no selector of this size can work
//   local           a plain sliding window (no sinks) keeps >= 0.9
//   sink+window     sinks + window keeps >= 0.9 (and the plain window does not)
//   vertical-slash  vertical-slash keeps >= 0.9 (and neither window does)
//   retrieval-like  the oracle keeps >= 0.9 but no fixed-shape family does: the keys it needs
//                   depend on the content
// Families are tried in that order (the cheapest shape that works wins, as MInference remaps its
// winners). The head-table columns: "sparse_class" (an index into the meta
// "sparse_class_names") and "sparse_best_recall" (the best recall among the fixed-shape families).
#include <string>
#include <vector>

#include "analysis/head_table.h"

namespace attnlab {

const std::vector<std::string>& sparse_class_names();

// The patterns to measure (SparsityAnalyzer specs, one budget): oracle, window without and with
// `sinks` sinks, vertical-slash with `last_q`.
std::vector<std::string> assignment_patterns(int sinks = 4, int last_q = 64);

// Adds the class columns to `t`, a SparsityAnalyzer table of assignment_patterns() at one budget
// (its labels carry that budget). Throws when a family's recall is missing.
void assign_sparse_classes(HeadTable& t, const std::string& budget, int sinks = 4, int last_q = 64);

}  // namespace attnlab
