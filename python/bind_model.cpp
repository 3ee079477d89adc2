// attnlab.load, attnlab.Model (config, forward, generate) and attnlab.Tokenizer: the calls
// `attnlab info` and `attnlab generate` make (core/io/open_model.h, core/model/transformer.h).
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "core/tensor/error.h"
#include "core/tokenizer/tokenizer.h"
#include "python/arrays.h"
#include "python/bindings.h"
#include "python/model_handle.h"

namespace attnlab::py {

namespace {

int32_t checked_id(long long v, const Tokenizer& tok) {
  if (v < 0 || v >= tok.vocab_size())
    throw Error("token id " + std::to_string(v) + " is outside the tokenizer's vocabulary [0, " +
                std::to_string(tok.vocab_size()) + ")");
  return int32_t(v);
}

std::vector<int32_t> id_list(const pyb::handle& ids, const Tokenizer& tok) {
  std::vector<int32_t> out;
  if (pyb::isinstance<pyb::array>(ids)) {
    pyb::array a = pyb::reinterpret_borrow<pyb::array>(ids);
    if (a.dtype().kind() != 'i' && a.dtype().kind() != 'u')
      throw Error("token ids must be integers, got dtype " + std::string(pyb::str(a.dtype())));
    if (a.ndim() != 1) throw Error("decode takes a 1-D array of ids");
    for (int64_t v : pyb::array_t<int64_t, pyb::array::forcecast>(a).cast<std::vector<int64_t>>()) {
      out.push_back(checked_id(v, tok));
    }
    return out;
  }
  for (const pyb::handle& x : ids) {
    if (!pyb::isinstance<pyb::int_>(x)) throw Error("token ids must be ints");
    const long long v = x.cast<long long>();
    out.push_back(checked_id(v, tok));
  }
  return out;
}

void bind_tokenizer(pyb::module_& m) {
  pyb::class_<Tokenizer, std::shared_ptr<Tokenizer>>(m, "Tokenizer",
                                                     "A checkpoint's tokenizer (core/tokenizer).")
      .def_property_readonly("kind", &Tokenizer::kind)
      .def_property_readonly("vocab_size", &Tokenizer::vocab_size)
      .def_property_readonly("bos_id", &Tokenizer::bos_id)
      .def_property_readonly("eos_id", &Tokenizer::eos_id)
      .def_property_readonly("bos_policy", &Tokenizer::bos_policy)
      .def(
          "encode",
          [](const Tokenizer& t, const std::string& text, std::optional<bool> bos) {
            return bos ? t.encode(text, *bos) : t.encode_for_model(text);
          },
          pyb::arg("text"), pyb::arg("bos") = pyb::none(),
          "Token ids of `text`; bos=None follows the model's policy (Llama models prepend BOS).")
      .def(
          "decode",
          [](const Tokenizer& t, const pyb::handle& ids) {
            return lossy_str(t.decode(id_list(ids, t)));
          },
          pyb::arg("ids"),
          "Text of the ids (BOS/EOS dropped), U+FFFD for bytes that are not UTF-8.")
      .def(
          "token_strs",
          [](const Tokenizer& t, const pyb::handle& ids) {
            pyb::list out;
            for (int32_t id : id_list(ids, t)) {
              std::string piece = t.decode_token(id);
              // Control tokens decode to nothing; an axis label still needs a name.
              if (piece.empty() && id == t.bos_id()) piece = "<bos>";
              if (piece.empty() && id == t.eos_id()) piece = "<eos>";
              out.append(lossy_str(piece));
            }
            return out;
          },
          pyb::arg("ids"),
          "Each id's own text (<bos>/<eos> for control tokens): labels for attention-pattern "
          "axes.");
}

pyb::object generate(ModelHandle& h, const pyb::handle& prompt, int max_new, float temperature,
                     float top_p, uint64_t seed, std::optional<int> stop_token) {
  const ModelConfig& c = h.config();
  const Tokenizer* tok = h.opened.tokenizer.get();
  const bool text = pyb::isinstance<pyb::str>(prompt);
  std::vector<int32_t> ids;
  if (text && prompt.cast<std::string>().empty()) {
    if (!tok) throw Error("this model carries no tokenizer: pass token ids, not text");
    ids = tok->encode_for_model("");
    if (ids.empty())
      throw Error("the prompt is empty and the model has no BOS token to start from");
  } else {
    TokenBatch tb = token_batch(prompt, tok, c.vocab_size, c.context);
    if (tb.B != 1)
      throw Error("generate takes one prompt ([T] tokens), got a batch of " + std::to_string(tb.B));
    ids = std::move(tb.ids);
  }
  if (max_new < 0) throw Error("max_new must be >= 0");
  SampleOptions so;
  so.max_new = max_new;
  so.temperature = temperature;
  so.top_p = top_p;
  so.seed = seed;
  // As `attnlab generate`: a model that starts sequences with BOS also ends them with it.
  if (stop_token)
    so.stop_token = *stop_token;
  else if (tok)
    so.stop_token = tok->bos_policy() == "prepend" ? tok->bos_id() : tok->eos_id();
  std::vector<int32_t> out;
  {
    pyb::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(h.mu);
    out = attnlab::generate(h.model(), ids, so);
  }
  ids.insert(ids.end(), out.begin(), out.end());
  if (text) return lossy_str(tok->decode(ids));
  const int64_t n = int64_t(ids.size());
  return owned_array(std::move(ids), {n});
}

}  // namespace

void bind_model(pyb::module_& m) {
  bind_tokenizer(m);
  pyb::class_<ModelHandle, std::shared_ptr<ModelHandle>>(m, "Model",
                                                         "A loaded checkpoint (attnlab.load).")
      .def_property_readonly(
          "config",
          [](const ModelHandle& h) { return json_to_py(nlohmann::json(h.config()).dump()); })
      .def_property_readonly("format", [](const ModelHandle& h) { return h.opened.format; })
      .def_property_readonly("path", [](const ModelHandle& h) { return h.label; })
      .def_property_readonly("notes", [](const ModelHandle& h) { return h.opened.notes; })
      .def_property_readonly("n_params", [](ModelHandle& h) { return h.model().num_params(); })
      .def_property_readonly(
          "tokenizer", [](const ModelHandle& h) { return h.opened.tokenizer; },
          "The checkpoint's tokenizer, or None.")
      .def(
          "forward",
          [](ModelHandle& h, const pyb::handle& tokens) {
            const ModelConfig& c = h.config();
            if (c.input_dim > 0) {  // in-context regression: features in, one prediction each out
              FeatureBatch fb = feature_batch(tokens, c.input_dim, c.context);
              std::vector<float> pred;
              {
                pyb::gil_scoped_release nogil;
                std::lock_guard<std::mutex> lock(h.mu);
                pred = h.model().forward_continuous(fb.values.data(), fb.B, fb.T).data;
              }
              return owned_array(std::move(pred), {fb.B, fb.T, 1});
            }
            TokenBatch tb = token_batch(tokens, h.opened.tokenizer.get(), c.vocab_size, c.context);
            std::vector<float> logits;
            {
              pyb::gil_scoped_release nogil;
              std::lock_guard<std::mutex> lock(h.mu);
              logits = h.model().forward(tb.ids.data(), tb.B, tb.T).data;
            }
            return owned_array(std::move(logits), {tb.B, tb.T, c.vocab_size});
          },
          pyb::arg("tokens"),
          "Logits float32 [batch, T, vocab] of token ids [T] or [batch, T] (or text); for a "
          "continuous-input model, predictions [batch, T, 1] of float inputs [batch, T, in_dim].")
      .def("generate", &generate, pyb::arg("prompt"), pyb::arg("max_new") = 64,
           pyb::arg("temperature") = 0.0f, pyb::arg("top_p") = 1.0f, pyb::arg("seed") = 0,
           pyb::arg("stop_token") = pyb::none(),
           "Greedy at temperature 0, as `attnlab generate`. Text in, text out (prompt included); "
           "ids in, an int32 array of prompt + new ids out. stop_token=-1 never stops early.")
      .def("__repr__", [](ModelHandle& h) {
        const ModelConfig& c = h.config();
        return "<attnlab.Model " + h.label + " (" + h.opened.format + ", " +
               std::to_string(c.n_layers) + " layers, " + std::to_string(c.n_heads) +
               " heads, d=" + std::to_string(c.d_model) + ")>";
      });

  m.def(
      "load",
      [](const std::string& path, const std::string& tokenizer, int context) {
        if (context < 0) throw Error("context must be >= 0 (0: the file's)");
        LoadOptions lo;
        lo.tokenizer_path = tokenizer;
        lo.context = context;
        auto h = std::make_shared<ModelHandle>();
        {
          pyb::gil_scoped_release nogil;
          h->opened = open_model(path, lo);
        }
        h->label = path;
        h->context_override = context;
        return h;
      },
      pyb::arg("path"), pyb::arg("tokenizer") = "", pyb::arg("context") = 0,
      "Opens any checkpoint `attnlab info` opens: attnlab .safetensors, a Hugging Face folder, "
      "GGUF, llama2.c "
      "(tokenizer= the tok*.bin when it is not beside it). context= overrides the file's, like "
      "--context.");
}

}  // namespace attnlab::py
