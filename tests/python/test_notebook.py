"""examples/explore_stories260K.ipynb runs headless from top to bottom (nbconvert's executor)."""
import os

import nbformat
from nbconvert.preprocessors import ExecutePreprocessor

from conftest import ROOT, shared_file


def test_notebook_executes():
    shared_file("models/stories260K/stories260K.gguf")  # a clear failure when the data is missing
    path = ROOT / "examples" / "explore_stories260K.ipynb"
    nb = nbformat.read(path, as_version=4)
    # The kernel runs in examples/: it finds the module by an absolute PYTHONPATH.
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths if p)
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # ipykernel's debugger warning on stderr
    ExecutePreprocessor(timeout=300, kernel_name="python3").preprocess(nb, {"metadata": {"path": str(path.parent)}})
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # previous-token grids, the head's pattern, the loss curves
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "strongest previous-token head" in text and "sigmoid(bias=0)" in text
