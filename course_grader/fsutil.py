"""Small file-system helpers the grader shares: one atomic write, the tools on PATH."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def atomic_write(path: Path, data: bytes | str, encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` through a temporary file beside it, then replace ``path``, so a
    reader never sees half a file. The temporary name carries the process id: graders running
    side by side (pytest -n 2, batch workers) may write the same file."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    if isinstance(data, str):
        data = data.encode(encoding)
    tmp.write_bytes(data)
    tmp.replace(path)


def tools_on_path() -> None:
    """Put this interpreter's bin folder on PATH: nbgrader runs ``alembic`` by name."""
    bindir = os.path.dirname(sys.executable)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
