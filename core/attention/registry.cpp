// The attention registry: one line per variant. To add a variant, write its file, declare its
// factory in variants.h and add its line here; the registry-wide tests then cover it (they fail
// until tests/oracle/attention_ref.py has a reference for it).
#include <algorithm>

#include "core/attention/variants.h"
#include "core/tensor/error.h"

namespace attnlab {

namespace {

struct Entry {
  VariantInfo info;
  AttnFactory make;
  bool takes_masks;  // score-based: accepts +window/+block/+dilated
};

const std::vector<Entry>& table() {
  static const std::vector<Entry> t = {
      // clang-format off
      {{"softmax", "exp(s)/sum exp(s) (Vaswani et al. 2017)", "(none)", {"softmax", "softmax+window(size=3,sinks=1)", "softmax+block(size=3)", "softmax+dilated(size=3,rate=2,sinks=1)"}}, make_softmax, true},
      {{"window", "softmax over a sliding window plus sink keys: j < sinks or t-w < j <= t (StreamingLLM, Xiao et al. 2024)", "size=int (required), sinks=int (default 0)", {"window(size=3,sinks=1)", "window(size=2)"}}, make_window, true},
      {{"sigmoid", "sigmoid(s+b), optionally row-normalized (Ramapuram et al. 2024; Gu et al. 2025)", "bias=number|-log_n|-log_t (default -log_n, n = sequence length, t = visible keys), norm=bool (default false)", {"sigmoid", "sigmoid(bias=-log_t,norm=true)", "sigmoid(bias=0.5)"}}, make_sigmoid, true},
      {{"relu", "ReLU(s)/n with n = visible keys (Guo et al. 2024, Active-Dormant)", "(none)", {"relu", "relu+window(size=3)"}}, make_relu, true},
      {{"elu1", "elu(s)+1, Z = 1 or the row sum (Gu et al. 2025, Table 6)", "norm=bool (default false)", {"elu1", "elu1(norm=true)"}}, make_elu1, true},
      {{"softpick", "ReLU(e^s-1)/(sum|e^s-1|+eps) (Zuhri et al. 2025)", "eps=float (default 1e-8)", {"softpick", "softpick+window(size=3,sinks=1)"}}, make_softpick, true},
      {{"topk", "softmax over the k largest visible scores per query", "k=int (required)", {"topk(k=3)"}}, make_topk, true},
      {{"alibi", "softmax(s - m_h (t-j)) with geometric head slopes (Press et al. 2022)", "(none)", {"alibi"}}, make_alibi, true},
      {{"softmax1", "softmax with a virtual zero key: e^s/(1+sum e^s) (E. Miller 2023; StreamingLLM zero sink)", "(none)", {"softmax1", "softmax1+window(size=3)"}}, make_softmax1, true},
      {{"sink_logit", "softmax with a learnable per-head sink logit b_h in the denominator (gpt-oss learned sinks)", "(none); parameter sink [H]", {"sink_logit"}}, make_sink_logit, true},
      {{"kv_bias", "an explicit learnable key/value slot k', v' seen by every query (Sun et al. 2024; Gu et al. K bias with v' = 0)", "v=learned|zero (default learned); parameters k, v [H, Dh]", {"kv_bias", "kv_bias(v=zero)"}}, make_kv_bias, true},
      {{"fox", "softmax(s + sum_{i=j+1..t} log f_i), f_t = sigmoid(w_h.x_t + b_h) (Forgetting Transformer, Lin et al. 2025)", "(none); parameters forget.weight [H, D], forget.bias [H]", {"fox", "fox+window(size=3,sinks=1)"}}, make_fox, true},
      {{"gated", "softmax output times sigmoid(x W^T + b) per element or per head, before W_O (Qiu et al. 2025)", "mode=elementwise|headwise (default elementwise); parameters gate.weight, gate.bias", {"gated", "gated(mode=headwise)+window(size=3)"}}, make_gated, true},
      {{"diff", "differential attention (softmax(Q1K1) - lambda softmax(Q2K2)) V, per-head RMSNorm, * (1 - lambda_init) (Ye et al. 2024); q/k split in halves", "lambda_init=float (default 0.8 - 0.6 exp(-0.3 layer), layer 0-based); parameters lambda_q1/k1/q2/k2 [Dh/2], subln.weight [Dh]", {"diff", "diff(lambda_init=0.5)+window(size=3,sinks=1)"}}, make_diff, true},
      {{"linear", "phi(q) phi(k)^T / sqrt(Dh), optionally row-normalized (Katharopoulos et al. 2020; Gu et al. Table 6)", "feature=elu1|relu|identity (default elu1), norm=bool (default true; relu/identity use max(|sum|,1)), chunk=int (default 64)", {"linear(chunk=4)", "linear(feature=relu,norm=false,chunk=4)", "linear(feature=identity,norm=true,chunk=3)"}}, make_linear, false},
      {{"retnet", "retention S_t = gamma_h S_{t-1} + k v^T, gamma_h = 1 - 2^(-5-h) (Sun et al. 2023)", "chunk=int (default 64)", {"retnet(chunk=4)"}}, make_retnet, false},
      {{"gla", "gated linear attention, per-channel decay exp(logsigmoid(xW+b)/16) (Yang et al. 2024)", "chunk=int (default 64); parameters gate.weight [H*Dh, D], gate.bias", {"gla(chunk=4)"}}, make_gla, false},
      {{"deltanet", "delta rule S_t = (I - b k k^T) S_{t-1} + b k v^T, L2-normed q/k, b = sigmoid(x w + c) (Schlag et al. 2021; Yang et al. 2024)", "chunk=int (default 64); parameters beta.weight [H, D], beta.bias", {"deltanet(chunk=4)"}}, make_deltanet, false},
      {{"gated_deltanet", "delta rule with scalar decay exp(-e^A_log softplus(x a + dt_bias)) (Yang et al. 2025)", "chunk=int (default 64); parameters beta.*, a.weight, A_log, dt_bias", {"gated_deltanet(chunk=4)"}}, make_gated_deltanet, false},
      {{"based", "weights 1 + s + s^2/2 via the 2nd-order Taylor feature map (Arora et al. 2024)", "norm=bool (default true), chunk=int (default 64)", {"based(chunk=4)", "based(norm=false,chunk=3)"}}, make_based, false},
      // clang-format on
  };
  return t;
}

std::string variant_names() {
  std::string s;
  for (const Entry& e : table()) s += (s.empty() ? "" : ", ") + e.info.name;
  return s;
}

}  // namespace

const std::vector<VariantInfo>& attention_variants() {
  static const std::vector<VariantInfo> v = [] {
    std::vector<VariantInfo> out;
    for (const Entry& e : table()) out.push_back(e.info);
    return out;
  }();
  return v;
}

void check_attention_inputs(const AttnInputs& in, const AttnBuildContext& ctx, const char* what) {
  const AttnShape& s = in.shape;
  if (s.B < 1 || s.T < 1 || s.H != ctx.n_heads || s.Dh != ctx.head_dim)
    throw Error(std::string("attention ") + what + ": shape [B=" + std::to_string(s.B) +
                ", H=" + std::to_string(s.H) + ", T=" + std::to_string(s.T) +
                ", Dh=" + std::to_string(s.Dh) + "] does not match the variant built for H=" +
                std::to_string(ctx.n_heads) + ", Dh=" + std::to_string(ctx.head_dim));
  if (!in.q || !in.k || !in.v) throw Error(std::string("attention ") + what + ": q, k or v missing");
}

void Attention::forward_cached(const CachedAttnInputs&, float*) {
  throw Error("attention '" + spec() +
              "': cached (incremental) decoding is not supported for this variant; decode by "
              "running the full forward instead");
}

std::unique_ptr<Attention> make_attention(const std::string& spec, const AttnBuildContext& ctx) {
  if (ctx.n_heads < 1 || ctx.head_dim < 1)
    throw Error("attention '" + spec + "': n_heads and head_dim must be >= 1");
  std::vector<SpecTerm> terms = parse_spec(spec);
  const SpecTerm& head = terms.front();
  auto it = std::find_if(table().begin(), table().end(),
                         [&](const Entry& e) { return e.info.name == head.name; });
  if (it == table().end())
    throw Error("unknown attention variant '" + head.name + "' in spec '" + spec +
                "'; variants are: " + variant_names());
  MaskSet masks;
  for (size_t i = 1; i < terms.size(); ++i) {
    if (!MaskSet::is_mask(terms[i].name))
      throw Error("attention spec '" + spec + "': '" + terms[i].name +
                  "' is not a mask modifier; after '+' use window, block or dilated");
    masks.add(terms[i]);
  }
  if (!masks.empty() && !it->takes_masks)
    throw Error("attention spec '" + spec + "': variant '" + head.name +
                "' does not take mask modifiers (only score-based variants do)");
  SpecArgs args("attention variant '" + head.name + "' (parameters: " + it->info.params_help + ")",
                head.args);
  std::unique_ptr<Attention> a = it->make(args, std::move(masks), ctx);
  args.finish();
  return a;
}

}  // namespace attnlab
