"""HeadTable conveniences over the compiled table: pandas and dict views."""
import json

from . import _attnlab


def to_pandas(self):
    """One row per (layer, head), a column per metric, plus <metric>_ci95 and <metric>_chance
    where the table has them: the columns of `attnlab analyze --csv`."""
    import numpy as np
    import pandas as pd

    L, H = self.n_layers, self.n_heads
    cols = {"layer": np.repeat(np.arange(L), H), "head": np.tile(np.arange(H), L)}
    for m in self.metrics:
        cols[m] = self.to_numpy(m).ravel()
        ci = self.ci95(m).ravel()
        if not np.all(np.isnan(ci)):
            cols[m + "_ci95"] = ci
        if self.has_chance(m):
            cols[m + "_chance"] = self.chance(m).ravel()
    return pd.DataFrame(cols)


def to_dict(self):
    """The JSON of to_json(), parsed."""
    return json.loads(self.to_json())


def _str(self):
    return self.format()


_attnlab.HeadTable.to_pandas = to_pandas
_attnlab.HeadTable.to_dict = to_dict
_attnlab.HeadTable.__str__ = _str
