#include "datasets/linear_regression.h"

#include <Eigen/Dense>
#include <algorithm>
#include <numeric>

#include "core/tensor/error.h"
#include "core/tensor/rng.h"
#include "datasets/task_registry.h"

namespace attnlab {

LinearRegressionTask::LinearRegressionTask(const LinearRegressionConfig& cfg)
    : SeededTask(cfg.seed, cfg.batch, 2 * cfg.points), cfg_(cfg) {
  auto fail = [](const std::string& m) { throw Error("linear_regression: " + m); };
  if (cfg.batch < 1) fail("batch must be >= 1");
  if (cfg.dim < 1) fail("dim must be >= 1");
  if (cfg.points < 1) fail("points must be >= 1");
  if (!(cfg.noise >= 0)) fail("noise must be >= 0");
}

void LinearRegressionTask::next(Batch& batch) {
  Rng rng(batch_seed(seed_, index_++));
  const int B = B_, T = T_, d = cfg_.dim, n = cfg_.points;
  batch.resize(B, T);
  std::fill(batch.mask.begin(), batch.mask.end(), 0.0f);
  batch.in_dim = d;
  batch.features.assign(size_t(B) * T * d, 0.0f);
  batch.float_targets.assign(size_t(B) * T, 0.0f);
  meta_.assign(B, SampleMeta{});
  std::vector<double> w(d), x(d);
  for (int b = 0; b < B; ++b) {
    for (double& wi : w) wi = rng.normal();
    for (int i = 0; i < n; ++i) {
      double y = 0;
      for (int k = 0; k < d; ++k) {
        x[k] = rng.normal();
        y += w[k] * x[k];
      }
      if (cfg_.noise > 0) y += cfg_.noise * rng.normal();
      const size_t tx = size_t(b) * T + 2 * i, ty = tx + 1;
      for (int k = 0; k < d; ++k) batch.features[tx * d + k] = float(x[k]);
      batch.features[ty * d] = float(y);
      batch.float_targets[tx] = float(y);
      batch.float_targets[ty] = float(y);  // unscored: the y slot only carries the value
      batch.mask[tx] = 1.0f;
      meta_[b].query_positions.push_back(2 * i);
    }
  }
}

namespace {

void check_regression_batch(const Batch& batch) {
  if (batch.in_dim < 1 || batch.T % 2 != 0 ||
      batch.features.size() != size_t(batch.B) * batch.T * batch.in_dim ||
      batch.float_targets.size() != size_t(batch.B) * batch.T)
    throw Error("linear_regression: batch is not a linear_regression batch (features missing)");
}

void check_predictions(const Batch& batch, const Tensor& p) {
  if (p.numel() != int64_t(batch.B) * batch.T || (p.rank() != 2 && p.rank() != 3) ||
      p.dim(0) != batch.B || p.dim(1) != batch.T)
    throw Error("linear_regression: expected predictions [" + std::to_string(batch.B) + ", " +
                std::to_string(batch.T) + "], got " + p.shape_str());
}

}  // namespace

Tensor regression_baseline(const Batch& batch, RegressionBaseline kind) {
  check_regression_batch(batch);
  const int B = batch.B, T = batch.T, d = batch.in_dim, n = T / 2;
  Tensor out({B, T});
  for (int b = 0; b < B; ++b) {
    Eigen::MatrixXd X(n, d);
    Eigen::VectorXd y(n);
    for (int i = 0; i < n; ++i) {
      const size_t tx = size_t(b) * T + 2 * i;
      for (int k = 0; k < d; ++k) X(i, k) = batch.features[tx * d + k];
      y(i) = batch.float_targets[tx];
    }
    for (int i = 0; i < n; ++i) {  // predict y_i from pairs 0..i-1
      double pred = 0;
      if (i > 0 && kind == RegressionBaseline::least_squares) {
        Eigen::VectorXd w = X.topRows(i).completeOrthogonalDecomposition().solve(y.head(i));
        pred = X.row(i).dot(w);
      } else if (i > 0 && kind == RegressionBaseline::averaging) {
        Eigen::VectorXd w = Eigen::VectorXd::Zero(d);
        for (int j = 0; j < i; ++j) w += y(j) * X.row(j).transpose();
        pred = X.row(i).dot(w / double(i));
      } else if (i > 0 && kind == RegressionBaseline::knn3) {
        std::vector<double> dist(i);
        for (int j = 0; j < i; ++j) dist[j] = (X.row(j) - X.row(i)).squaredNorm();
        std::vector<int> idx(i);
        std::iota(idx.begin(), idx.end(), 0);
        const int k = std::min(3, i);
        std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                          [&](int a, int c) { return dist[a] < dist[c]; });
        for (int j = 0; j < k; ++j) pred += y(idx[j]);
        pred /= k;
      }
      out.data[size_t(b) * T + 2 * i] = float(pred);
    }
  }
  return out;
}

std::vector<double> regression_error_curve(const Batch& batch, const Tensor& predictions) {
  check_regression_batch(batch);
  check_predictions(batch, predictions);
  const int B = batch.B, T = batch.T, d = batch.in_dim, n = T / 2;
  std::vector<double> curve(n, 0.0);
  for (int b = 0; b < B; ++b)
    for (int i = 0; i < n; ++i) {
      const size_t t = size_t(b) * T + 2 * i;
      const double e = double(predictions.data[t]) - batch.float_targets[t];
      curve[i] += e * e / d;
    }
  for (double& c : curve) c /= B;
  return curve;
}

std::vector<TaskMetric> LinearRegressionTask::score_rows(const Batch& batch,
                                                    const std::vector<SampleMeta>& meta,
                                                    const Tensor& predictions) const {
  auto mean_metric = [&](const std::string& name, const Tensor& p) {
    std::vector<double> c = regression_error_curve(batch, p);
    TaskMetric m{name, 0, int64_t(c.size()) * batch.B};
    for (double v : c) m.value += v;
    m.value /= double(c.size());
    return m;
  };
  return {mean_metric("squared_error", predictions),
          mean_metric("ols_squared_error", regression_baseline(batch, RegressionBaseline::least_squares)),
          mean_metric("knn3_squared_error", regression_baseline(batch, RegressionBaseline::knn3)),
          mean_metric("averaging_squared_error",
                      regression_baseline(batch, RegressionBaseline::averaging))};
}

std::string LinearRegressionTask::describe() const {
  return "linear_regression(dim=" + std::to_string(cfg_.dim) +
         ",points=" + std::to_string(cfg_.points) + ",noise=" + format_number(cfg_.noise) +
         ",batch=" + std::to_string(cfg_.batch) + ",seed=" + std::to_string(cfg_.seed) + ")";
}

LinearRegressionConfig LinearRegressionTask::config_from(const TaskParams& p) {
  LinearRegressionConfig c;
  c.dim = int(p.integer("dim"));
  c.points = int(p.integer("points"));
  if (int64_t len = p.integer("len"); len > 0) {
    if (len % 2 != 0) p.fail("len=" + std::to_string(len) + " must be even (len = 2 * points)");
    c.points = int(len / 2);
  }
  c.noise = p.real("noise");
  c.batch = int(p.integer("batch"));
  c.seed = p.seed("seed");
  return c;
}

TaskInfo LinearRegressionTask::info() {
  const LinearRegressionConfig d;
  return TaskInfo{
      "linear_regression",
      "in-context linear regression (Garg et al. 2022): x, w ~ N(0, I_d), y = w.x; continuous "
      "read-in, y predicted at each x; error vs least squares, 3-NN, averaging",
      {
          {"dim", std::to_string(d.dim), "input dimension d"},
          {"points", std::to_string(d.points), "in-context examples (len = 2 * points)"},
          {"len", "0", "> 0: sequence length, sets points = len / 2"},
          {"noise", format_number(d.noise), "std of noise added to y"},
          {"batch", std::to_string(d.batch), "prompts per batch"},
          {"seed", std::to_string(d.seed), "random seed"},
      },
      [](const TaskParams& p) -> std::unique_ptr<Task> {
        return std::make_unique<LinearRegressionTask>(config_from(p));
      }};
}

}  // namespace attnlab
