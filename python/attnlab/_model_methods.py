"""Model methods written in Python over the compiled calls (keyword handling, the cache object)."""
import warnings

from . import _attnlab
from .cache import ActivationCache


def run_with_cache(self, tokens, layers=None, heads=None, names=None):
    """(logits float32 [batch, T, vocab], ActivationCache) for token ids [T] / [batch, T] or text.
    layers/heads: lists of indices to capture (None: all); names: which of attnlab.CACHE_NAMES."""
    logits, arrays = _attnlab._run_with_cache(self, tokens, layers, heads, names)
    cfg = self.config
    return logits, ActivationCache(arrays, list(range(cfg["n_layers"])) if layers is None else list(layers),
                                   list(range(cfg["n_heads"])) if heads is None else list(heads), cfg["n_layers"])


def analyze(self, probe="sink", prompt=None, ablate=None, ablate_mode="zero", source=None, device="cpu",
            **options):
    """The probes of `attnlab analyze` (same code, same numbers) as a HeadTable.
    probe: sink | induction | retrieval | census | sparsity | all (or a comma list); prompt: analyse this text
    instead; ablate: heads to knock out, "L0H1,L2H3" or [(0, 1), (2, 3)], with ablate_mode zero |
    mean | uniform. options are the CLI's flags with underscores: n, T, eps, bos, corpus, haystack,
    depths, question_style, retrieval_task, needle, answer, question, seed, ...; for the sparsity
    probe patterns ("topk(k=16);window(size=12,sinks=4)" or a list), budgets ("25%,64" or a list)
    and classify (a budget: the per-head pattern class)."""
    if ablate is not None and not isinstance(ablate, str):
        ablate = ",".join(f"L{l}H{h}" for l, h in ablate)
    table, notes = _attnlab._analyze(self, probe, prompt, ablate or "", ablate_mode, source or "", device, options)
    for line in notes.splitlines():  # what `attnlab analyze` prints on stderr
        warnings.warn(line.removeprefix("note: "), stacklevel=2)
    return table


_attnlab.Model.run_with_cache = run_with_cache
_attnlab.Model.analyze = analyze
