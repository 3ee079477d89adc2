#include "core/tensor/tensor.h"

#include <algorithm>
#include <sstream>

#include "core/tensor/error.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace attnlab {

#if defined(__GLIBC__)
namespace {
// A training step allocates and frees the same buffers of several MB (activations, attention
// caches) every step. glibc serves blocks that large with fresh mmaps, so each step paid page
// faults and the kernel's zeroing for all of them. Keeping freed memory in the heap instead made
// the bench model's training 1.33x faster (bench_train, median of 5 interleaved pairs, range
// 1.25-2.34x); the cost is that a process keeps its peak heap until it exits.
const bool kHeapReusesFreedMemory = [] {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}();
}  // namespace
#endif

int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw Error("negative dimension in shape " + shape_to_string(shape));
    n *= d;
  }
  return n;
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << ']';
  return os.str();
}

Tensor::Tensor(std::vector<int64_t> shape_, float fill)
    : shape(std::move(shape_)), data(static_cast<size_t>(shape_numel(shape)), fill) {}

void Tensor::resize(std::vector<int64_t> new_shape) {
  data.resize(static_cast<size_t>(shape_numel(new_shape)));
  shape = std::move(new_shape);
}

void Tensor::fill(float v) { std::fill(data.begin(), data.end(), v); }

std::string Tensor::shape_str() const { return shape_to_string(shape); }

void check_shape(const Tensor& t, const std::vector<int64_t>& expected, const std::string& what) {
  if (t.shape != expected)
    throw Error(what + ": expected shape " + shape_to_string(expected) + ", got " + t.shape_str());
}

}  // namespace attnlab
