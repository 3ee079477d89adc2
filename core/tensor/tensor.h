#pragma once
// A small owning n-d float tensor (row-major, contiguous) with a device tag.
// There is no autograd: layers own their gradient tensors and do backward by hand.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace attnlab {

enum class Device { cpu, cuda };

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
  Device device = Device::cpu;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape_, float fill = 0.0f);

  static Tensor zeros(std::vector<int64_t> shape_) { return Tensor(std::move(shape_)); }

  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  int rank() const { return static_cast<int>(shape.size()); }
  int64_t dim(int i) const { return shape.at(i < 0 ? shape.size() + i : i); }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }

  // Re-shapes to new_shape, allocating only when the element count grows.
  void resize(std::vector<int64_t> new_shape);
  void fill(float v);
  void zero() { fill(0.0f); }

  std::string shape_str() const;
};

int64_t shape_numel(const std::vector<int64_t>& shape);
std::string shape_to_string(const std::vector<int64_t>& shape);

// Throws attnlab::Error naming `what` when t's shape differs from expected.
void check_shape(const Tensor& t, const std::vector<int64_t>& expected, const std::string& what);

// A trainable parameter as the optimizer and the checkpoint writer see it.
struct Param {
  std::string name;   // stable name used in checkpoints, e.g. "layers.0.attn.wq"
  Tensor* value;
  Tensor* grad;
  bool decay;         // AdamW weight decay applies (false for norms, biases, gains)
};

}  // namespace attnlab
