"""Where the data sets live, and their raw idx files, without importing torch (the grader reads
the rule and the test labels too).

``course_utils.data`` re-exports ``data_root`` and ``DATA_DIR_ENV_VAR``; notebooks use them from there.
"""

import math
import os
import struct
from pathlib import Path

DATA_DIR_ENV_VAR = "COURSE_DATA_DIR"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Return the folder that holds the data sets (it need not exist yet).

    Order: the ``root`` argument, else the environment variable ``COURSE_DATA_DIR`` (when set and
    not empty), else ``$XDG_CACHE_HOME/course_utils/data`` (``~/.cache/course_utils/data`` when
    ``XDG_CACHE_HOME`` is not set). A leading ``~`` is expanded.
    """
    if root is not None:
        return Path(root).expanduser()
    from_env = os.environ.get(DATA_DIR_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home).expanduser() / "course_utils" / "data"


def read_idx(path: str | os.PathLike, ndim: int):
    """A uint8 numpy array of ``ndim`` dimensions from an idx file (the format MNIST ships in: a
    big-endian header ``0, 0, 8 (uint8), ndim``, then ``ndim`` sizes, then the bytes); None when
    the file is missing or does not hold exactly that."""
    import numpy as np

    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    header = 4 + 4 * ndim
    if len(raw) < header or raw[:4] != bytes((0, 0, 8, ndim)):
        return None
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) != header + math.prod(shape):
        return None
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
