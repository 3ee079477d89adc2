// Central finite differences of L = sum(out * dout) against every variant's backward, on a
// tiny case, for every input (q, k, v, x) and parameter of every registered test spec.
//
// The variants compute in float, so the check is in float with the loss summed in double,
// h = 1e-3 (small, so that kinks of relu/softpick/topk are rarely straddled). Each output
// carries a rounding error of about eps_float |out_i|, so a difference quotient carries up to
// ~ eps_float * sum_i |out_i dout_i| / h of noise; the truncation error O(h^2) is negligible.
// We accept |fd - backward| <= 5e-3 * max|grad| + 8 * that noise bound.
// The PyTorch oracle test checks the same gradients in float64 to 1e-4.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "tests/core/attention_harness.h"

using namespace attnlab;

namespace {

double loss(Attention& a, const test::AttnCase& c, double* abs_sum = nullptr) {
  std::vector<float> out = test::run_forward(a, c);
  double l = 0.0, m = 0.0;
  for (size_t i = 0; i < out.size(); ++i) {
    l += double(out[i]) * c.dout[i];
    m += std::fabs(double(out[i]) * c.dout[i]);
  }
  if (abs_sum) *abs_sum = m;
  return l;
}

void check_fd(const std::string& what, std::vector<float>& xs, const std::vector<float>& grad,
              const std::function<double()>& f, double abs_loss) {
  const float h = 1e-3f;
  const double noise = 8.0 * 1.2e-7 * abs_loss / h;
  double scale = 0.0, err = 0.0;
  size_t worst = 0;
  std::vector<double> fd(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    float keep = xs[i];
    xs[i] = keep + h;
    double lp = f();
    xs[i] = keep - h;
    double lm = f();
    xs[i] = keep;
    fd[i] = (lp - lm) / (double(keep + h) - double(keep - h));
    scale = std::max(scale, std::fabs(fd[i]));
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    double e = std::fabs(fd[i] - grad[i]);
    if (e > err) err = e, worst = i;
  }
  INFO(what << ": worst element " << worst << " fd " << fd[worst] << " backward " << grad[worst]
            << " abs err " << err << " allowed " << 5e-3 * scale + noise);
  CHECK(err <= 5e-3 * scale + noise);
}

}  // namespace

TEST_CASE("every attention variant's backward matches central finite differences",
          "[attention][gradcheck]") {
  int n = 0;
  for (const std::string& spec : test::all_test_specs()) {
    INFO("spec " << spec);
    test::AttnCase c = test::make_attn_case(1, 2, 5, 4, 3, 500 + n++);
    auto a = test::build_variant(spec, c);
    test::AttnRun r = test::run_forward_backward(*a, c);
    auto f = [&] { return loss(*a, c); };
    double abs_loss = 0.0;
    loss(*a, c, &abs_loss);
    check_fd("q", c.q, r.dq, f, abs_loss);
    check_fd("k", c.k, r.dk, f, abs_loss);
    check_fd("v", c.v, r.dv, f, abs_loss);
    check_fd("x", c.x, r.dx, f, abs_loss);
    for (Param& p : a->params())
      check_fd("param " + p.name, p.value->data, r.param_grads[p.name], f, abs_loss);
  }
}
