#include "core/layers/linear.h"

#include <Eigen/Dense>

namespace attnlab {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMat = Eigen::Map<RowMat>;
using CMapMat = Eigen::Map<const RowMat>;

void linear_forward(float* y, const float* x, const float* W, const float* b, int N, int in,
                    int out) {
  MapMat Y(y, N, out);
  CMapMat X(x, N, in), Wm(W, out, in);
  Y.noalias() = X * Wm.transpose();
  if (b) Y.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(b, out);
}

void linear_backward(float* dx, float* dW, float* db, const float* dy, const float* x,
                     const float* W, int N, int in, int out) {
  CMapMat dY(dy, N, out), X(x, N, in), Wm(W, out, in);
  if (dx) MapMat(dx, N, in).noalias() = dY * Wm;
  if (dW) MapMat(dW, out, in).noalias() += dY.transpose() * X;
  if (db) Eigen::Map<Eigen::RowVectorXf>(db, out) += dY.colwise().sum();
}

}  // namespace attnlab
