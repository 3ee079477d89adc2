// In-context linear regression (Garg et al.): layout of features and targets, and the
// least-squares / 3-NN / averaging baselines on known answers.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/tensor/error.h"
#include "datasets/linear_regression.h"

using namespace attnlab;

TEST_CASE("linear_regression: x then y~ = (y, 0...) tokens; targets at the x positions") {
  LinearRegressionConfig c;
  c.dim = 4;
  c.points = 9;
  c.batch = 8;
  LinearRegressionTask task(c);
  Batch batch;
  task.next(batch);
  REQUIRE(batch.T == 18);
  REQUIRE(batch.in_dim == 4);
  REQUIRE(batch.features.size() == size_t(8 * 18 * 4));
  for (int b = 0; b < batch.B; ++b) {
    // y = w.x for one w per prompt: recover w from the first 4 points, check the rest.
    Tensor ols = regression_baseline(batch, RegressionBaseline::least_squares);
    for (int i = 0; i < 9; ++i) {
      const size_t tx = size_t(b) * 18 + 2 * i, ty = tx + 1;
      CHECK(batch.mask[tx] == 1.0f);
      CHECK(batch.mask[ty] == 0.0f);
      CHECK(batch.features[ty * 4] == batch.float_targets[tx]);
      for (int k = 1; k < 4; ++k) CHECK(batch.features[ty * 4 + k] == 0.0f);
      if (i >= 4) CHECK(ols.data[tx] == Approx(batch.float_targets[tx]).margin(1e-3));
    }
    CHECK(task.meta()[b].query_positions.size() == 9);
  }
}

TEST_CASE("linear_regression: OLS error vanishes once points >= d; baselines are ordered") {
  LinearRegressionConfig c;
  c.dim = 5;
  c.points = 11;
  c.batch = 256;
  c.seed = 11;
  LinearRegressionTask task(c);
  Batch batch;
  task.next(batch);
  std::vector<double> ols = regression_error_curve(batch, regression_baseline(batch, RegressionBaseline::least_squares));
  std::vector<double> zero = regression_error_curve(batch, regression_baseline(batch, RegressionBaseline::zero));
  std::vector<double> avg = regression_error_curve(batch, regression_baseline(batch, RegressionBaseline::averaging));
  std::vector<double> knn = regression_error_curve(batch, regression_baseline(batch, RegressionBaseline::knn3));
  // Predicting 0 costs E[y^2]/d = 1; with 0 examples every baseline predicts 0.
  CHECK(zero[3] == Approx(1.0).margin(0.2));
  CHECK(ols[0] == zero[0]);
  // Min-norm least squares with k < d examples: expected error (d - k)/d.
  CHECK(ols[2] == Approx(3.0 / 5).margin(0.15));
  for (int i = 5; i < 11; ++i) CHECK(ols[i] < 1e-6);
  CHECK(avg[10] < zero[10]);
  CHECK(avg[10] > ols[10]);
  CHECK(knn[10] > ols[10]);
  // Score reports the model's error next to the baselines on the same batch.
  auto m = task.score(batch, regression_baseline(batch, RegressionBaseline::least_squares));
  REQUIRE(m.size() == 4);
  CHECK(m[0].name == "squared_error");
  CHECK(m[0].value == Approx(m[1].value));
  CHECK(m[1].name == "ols_squared_error");
  CHECK_THROWS_AS(task.score(batch, Tensor({8, 3})), Error);
}

TEST_CASE("linear_regression: 3-NN and averaging on a hand-made prompt") {
  Batch batch;
  batch.resize(1, 8);
  batch.in_dim = 1;
  batch.features.assign(8, 0.0f);
  batch.float_targets.assign(8, 0.0f);
  const float xs[4] = {1, 2, 10, 3}, ys[4] = {2, 4, 20, 7};
  for (int i = 0; i < 4; ++i) {
    batch.features[2 * i] = xs[i];
    batch.features[2 * i + 1] = ys[i];
    batch.float_targets[2 * i] = ys[i];
  }
  Tensor knn = regression_baseline(batch, RegressionBaseline::knn3);
  CHECK(knn.data[0] == 0.0f);
  CHECK(knn.data[2] == 2.0f);              // 1 neighbour
  CHECK(knn.data[4] == Approx(3.0));       // mean of 2 and 4
  CHECK(knn.data[6] == Approx((4 + 2 + 20) / 3.0));  // 3 nearest to x=3: 2, 1, 10
  Tensor avg = regression_baseline(batch, RegressionBaseline::averaging);
  // w = mean(y_i x_i) over (1,2), (2,4), (10,20) = (2 + 8 + 200) / 3 = 70; pred at x=3: 210.
  CHECK(avg.data[6] == Approx(210.0));
  Tensor ols = regression_baseline(batch, RegressionBaseline::least_squares);
  CHECK(ols.data[2] == Approx(4.0));   // w = 2 from (1, 2)
  CHECK(ols.data[6] == Approx(6.0));   // y = 2x fits the first three exactly
}
