"""A study's results store (the SQLite file `attnlab sweep` writes) as pandas DataFrames."""
from . import _attnlab


class Store:
    def __init__(self, path):
        self._s = _attnlab._Store(str(path))

    @property
    def path(self):
        return self._s.path

    def runs(self):
        """One row per run: id, status, seed, step, ... and every resolved config field."""
        import pandas as pd

        return pd.DataFrame(self._s.runs())

    def _over_runs(self, fn, run, name):
        import pandas as pd

        ids = [run] if run is not None else [r["id"] for r in self._s.runs()]
        frames = [pd.DataFrame(fn(i, name)) for i in ids]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def scalars(self, run=None, name=""):
        """run, step, name, value (loss, lr, eval_loss, task metrics, probe scalars); all runs by default."""
        return self._over_runs(self._s.scalars, run, name)

    def head_metrics(self, run=None, metric=""):
        """run, step, layer, head, metric, value: the probes logged while training."""
        return self._over_runs(self._s.head_metrics, run, metric)

    def head_table(self, run, probe="analyzer"):
        """A run's final table: a HeadTable for the analyzer probe, the rows for attn_stats."""
        return self._s.head_table(run, probe)

    def __repr__(self):
        return f"<attnlab.Store {self.path}>"


def open_store(path):
    """Opens a results store read-only."""
    return Store(path)
