"""ActivationCache: what Model.run_with_cache captured, looked up the TransformerLens way."""
import re

# TransformerLens hook names -> attnlab's (name, layer) keys.
_TL_HOOKS = {
    "attn.hook_pattern": "pattern",
    "attn.hook_q": "q",
    "attn.hook_k": "k",
    "attn.hook_v": "v",
    "attn.hook_z": "z",
    "ln1.hook_normalized": "attn_in",
    "hook_resid_pre": "resid_pre",
    "hook_resid_post": "resid_post",
}
_TL_NAME = re.compile(r"^blocks\.(\d+)\.(.+)$")


class ActivationCache:
    """cache["pattern", l] -> float32 [batch, head, query, key] (the heads asked for, in order);
    cache["q"|"k"|"v"|"z", l] -> [batch, pos, head, d_head] (q, k after RoPE; k, v repeated to
    every query head under GQA; z: per-head outputs before the output projection);
    cache["attn_in", l] -> [batch, pos, d_model] (the normalized block input);
    cache["resid_pre"|"resid_post", l] -> [batch, pos, d_model].
    TransformerLens names work too: cache["blocks.0.attn.hook_pattern"]."""

    def __init__(self, arrays, layers, heads, n_layers):
        self._arrays = arrays
        self.layers = layers
        self.heads = heads
        self.n_layers = n_layers

    def _key(self, key):
        if isinstance(key, str):
            m = _TL_NAME.match(key)
            if m and m.group(2) in _TL_HOOKS:
                return (_TL_HOOKS[m.group(2)], int(m.group(1)))
            raise KeyError(f"{key!r}: use (name, layer) with name in {sorted(set(n for n, _ in self._arrays))}"
                           " or a TransformerLens name such as 'blocks.0.attn.hook_pattern'")
        if isinstance(key, tuple) and len(key) == 2:
            name, layer = key
            if layer < 0:  # TransformerLens allows cache["pattern", -1]: the last layer
                layer += self.n_layers
            return (name, int(layer))
        raise KeyError(f"{key!r}: a cache key is (name, layer), e.g. ('pattern', 0)")

    def __getitem__(self, key):
        k = self._key(key)
        if k not in self._arrays:
            raise KeyError(f"{k} was not captured (captured: layers {self.layers}, "
                           f"names {sorted(set(n for n, _ in self._arrays))})")
        return self._arrays[k]

    def __contains__(self, key):
        try:
            return self._key(key) in self._arrays
        except KeyError:
            return False

    def keys(self):
        return self._arrays.keys()

    def items(self):
        return self._arrays.items()

    def __len__(self):
        return len(self._arrays)

    def __iter__(self):
        return iter(self._arrays)

    def __repr__(self):
        return f"<ActivationCache {len(self._arrays)} arrays, layers {self.layers}, heads {self.heads}>"
