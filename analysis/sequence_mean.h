#pragma once
// A probe aggregate with its uncertainty: the mean over sequences of a per-sequence value, and a
// 95 % interval over sequences. Sequences, not rows, are the independent draws of a probe (rows of
// one sequence share its tokens), so the interval is taken over them: mean +- t_{0.975, n-1} s /
// sqrt(n), with s the sample standard deviation of the per-sequence values.
#include <cstdint>

namespace attnlab {

// Half-width of the 95 % t-interval of a mean over n draws with sample standard deviation sd;
// NaN for n < 2 (no interval can be given from one draw).
double ci95_half_width(double sd, int64_t n);

class SequenceMean {
 public:
  // Adds to the current sequence; its value is sum(value) / sum(weight) (a plain row mean with
  // the default weight, a ratio of counts such as zeros / entries otherwise).
  void add(double value, double weight = 1.0) {
    sum_ += value;
    weight_ += weight;
  }
  // Folds the current sequence's value in. A sequence that added no weight (for example no row
  // qualified) has no value and is not counted.
  void end_sequence();
  // Adds a whole sequence's value at once.
  void add_sequence(double value);

  double mean() const;   // NaN when no sequence had a value
  double ci95() const;   // half-width; NaN below two sequences
  int64_t sequences() const { return n_; }

 private:
  double sum_ = 0, weight_ = 0;        // current sequence
  double mean_ = 0, m2_ = 0;           // over sequences (Welford: no cancellation for equal values)
  int64_t n_ = 0;
};

}  // namespace attnlab
