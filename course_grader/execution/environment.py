"""What a grading kernel inherits: its interpreter and its environment variables (an allowlist)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..config import Settings

#: Environment variable set, with a value unique to one kernel run, in every grading kernel.
KERNEL_MARK = "COURSE_KERNEL_RUN"

#: Variables of the grader's environment a kernel keeps (by prefix); everything else, the
#: grader's secrets included, is dropped.
KEEP_PREFIXES = ("PATH", "LANG", "LC_", "HOME", "TZ", "COURSE_DATA_DIR", "TORCH_HOME",
                 "XDG_CACHE_HOME", "CUDA_VISIBLE_DEVICES", "OPENBLAS_", "LD_LIBRARY_PATH",
                 "VIRTUAL_ENV", "PYTHONPATH")


def venv_python() -> str:
    """The interpreter of the environment the grader runs in, by its real path."""
    prefix = Path(sys.prefix).resolve()
    for name in ("python", "python3"):
        candidate = prefix / "bin" / name
        if candidate.exists():
            return str(candidate)
    return sys.executable


def kernel_env(settings: Settings, workdir: Path) -> dict:
    """The environment of a grading kernel: the grader's, minus its secrets, plus the settings."""
    env = {k: v for k, v in os.environ.items() if k.startswith(KEEP_PREFIXES)}
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
    })
    if "HOME" not in env:
        env["HOME"] = str(workdir)
    return env
