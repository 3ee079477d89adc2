"""attnlab.train: one run from a config dict in the study-spec layout (experiments/spec/spec.h,
the format of `attnlab train --config`), so a dict and a study.toml mean the same run."""
import json
import math
import tempfile

from . import _attnlab


def _toml_value(v, where):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a valid TOML basic string
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x, where) for x in v) + "]"
    raise _attnlab.Error(f"config: {where} has a value of type {type(v).__name__}, which a study spec cannot hold")


def _to_toml(config, prefix=""):
    """A nested dict as TOML: scalars first, then one [table] per nested dict."""
    lines, tables = [], []
    for k, v in config.items():
        path = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict):
            tables.append((path, v))
        else:
            lines.append(f"{json.dumps(str(k))} = {_toml_value(v, path)}")
    out = "\n".join(lines) + "\n"
    for path, v in tables:
        out += f"\n[{path}]\n" + _to_toml(v, path)
    return out


class TrainResult:
    """model: the trained model (loaded back from model_path, as `attnlab train` leaves it);
    log: a DataFrame with step, loss, lr, grad_norm, tokens_per_s, eval_loss (NaN between evals).
    Both are built on first use: importing pandas and reloading the model cost about half a second,
    which a script that only trains should not pay (bench/python_overhead.sh)."""

    def __init__(self, raw):
        self.model_path = raw["model_path"]
        self.steps = raw["steps"]
        self.config = raw["config"]
        self._raw_log = raw["log"]
        self._log = None
        self._model = None

    @property
    def log(self):
        if self._log is None:
            import pandas as pd

            self._log = pd.DataFrame(self._raw_log)
        return self._log

    @property
    def model(self):
        if self._model is None:
            self._model = _attnlab.load(self.model_path)
        return self._model

    def __repr__(self):
        losses = self._raw_log["loss"]
        last = float(losses[-1]) if len(losses) else float("nan")
        return f"<TrainResult {self.steps} steps, last loss {last:.4f}, {self.model_path}>"


def train(config, on_step=None, out=None):
    """Trains one run on the CPU. config: {"model": {"preset": "tiny", "attention": "softmax", ...},
    "task": {"name": "bigram_backcopy", "params": {...}}, "train": {"steps": 200, "lr": 1e-3, ...},
    "seeds": [0]} (name defaults to "python"). on_step(info) gets {step, loss, lr, grad_norm} after
    every step; returning False stops. Ctrl-C stops at the step boundary (the state is saved under
    out) and raises KeyboardInterrupt. out: the folder for model.safetensors and train_state
    (default: a new temporary folder)."""
    if not isinstance(config, dict):
        raise _attnlab.Error("config must be a dict in the study-spec layout (model, task, train, ...)")
    config = dict(config)
    config.setdefault("name", "python")
    if "seed" in config:
        config["seeds"] = [config.pop("seed")]
    if on_step is not None and not callable(on_step):
        raise _attnlab.Error("on_step must be callable (or None)")
    if out is None:
        out = tempfile.mkdtemp(prefix="attnlab-train-")
    # Scalars must precede tables in TOML: name/description/seeds first.
    ordered = {k: v for k, v in config.items() if not isinstance(v, dict)}
    ordered.update({k: v for k, v in config.items() if isinstance(v, dict)})
    return TrainResult(_attnlab._train(_to_toml(ordered), on_step, str(out)))
