#pragma once
// Fused element-wise and row-wise kernels of the training step (llm.c style: plain pointers to
// device memory, explicit shapes, one launch each). Conventions shared with the CPU references
// in reference.h: input gradients (dx, ...) are overwritten, parameter gradients (dw, db) are
// accumulated (+=) so a step can sum over micro-batches. All pointers are device pointers.
#include <cuda_runtime.h>

#include <cstdint>

namespace attnlab::cuda {

// RMSNorm over the last dim C: y = x / sqrt(mean(x^2) + eps) * w. Saves rstd [N] for backward.
void rmsnorm_forward(const float* x, const float* w, int64_t N, int C, float eps, float* y,
                     float* rstd, cudaStream_t s = 0);
void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd,
                      int64_t N, int C, float* dx, float* dw, cudaStream_t s = 0);

// LayerNorm: y = (x - mean) * rstd * w + b. Saves mean, rstd [N].
void layernorm_forward(const float* x, const float* w, const float* b, int64_t N, int C, float eps,
                       float* y, float* mean, float* rstd, cudaStream_t s = 0);
void layernorm_backward(const float* dy, const float* x, const float* w, const float* mean,
                        const float* rstd, int64_t N, int C, float* dx, float* dw, float* db,
                        cudaStream_t s = 0);

// GELU, exact (erf) or the tanh approximation (GPT-2).
void gelu_forward(const float* x, int64_t n, bool tanh_approx, float* y, cudaStream_t s = 0);
void gelu_backward(const float* dy, const float* x, int64_t n, bool tanh_approx, float* dx,
                   cudaStream_t s = 0);

// SwiGLU: y = silu(gate) * up, element-wise over n.
void swiglu_forward(const float* gate, const float* up, int64_t n, float* y, cudaStream_t s = 0);
void swiglu_backward(const float* dy, const float* gate, const float* up, int64_t n, float* dgate,
                     float* dup, cudaStream_t s = 0);

// Rotary embedding in place on x [B, H, T, Dh]; the first rot_dims dims of each head rotate,
// position t by angle t * theta^(-2i/rot_dims) for pair i. interleaved: pairs (2i, 2i+1);
// otherwise halves (i, i + rot_dims/2). inverse = true rotates back (this is the backward).
void rope_apply(float* x, int B, int H, int T, int Dh, int rot_dims, float theta, bool interleaved,
                bool inverse, int pos_offset = 0, cudaStream_t s = 0);

// Softmax cross-entropy, fused forward and backward: losses[i] = -log softmax(logits_i)[y_i];
// dlogits_i = (softmax - onehot(y_i)) * grad_scale. Rows with target < 0 are ignored (loss 0,
// gradient 0). dlogits may alias logits.
void softmax_cross_entropy(const float* logits, const int* targets, int64_t N, int V,
                           float grad_scale, float* losses, float* dlogits, cudaStream_t s = 0);

// AdamW step t (1-based) as in torch.optim.AdamW: p -= lr*wd*p (if decay); moments; bias-corrected
// update p -= lr * mhat / (sqrt(vhat) + eps).
void adamw_step(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1,
                float beta2, float eps, float weight_decay, int64_t t, cudaStream_t s = 0);

// out[0] += sum(x^2) (for the global gradient norm); x *= a.
void sum_squares_accumulate(const float* x, int64_t n, float* out, cudaStream_t s = 0);
void scale_inplace(float* x, int64_t n, float a, cudaStream_t s = 0);

// y[N, C] += bias[C] broadcast over rows; db[C] += column sums of dy [N, C].
void add_bias(float* y, const float* bias, int64_t N, int C, cudaStream_t s = 0);
void bias_backward(const float* dy, int64_t N, int C, float* db, cudaStream_t s = 0);

}  // namespace attnlab::cuda

namespace attnlab::cuda {

// out = a + b (out may alias a or b); y += x.
void add(const float* a, const float* b, int64_t n, float* out, cudaStream_t s = 0);
void add_inplace(float* y, const float* x, int64_t n, cudaStream_t s = 0);

// out[b,t,:] = wte[tokens[b,t], :] (+ wpe[t, :] when wpe is given). Throws nothing on device:
// token ids must already be checked in [0, V) by the caller (the data loader does).
void embedding_forward(const int* tokens, const float* wte, const float* wpe, int B, int T, int C, float* out,
                       cudaStream_t s = 0);
// dwte[tokens[b,t], :] += dout[b,t,:] (atomics); dwpe[t, :] += sum_b dout[b,t,:] when dwpe is given.
void embedding_backward(const int* tokens, const float* dout, int B, int T, int C, float* dwte, float* dwpe,
                        cudaStream_t s = 0);

// The fused QKV projection output [B, T, (Hq + 2*Hkv) * Dh] split into q [B,Hq,T,Dh] and
// k, v [B,Hkv,T,Dh]; the backward packs dq, dk, dv back into dqkv.
void split_qkv(const float* qkv, int B, int T, int Hq, int Hkv, int Dh, float* q, float* k, float* v,
               cudaStream_t s = 0);
void split_qkv_backward(const float* dq, const float* dk, const float* dv, int B, int T, int Hq, int Hkv, int Dh,
                        float* dqkv, cudaStream_t s = 0);
// Heads [B,H,T,Dh] -> rows [B,T,H*Dh], and its backward (the reverse permutation).
void merge_heads(const float* x, int B, int H, int T, int Dh, float* out, cudaStream_t s = 0);
void merge_heads_backward(const float* dout, int B, int H, int T, int Dh, float* dx, cudaStream_t s = 0);

}  // namespace attnlab::cuda
