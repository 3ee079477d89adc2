#pragma once
// In-context linear regression (Garg et al. 2022, dtsip/in-context-learning): per prompt
// w ~ N(0, I_d), x_i ~ N(0, I_d), y_i = w.x_i (+ noise). The model reads continuous vectors
//   x_1, y~_1, x_2, y~_2, ...   (y~_i = (y_i, 0, ..., 0))
// through a linear read-in (Batch::features [B, T, d]) and predicts y_i at the x_i position
// (Batch::float_targets, masked to the x positions). Baselines: least squares, 3-NN, averaging.
#include <string>

#include "datasets/task.h"

namespace attnlab {

struct TaskInfo;
class TaskParams;

struct LinearRegressionConfig {
  int dim = 5;        // d (Garg: 20 after curriculum; R14 uses 5-10)
  int points = 11;    // in-context examples n; len = 2n (Garg's default is 2d + 1 points)
  double noise = 0;   // std of Gaussian noise added to y (noisy linear regression)
  int batch = 64;
  uint64_t seed = 0;
};

class LinearRegressionTask : public SeededTask {
 public:
  explicit LinearRegressionTask(const LinearRegressionConfig& cfg);
  static TaskInfo info();
  static LinearRegressionConfig config_from(const TaskParams& p);

  std::string name() const override { return "linear_regression"; }
  int vocab_size() const override { return 0; }  // continuous: no token vocabulary
  std::string describe() const override;
  void next(Batch& batch) override;
  // Takes predictions [B, T] (read at the x positions). "squared_error": mean over predicted
  // points of (y^ - y)^2 / d (Garg's normalisation), and the same for the baselines on this
  // batch: "ols_squared_error", "knn3_squared_error", "averaging_squared_error".
  std::vector<TaskMetric> score_rows(const Batch& batch, const std::vector<SampleMeta>& meta,
                                const Tensor& predictions) const override;
  int dim() const { return cfg_.dim; }

 protected:
  void generate_row(Rng&, int32_t*, int32_t*, float*, SampleMeta&) override {}

 private:
  LinearRegressionConfig cfg_;
};

enum class RegressionBaseline { least_squares, knn3, averaging, zero };

// A baseline's prediction of y_i from the i-1 earlier (x, y) pairs of its prompt, at every
// x position of a linear_regression batch; [B, T] with zeros at the y positions.
// least_squares is the minimum-norm solution when i - 1 < d (torch.linalg.lstsq with gelsy).
Tensor regression_baseline(const Batch& batch, RegressionBaseline kind);

// Squared error / d per in-context example index: curve[i] = mean over the batch of
// (pred at x_{i+1} - y_{i+1})^2 / d. The published plots show this against i.
std::vector<double> regression_error_curve(const Batch& batch, const Tensor& predictions);

}  // namespace attnlab
