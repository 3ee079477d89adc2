#include "core/layers/linear.h"

#include <Eigen/Dense>
#include <algorithm>

#include "core/layers/gemm.h"

namespace attnlab {

void linear_forward(float* y, const float* x, const float* W, const float* b, int N, int in,
                    int out) {
  // The bias goes in first and the product accumulates onto it: one pass over y fewer than
  // adding it afterwards.
  if (b)
    for (int n = 0; n < N; ++n) std::copy(b, b + out, y + size_t(n) * out);
  sgemm(false, true, N, out, in, 1.0f, x, in, W, in, b ? 1.0f : 0.0f, y, out);
}

void linear_backward(float* dx, float* dW, float* db, const float* dy, const float* x,
                     const float* W, int N, int in, int out) {
  if (dx) sgemm(false, false, N, in, out, 1.0f, dy, out, W, in, 0.0f, dx, in);
  if (dW) sgemm(true, false, out, in, N, 1.0f, dy, out, x, in, 1.0f, dW, in);
  using CMapMat =
      Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
  if (db) Eigen::Map<Eigen::RowVectorXf>(db, out) += CMapMat(dy, N, out).colwise().sum();
}

}  // namespace attnlab
