#pragma once
// NumPy <-> C++ at the module's edge. Everything a caller passes is checked here (dtype, shape,
// contiguity, token range) so that bad input is an attnlab.Error naming the problem, never a
// crash inside the model.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace attnlab {
class Tokenizer;
}

namespace attnlab::py {

namespace pyb = pybind11;

// Token ids [B, T] read from a 1-D (B = 1) or 2-D integer array, a list of ints, or text (encoded
// with `tok` under the model's BOS policy). Throws attnlab::Error for a float/bool dtype, another
// rank, an empty or non-C-contiguous array, ids outside [0, vocab) or T > context.
struct TokenBatch {
  std::vector<int32_t> ids;
  int B = 0, T = 0;
};
TokenBatch token_batch(const pyb::handle& obj, const Tokenizer* tok, int vocab, int context);

// Continuous inputs [B, T, in_dim] (in-context regression models) from a 2-D ([T, in_dim], B = 1)
// or 3-D float array (float64 is converted). Throws attnlab::Error for an integer/bool dtype,
// another shape, a non-C-contiguous array, NaN/inf, or T > context.
struct FeatureBatch {
  std::vector<float> values;
  int B = 0, T = 0;
};
FeatureBatch feature_batch(const pyb::handle& obj, int in_dim, int context);

// A float32 NumPy array that owns `data` (moved, not copied).
pyb::array_t<float> owned_array(std::vector<float>&& data, const std::vector<int64_t>& shape);
pyb::array_t<int32_t> owned_array(std::vector<int32_t>&& data, const std::vector<int64_t>& shape);
pyb::array_t<double> owned_array(std::vector<double>&& data, const std::vector<int64_t>& shape);

// Bytes a tokenizer gives (one token may be half a UTF-8 character) as a str, with U+FFFD for
// what is not valid UTF-8: pybind11's own conversion would raise instead.
pyb::str lossy_str(const std::string& bytes);

// nlohmann::json -> Python objects (through the json module: configs and tables are small).
pyb::object json_to_py(const std::string& json_text);

}  // namespace attnlab::py
