"""attnlab from Python: thin bindings over the C++ workbench (docs/python.md).

    import attnlab
    model = attnlab.load("../shared/models/stories260K/stories260K.gguf", context=512)
    logits, cache = model.run_with_cache("Once upon a time")
    cache["pattern", 0]            # float32 [batch, head, query, key]
    model.analyze(probe="sink").to_pandas()

Every attnlab error is raised as attnlab.Error (a ValueError) with the C++ message.
"""
from ._attnlab import (  # noqa: F401
    CACHE_NAMES,
    Error,
    HeadTable,
    Model,
    Task,
    Tokenizer,
    default_columns,
    get_num_threads,
    load,
    set_num_threads,
    task,
    tasks,
    variants,
)
from . import _model_methods, _table_methods  # noqa: F401  (attach the Python-side methods)
from .cache import ActivationCache  # noqa: F401
from .store import Store, open_store  # noqa: F401
from .training import TrainResult, train  # noqa: F401
