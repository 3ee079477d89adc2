#include "python/arrays.h"

#include <cmath>
#include <memory>

#include "core/tensor/error.h"
#include "core/tokenizer/tokenizer.h"

namespace attnlab::py {

namespace {

template <typename T>
pyb::array_t<T> owned(std::vector<T>&& data, const std::vector<int64_t>& shape) {
  auto* holder = new std::vector<T>(std::move(data));
  pyb::capsule free_when_done(holder, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  std::vector<pyb::ssize_t> dims(shape.begin(), shape.end());
  return pyb::array_t<T>(dims, holder->data(), free_when_done);
}

void check_range(const std::vector<int32_t>& ids, int T, int vocab) {
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      throw Error("token id " + std::to_string(ids[i]) + " at [" + std::to_string(i / T) + ", " +
                  std::to_string(i % T) + "] is outside the model's vocabulary [0, " +
                  std::to_string(vocab) + ")");
}

}  // namespace

pyb::array_t<float> owned_array(std::vector<float>&& d, const std::vector<int64_t>& s) {
  return owned(std::move(d), s);
}
pyb::array_t<int32_t> owned_array(std::vector<int32_t>&& d, const std::vector<int64_t>& s) {
  return owned(std::move(d), s);
}
pyb::array_t<double> owned_array(std::vector<double>&& d, const std::vector<int64_t>& s) {
  return owned(std::move(d), s);
}

pyb::str lossy_str(const std::string& bytes) {
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), pyb::ssize_t(bytes.size()), "replace");
  if (!s) throw pyb::error_already_set();
  return pyb::reinterpret_steal<pyb::str>(s);
}

pyb::object json_to_py(const std::string& json_text) {
  return pyb::module_::import("json").attr("loads")(json_text);
}

TokenBatch token_batch(const pyb::handle& obj, const Tokenizer* tok, int vocab, int context) {
  TokenBatch out;
  if (pyb::isinstance<pyb::str>(obj)) {
    if (!tok) throw Error("this model carries no tokenizer: pass token ids, not text");
    out.ids = tok->encode_for_model(obj.cast<std::string>());
    out.B = 1;
    out.T = int(out.ids.size());
  } else if (pyb::isinstance<pyb::array>(obj)) {
    pyb::array a = pyb::reinterpret_borrow<pyb::array>(obj);
    const char kind = a.dtype().kind();
    if (kind != 'i' && kind != 'u')
      throw Error("tokens must be an integer array, got dtype " + std::string(pyb::str(a.dtype())));
    if (a.ndim() != 1 && a.ndim() != 2)
      throw Error("tokens must be [T] or [batch, T], got an array of rank " +
                  std::to_string(a.ndim()));
    if (!(a.flags() & pyb::array::c_style))
      throw Error("tokens must be a C-contiguous array (use numpy.ascontiguousarray)");
    out.B = a.ndim() == 2 ? int(a.shape(0)) : 1;
    out.T = int(a.shape(a.ndim() - 1));
    // A checked conversion: int64 ids beyond int32 would wrap into valid-looking ids.
    pyb::array_t<int64_t, pyb::array::c_style | pyb::array::forcecast> wide(a);
    out.ids.resize(size_t(wide.size()));
    const int64_t* p = wide.data();
    for (size_t i = 0; i < out.ids.size(); ++i) {
      if (p[i] < 0 || p[i] >= vocab)
        throw Error("token id " + std::to_string(p[i]) + " at [" + std::to_string(i / out.T) +
                    ", " + std::to_string(i % out.T) + "] is outside the model's vocabulary [0, " +
                    std::to_string(vocab) + ")");
      out.ids[i] = int32_t(p[i]);
    }
  } else if (pyb::isinstance<pyb::sequence>(obj)) {
    pyb::sequence seq = pyb::reinterpret_borrow<pyb::sequence>(obj);
    out.B = 1;
    out.T = int(seq.size());
    for (const pyb::handle& x : seq) {
      if (!pyb::isinstance<pyb::int_>(x) || pyb::isinstance<pyb::bool_>(x))
        throw Error("a token list must hold ints, got " + std::string(pyb::str(pyb::type::of(x))));
      const long long v = x.cast<long long>();
      if (v < 0 || v >= vocab)
        throw Error("token id " + std::to_string(v) + " is outside the model's vocabulary [0, " +
                    std::to_string(vocab) + ")");
      out.ids.push_back(int32_t(v));
    }
  } else {
    throw Error("tokens must be text, a list of ints or an integer NumPy array, got " +
                std::string(pyb::str(pyb::type::of(obj))));
  }
  if (out.B < 1 || out.T < 1) throw Error("tokens are empty");
  if (out.T > context)
    throw Error(std::to_string(out.T) + " tokens is longer than the model's context (" +
                std::to_string(context) + ")");
  check_range(out.ids, out.T, vocab);  // text: a tokenizer larger than the model's vocabulary
  return out;
}

FeatureBatch feature_batch(const pyb::handle& obj, int in_dim, int context) {
  if (!pyb::isinstance<pyb::array>(obj))
    throw Error("this model reads continuous inputs: pass a float array [batch, T, " +
                std::to_string(in_dim) + "]");
  pyb::array a = pyb::reinterpret_borrow<pyb::array>(obj);
  if (a.dtype().kind() != 'f')
    throw Error("inputs must be a float array, got dtype " + std::string(pyb::str(a.dtype())));
  if (a.ndim() != 2 && a.ndim() != 3)
    throw Error("inputs must be [T, in_dim] or [batch, T, in_dim], got an array of rank " +
                std::to_string(a.ndim()));
  if (!(a.flags() & pyb::array::c_style))
    throw Error("inputs must be a C-contiguous array (use numpy.ascontiguousarray)");
  if (a.shape(a.ndim() - 1) != in_dim)
    throw Error("inputs have " + std::to_string(a.shape(a.ndim() - 1)) +
                " features per position; the model reads " + std::to_string(in_dim));
  FeatureBatch out;
  out.B = a.ndim() == 3 ? int(a.shape(0)) : 1;
  out.T = int(a.shape(a.ndim() - 2));
  if (out.B < 1 || out.T < 1) throw Error("inputs are empty");
  if (out.T > context)
    throw Error(std::to_string(out.T) + " positions is longer than the model's context (" +
                std::to_string(context) + ")");
  pyb::array_t<float, pyb::array::c_style | pyb::array::forcecast> f(a);
  out.values.assign(f.data(), f.data() + f.size());
  for (float v : out.values)
    if (!std::isfinite(v)) throw Error("inputs hold NaN or infinity");
  return out;
}

}  // namespace attnlab::py
