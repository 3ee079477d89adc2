#pragma once
// The streaming core shared by the recall engine and sparse replacement: one head's attention
// rows, streamed with Attention::pattern, handed to every selector in the order they need (the
// vertical-slash estimate first, block patterns a query block at a time), never holding T x T:
// at most one chunk of rows (the least common multiple of the query blocks) plus the estimation
// rows.
#include <functional>
#include <vector>

#include "analysis/key_mask.h"
#include "analysis/sparse/selector.h"
#include "core/attention/attention.h"

namespace attnlab {

struct SelectionRun {
  const Attention* attention = nullptr;
  const AttnInputs* inputs = nullptr;
  int b = 0, h = 0;
  const KeyMask* mask = nullptr;  // prepared for inputs->shape.T
  int limit = 0;                  // see HeadView::limit; <= 0 means T
  bool causal = false;            // HeadView::causal
  const std::vector<int>* channels = nullptr;
};

// visit(t, row, keys): row t normalized (proxy-normalized for variants whose rows need not sum to
// one, analysis/row_metrics.h), keys[i] = selector i's S_t. Rows arrive in order t = 0..T-1.
using SelectionVisitor =
    std::function<void(int t, const float* row, const std::vector<std::vector<int>>& keys)>;
void stream_selections(const SelectionRun& run, const std::vector<SparseSelector*>& selectors,
                       const SelectionVisitor& visit);

}  // namespace attnlab
