#pragma once
// A sparse pattern as the KV cache's per-row key hook (core/attention/attention.h KeySelector,
// core/model/kv_cache.h): during a real token-by-token cached decode, rows t >= prefill of the
// chosen heads keep what the SparseSelector keeps under the decode schedule
// (sparse_replacement.h), so `Transformer::forward_cached` decodes sparse. The selector sees only
// what the cache holds at step t: the query, keys 0..t and the row's scores.
// vertical_slash is refused (its estimate needs the prefill's attention rows, which the cache
// does not keep).
#include <string>
#include <vector>

#include "analysis/ablation.h"
#include "analysis/sparse/budget.h"
#include "analysis/sparse/channel_calibration.h"
#include "core/attention/attention.h"

namespace attnlab {

// layer_specs: each layer's attention spec (its mask modifiers decide the visible keys);
// context: the longest sequence the hook will see; calibration: for channel_topk (else null).
KeySelector sparse_decode_hook(const std::string& spec, const Budget* budget, int prefill,
                               const std::vector<HeadRef>& heads,
                               const std::vector<std::string>& layer_specs, int n_heads,
                               int context, const ChannelCalibration* calibration = nullptr);

}  // namespace attnlab
