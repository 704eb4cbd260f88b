"""What a grading kernel inherits: its interpreter and its environment variables (an allowlist)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..config import Settings

#: Environment variable set, with a value unique to one kernel run, in every grading kernel.
KERNEL_MARK = "COURSE_KERNEL_RUN"

#: Variables of the grader's environment a kernel keeps, by exact name; everything else (the
#: grader's tokens and keys, its HOME and cache folders, PYTHONPATH) is dropped. The data root
#: is passed as COURSE_DATA_DIR by ``kernel_env`` itself (the sandbox mounts that folder).
KEEP = frozenset({"PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "LC_MESSAGES",
                  "TZ", "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "LD_LIBRARY_PATH",
                  "VIRTUAL_ENV"})


def venv_python() -> str:
    """The interpreter of the environment the grader runs in, by its real path."""
    prefix = Path(sys.prefix).resolve()
    for name in ("python", "python3"):
        candidate = prefix / "bin" / name
        if candidate.exists():
            return str(candidate)
    return sys.executable


#: The script that sets a kernel's limits and execs it (run with ``python -c``; see limits.py).
LIMITS_CODE = (Path(__file__).with_name("limits.py")).read_text(encoding="utf-8")


def data_dir() -> Path | None:
    """The data root the grader's own process sees (course_utils' rule), when it exists: the
    kernel gets it as COURSE_DATA_DIR, and the sandbox mounts it read-only."""
    try:
        from course_utils.datafiles import data_root
        root = data_root().resolve()
    except Exception:
        return None
    return root if root.is_dir() else None


#: glibc's allocator in a kernel keeps freed blocks of up to 64 MB for reuse (and up to 128 MB
#: free at the top of its heap) instead of handing them back to the system at every free: a
#: batch of 1,000 MNIST images through a small CNN allocates tens of MB per layer, and getting
#: fresh pages from the system for each made evaluating 10,000 images twice as slow. glibc reads
#: these at the process's start, so the fork server gets them too. Memory use is bounded by the
#: kernel's limits as before; only what is kept free between allocations grows.
MALLOC_TUNING = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}

#: A student's ``!pip install seaborn`` (which the scan lets through: ``scan._HARMLESS_LINE``)
#: installs nothing, with or without the sandbox: no package index, no pip configuration file
#: (whose find-links could name a local folder of wheels), no prompt. A package already in the
#: grading environment is "already satisfied"; any other is reported missing by the import that
#: needs it ("module X is not available in the grading environment").
PIP_OFFLINE = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1",
               "PIP_DISABLE_PIP_VERSION_CHECK": "1",
               # pip's git installs (the release setup cell's, which runs once a notebook has
               # imported google.colab, which the prelude makes importable) reach no remote
               "GIT_ALLOW_PROTOCOL": "file"}


def kernel_env(settings: Settings, workdir: Path) -> dict:
    """The environment of a grading kernel: the grader's, minus its secrets, plus the settings."""
    env = {k: v for k, v in os.environ.items() if k in KEEP}
    data = data_dir()
    if data is not None:
        env["COURSE_DATA_DIR"] = str(data)
    env.update({
        "COURSE_GRADING": "1",
        "COURSE_TRAIN_EPOCHS": str(settings.grading_epochs),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": str(settings.torch_threads),
        "MKL_NUM_THREADS": str(settings.torch_threads),
        "PYTHONHASHSEED": str(settings.seed),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLCONFIGDIR": str(workdir / ".mplconfig"),
        "TQDM_MININTERVAL": "5",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
        **MALLOC_TUNING,
        **PIP_OFFLINE,
    })
    env["HOME"] = str(workdir)
    return env
