#pragma once
// A sparse pattern as the KV cache's per-row key hook (core/attention/attention.h KeySelector,
// core/model/kv_cache.h): during a real token-by-token cached decode, the chosen heads keep what
// the SparseSelector keeps under a schedule of sparse_replacement.h, so that
// `Transformer::forward_cached` decodes sparse:
//   decode  rows t >= prefill keep the selector's S_t, chosen from what the cache holds at step t
//           (the query, keys 0..t and the row's scores); vertical_slash's estimate is made from
//           the last prefill rows, which the hook records as the prefill passes through it
//   kv      the keys the selector keeps for row prefill - 1 are the compressed cache: every later
//           row sees only those plus the keys decoded since (SnapKV-style; per-row patterns
//           only, since a block pattern pools queries the cache does not keep)
// The prefill schedule has nothing to do during decoding and is refused.
#include <string>
#include <vector>

#include "analysis/ablation.h"
#include "analysis/sparse/budget.h"
#include "analysis/sparse/channel_calibration.h"
#include "analysis/sparse/sparse_replacement.h"
#include "core/attention/attention.h"

namespace attnlab {

// layer_specs: each layer's attention spec (its mask modifiers decide the visible keys);
// context: the longest sequence the hook will see; calibration: for channel_topk (else null).
KeySelector sparse_decode_hook(const std::string& spec, const Budget* budget, SparsePhase phase,
                               int prefill, const std::vector<HeadRef>& heads,
                               const std::vector<std::string>& layer_specs, int n_heads,
                               int context, const ChannelCalibration* calibration = nullptr);

}  // namespace attnlab
