// The generic path of DeviceTransformer: a layer whose attention variant has no CUDA kernel
// runs the variant's CPU forward/backward/pattern, with q, k, v (and x for gated variants)
// copied to the host and the results copied back. Correct for every registered variant; the
// cost is two transfers per layer per pass.
#include <cmath>

#include "core/cuda/check.h"
#include "core/cuda/device_activations.h"
#include "core/cuda/device_model.h"
#include "core/cuda/ops.h"
#include "core/cuda/reference.h"
#include "core/tensor/error.h"

namespace attnlab::cuda {

namespace {
std::vector<float> download(const float* src, int64_t n) {
  std::vector<float> h(static_cast<size_t>(n));
  if (n) ATTNLAB_CUDA_CHECK(cudaMemcpy(h.data(), src, size_t(n) * sizeof(float), cudaMemcpyDeviceToHost));
  return h;
}
void upload(float* dst, const std::vector<float>& h) {
  if (!h.empty()) ATTNLAB_CUDA_CHECK(cudaMemcpy(dst, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice));
}
// [B, Hkv, T, Dh] -> [B, H, T, Dh]: query head h reads kv head h / (H / Hkv).
std::vector<float> repeat_kv(const std::vector<float>& kv, int B, int H, int Hkv, int T, int Dh) {
  const int64_t head = int64_t(T) * Dh;
  std::vector<float> out(static_cast<size_t>(int64_t(B) * H * head));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      std::copy_n(kv.begin() + (int64_t(b) * Hkv + h / (H / Hkv)) * head, head, out.begin() + (int64_t(b) * H + h) * head);
  return out;
}
// The reverse for gradients: sum the query heads of each group.
std::vector<float> sum_kv(const std::vector<float>& g, int B, int H, int Hkv, int T, int Dh) {
  const int64_t head = int64_t(T) * Dh;
  std::vector<float> out(static_cast<size_t>(int64_t(B) * Hkv * head), 0.0f);
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      const float* src = g.data() + (int64_t(b) * H + h) * head;
      float* dst = out.data() + (int64_t(b) * Hkv + h / (H / Hkv)) * head;
      for (int64_t i = 0; i < head; ++i) dst[i] += src[i];
    }
  return out;
}
}  // namespace

void DeviceTransformer::host_attention_forward(int layer, int B, int T, const float* q, const float* k, const float* v,
                                               const float* xn, float* heads, StreamStats* stats, const int32_t* tokens) {
  HostAttention& ha = *host_attn_[size_t(layer)];
  const int H = cfg_.n_heads, Hkv = cfg_.n_kv_heads, Dh = cfg_.head_dim(), D = cfg_.d_model;
  const int64_t N = int64_t(B) * T;
  for (const Param& p : ha.params) weights_.at(p.name).download(p.value->ptr(), p.value->numel());
  ha.shape = AttnShape{B, H, T, Dh};
  ha.Hkv = Hkv;
  ha.q = download(q, N * H * Dh);
  ha.k = repeat_kv(download(k, N * Hkv * Dh), B, H, Hkv, T, Dh);
  ha.v = repeat_kv(download(v, N * Hkv * Dh), B, H, Hkv, T, Dh);
  ha.x = download(xn, N * D);
  const AttnInputs in = ha.inputs();
  std::vector<float> out(static_cast<size_t>(N * H * Dh));
  ha.attn->forward(in, out.data());
  upload(heads, out);
  if (!stats) return;
  AttnDims d;
  d.B = B, d.Hq = H, d.Hkv = H, d.T = T, d.Dh = Dh;
  stats->resize(d);
  const bool normalized = ha.attn->normalized_rows();
  std::vector<int> tok(tokens, tokens + N);
  std::vector<double> row(static_cast<size_t>(T));
  for (int b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h)
      ha.attn->pattern(in, b, h, [&](int t, const float* r) {
        // Rows that need not sum to 1 are analysed as proxy-normalized rows (REFERENCE 1.1,
        // 8.3): |a| / sum |a|, which is the row itself for normalized variants.
        double sum = 0;
        for (int j = 0; j <= t; ++j) sum += std::abs(double(r[j]));
        for (int j = 0; j <= t; ++j)
          row[size_t(j)] = normalized ? double(r[j]) : (sum > 0 ? std::abs(double(r[j])) / sum : 0.0);
        ref::row_statistics(d, b, h, t, row.data(), tok.data(), *stats);
      });
}

void DeviceTransformer::host_attention_backward(int layer, const float* dheads, float* dq, float* dk, float* dv,
                                                float* dxn) {
  HostAttention& ha = *host_attn_[size_t(layer)];
  const int B = ha.shape.B, T = ha.shape.T, H = ha.shape.H, Dh = ha.shape.Dh, Hkv = ha.Hkv;
  const int64_t N = int64_t(B) * T;
  for (const Param& p : ha.params) p.grad->zero();
  const std::vector<float> dout = download(dheads, N * H * Dh);
  std::vector<float> gq(ha.q.size()), gk(ha.k.size()), gv(ha.v.size()), gx(ha.x.size(), 0.0f);
  ha.attn->backward(ha.inputs(), dout.data(), AttnGrads{gq.data(), gk.data(), gv.data(), gx.data()});
  upload(dq, gq);
  upload(dk, sum_kv(gk, B, H, Hkv, T, Dh));
  upload(dv, sum_kv(gv, B, H, Hkv, T, Dh));
  upload(dxn, gx);
  for (const Param& p : ha.params) {
    DeviceBuffer<float> g(p.grad->data);
    add_inplace(grad(p.name), g.get(), g.size());
    ATTNLAB_CUDA_CHECK(cudaStreamSynchronize(0));  // before g is freed
  }
}

}  // namespace attnlab::cuda
