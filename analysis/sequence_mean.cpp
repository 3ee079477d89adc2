#include "analysis/sequence_mean.h"

#include <boost/math/distributions/students_t.hpp>
#include <algorithm>
#include <cmath>
#include <limits>

namespace attnlab {

double ci95_half_width(double sd, int64_t n) {
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const boost::math::students_t dist(double(n - 1));
  return boost::math::quantile(dist, 0.975) * sd / std::sqrt(double(n));
}

void SequenceMean::end_sequence() {
  if (weight_ > 0) add_sequence(sum_ / weight_);
  sum_ = weight_ = 0;
}

void SequenceMean::add_sequence(double value) {
  ++n_;
  const double delta = value - mean_;
  mean_ += delta / double(n_);
  m2_ += delta * (value - mean_);
}

double SequenceMean::mean() const { return n_ > 0 ? mean_ : std::numeric_limits<double>::quiet_NaN(); }

double SequenceMean::ci95() const {
  if (n_ < 2) return std::numeric_limits<double>::quiet_NaN();
  return ci95_half_width(std::sqrt(std::max(0.0, m2_ / double(n_ - 1))), n_);
}

}  // namespace attnlab
