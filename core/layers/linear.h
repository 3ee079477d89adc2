#pragma once
// y = x W^T + b with W stored [out, in] as in PyTorch. x is [N, in], y is [N, out].
namespace attnlab {

void linear_forward(float* y, const float* x, const float* W, const float* b, int N, int in,
                    int out);
// dx = dy W (overwritten, skipped when dx is null); dW += dy^T x; db += sum_n dy.
void linear_backward(float* dx, float* dW, float* db, const float* dy, const float* x,
                     const float* W, int N, int in, int out);

}  // namespace attnlab
