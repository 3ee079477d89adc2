#pragma once
// A sparse pattern as the KV cache's per-row key hook (core/attention/attention.h KeySelector,
// core/model/kv_cache.h): during a real token-by-token cached decode, the chosen heads keep what
// the SparseSelector keeps under a schedule of sparse_replacement.h, so that
// `Transformer::forward_cached` decodes sparse:
//   decode  rows t >= prefill keep the selector's S_t, chosen from what the cache holds at step t
//           (the query, keys 0..t and the row's scores); vertical_slash's and snapkv's estimates
//           are made from the last prefill rows, which the hook records as the prefill passes
//   kv      the keys the selector keeps for row prefill - 1 are the compressed cache: every later
//           row sees only those plus the keys decoded since (snapkv, and any per-row pattern;
//           not the block patterns, which pool queries the cache does not keep)
// The prefill schedule has nothing to do during decoding and is refused.
// compress_kv_cache then makes the kv schedule's compression real: the dropped keys leave the
// cache for good (KVCache::compact) and later tokens decode dense over what is left.
#include <memory>
#include <string>
#include <vector>

#include "analysis/ablation.h"
#include "analysis/sparse/budget.h"
#include "analysis/sparse/channel_calibration.h"
#include "analysis/sparse/sparse_replacement.h"
#include "core/attention/attention.h"

namespace attnlab {

class KVCache;
class Transformer;
struct SampleOptions;

// What a kv-schedule hook records at the end of the prefill.
struct KvKeptKeys {
  int n_heads = 0, prefill = 0;
  std::vector<char> chosen;            // [L*H]: heads the pattern replaces
  std::vector<std::vector<int>> keys;  // [L*H]: the positions a chosen head keeps, ascending
};

// layer_specs: each layer's attention spec (its mask modifiers decide the visible keys);
// context: the longest sequence the hook will see; calibration: for channel_topk (else null).
KeySelector sparse_decode_hook(const std::string& spec, const Budget* budget, SparsePhase phase,
                               int prefill, const std::vector<HeadRef>& heads,
                               const std::vector<std::string>& layer_specs, int n_heads,
                               int context, const ChannelCalibration* calibration = nullptr,
                               std::shared_ptr<const KvKeptKeys>* kept = nullptr);

// After the prefill has run through a kv-schedule hook (`kept` from sparse_decode_hook): frees
// from `cache` every key the chosen heads dropped and removes the hook. A kv head keeps the
// union of its query heads' sets (every key for a head not chosen) and every position decoded
// after the prefill; with one query head per kv head the decode that follows is exactly the kv
// schedule. Batch 1. Returns the bytes freed.
size_t compress_kv_cache(KVCache& cache, const KvKeptKeys& kept);

// generate() with the KV cache compressed at the end of the prompt (SnapKV-style): the prompt is
// prefilled through a kv-schedule hook of `spec` (per-row patterns; budget may be null) on
// `heads`, every key the pattern drops from a head is freed, and the new tokens decode over what
// is left. The cache holds the prompt plus max_new positions (at most the context).
struct CompressedGeneration {
  std::vector<int32_t> tokens;  // the generated ones
  size_t kv_bytes_full = 0;     // the cache after the prompt
  size_t kv_bytes_kept = 0;     // after compression
};
CompressedGeneration generate_with_compressed_kv(Transformer& model,
                                                 const std::vector<int32_t>& prompt,
                                                 const SampleOptions& opts, const std::string& spec,
                                                 const Budget* budget,
                                                 const std::vector<HeadRef>& heads);

}  // namespace attnlab
