"""A Colab-like Python environment for the student-path tests, built once and cached.

Colab gives a student torch, torchvision, numpy, matplotlib, tqdm, ipykernel and ipywidgets, and
the setup cell adds ``course_utils`` with ``pip install git+<student repo>``. Nothing of the
instructor side (nbgrader, course_grader, nbclient, pytest) is there. The environment built here
has exactly that:

- ``site/``: symbolic links to the files of the allowed distributions (``ALLOWED_ROOTS`` and
  everything they require, found by walking ``importlib.metadata`` requirements) in the main
  virtual environment, so that the large torch install is shared, not copied;
- ``venv/``: a fresh virtual environment (``python -m venv``, with its own pip) whose
  site-packages holds a ``.pth`` file that adds ``site/`` to ``sys.path``;
- ``course_utils`` installed into ``venv/`` from a wheel built from the published tree, with
  ``pip install --no-index`` resolving its dependencies against what ``site/`` offers.

It lives in ``.course_cache/colab-env-<hash>/`` (git-ignored), keyed by the Python, the
distributions linked and the published course_utils and pyproject.toml, and is rebuilt only when
one of them changes (a few seconds). A file lock makes parallel test workers build it once.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import ROOT

#: What Colab's runtime already has that the notebooks use (their requirements come along).
ALLOWED_ROOTS = ("torch", "torchvision", "numpy", "matplotlib", "tqdm", "torchinfo", "pillow",
                 "ipykernel", "ipywidgets")
#: Must not be importable there: the instructor side.
FORBIDDEN_MODULES = ("nbgrader", "course_grader", "nbclient", "nbconvert", "pytest")
BUILDER_VERSION = "1"
CACHE = ROOT / ".course_cache"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed() -> dict:
    """{normalized name: Distribution} of the main environment (first one found wins)."""
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(_norm(name), dist)
    return found


def allowed_distributions() -> dict:
    """The allowed roots and everything they require, with the extras they ask for (markers
    evaluated for this interpreter)."""
    installed = _installed()
    wanted, todo, missing, done = {}, [(_norm(r), ()) for r in ALLOWED_ROOTS], [], set()
    while todo:
        name, extras = todo.pop()
        dist = installed.get(name)
        if dist is None:
            missing.append(name)
            continue
        wanted[name] = dist
        for extra in ("", *extras):
            if (name, extra) in done:
                continue
            done.add((name, extra))
            for text in dist.requires or []:
                req = Requirement(text)
                if req.marker is not None and not req.marker.evaluate({"extra": extra}):
                    continue
                todo.append((_norm(req.name), tuple(sorted(req.extras))))
    if missing:
        raise RuntimeError(f"the main environment lacks {sorted(set(missing))}, required by the "
                           "Colab-like set: reinstall it (make venv)")
    return wanted


def _files(dist, site: Path) -> set:
    """The dist's files, relative to site-packages (posix), those outside it left out."""
    base = Path(dist.locate_file("")).resolve()
    if base != site:
        return set()
    return {str(f).replace(os.sep, "/") for f in (dist.files or [])
            if not str(f).startswith("..") and not Path(str(f)).is_absolute()}


def _link(src: Path, dst: Path, allowed: set, others: set) -> None:
    """Mirror ``src`` into ``dst`` with links: an entry all of whose files belong to allowed
    distributions is linked whole, a folder shared with others (``__pycache__``) is descended."""
    other_dirs = {p.rsplit("/", i)[0] for p in others for i in range(1, p.count("/") + 1)}
    allowed_dirs = {p.rsplit("/", i)[0] for p in allowed for i in range(1, p.count("/") + 1)}

    def mirror(prefix: str) -> None:
        depth = prefix.count("/")
        names = {p for p in allowed | allowed_dirs if p.startswith(prefix) and p.count("/") == depth}
        for rel in sorted(names):
            source = src / rel
            if not (source.exists() or source.is_symlink()):
                continue
            if rel in other_dirs and source.is_dir() and not source.is_symlink():
                (dst / rel).mkdir(parents=True, exist_ok=True)
                mirror(rel + "/")
            elif rel not in others or rel in allowed:
                (dst / rel).symlink_to(source)

    mirror("")


def _published_digest(published: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(published.rglob("*")):
        rel = path.relative_to(published).as_posix()
        if path.is_file() and (rel == "pyproject.toml" or rel.startswith("course_utils/")) \
                and "__pycache__" not in rel:
            h.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def env_key(published: Path, dists: dict) -> str:
    h = hashlib.sha256()
    h.update(f"{BUILDER_VERSION}|{sys.version}|{sys._base_executable}|{ROOT}".encode())
    for name in sorted(dists):
        h.update(f"|{name}=={dists[name].version}".encode())
    h.update(_published_digest(published).encode())
    return h.hexdigest()[:16]


@contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ColabEnv:
    def __init__(self, folder: Path):
        self.folder = folder
        self.python = folder / "venv" / "bin" / "python"
        self.site = folder / "site"
        self.info = json.loads((folder / "READY").read_text())

    def env(self, workdir: Path, **extra) -> dict:
        """Environment variables of a process in this environment (as on Colab: no PYTHONPATH,
        nothing of the instructor's)."""
        env = {
            "PATH": f"{self.python.parent}{os.pathsep}/usr/bin:/bin",
            "HOME": os.environ.get("HOME", str(workdir)),
            "LANG": "C.UTF-8",
            "VIRTUAL_ENV": str(self.python.parent.parent),
            "PYTHONNOUSERSITE": "1",
            "MPLCONFIGDIR": str(workdir / ".mplconfig"),
            "IPYTHONDIR": str(workdir / ".ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        if os.environ.get("COURSE_DATA_DIR"):
            env["COURSE_DATA_DIR"] = os.environ["COURSE_DATA_DIR"]
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def run(self, code: str, workdir: Path, timeout: int = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.python), "-c", code], cwd=workdir, env=self.env(workdir),
                              capture_output=True, text=True, timeout=timeout)


def _run(cmd: list, log: list, **kwargs) -> None:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    log.append(f"$ {' '.join(map(str, cmd))}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        raise RuntimeError(f"building the Colab-like environment failed:\n{log[-1]}")


def _build(folder: Path, published: Path, dists: dict) -> None:
    started = time.monotonic()
    log: list = []
    site_packages = Path(metadata.distribution("torch").locate_file("")).resolve()
    allowed, others = set(), set()
    for name, dist in _installed().items():
        (allowed if name in dists else others).update(_files(dist, site_packages))
    others -= allowed
    site = folder / "site"
    site.mkdir(parents=True)
    _link(site_packages, site, allowed, others)

    base_python = getattr(sys, "_base_executable", sys.executable)
    _run([base_python, "-m", "venv", folder / "venv"], log, timeout=300)
    python = folder / "venv" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    if any(Path(purelib).glob("setuptools-*.dist-info")):   # Python < 3.12 bundles an old one,
        _run([python, "-m", "pip", "uninstall", "-y", "-q", "setuptools"], log, timeout=300)  # torch wants >=77
    (Path(purelib) / "colab_like_site.pth").write_text(str(site) + "\n")

    with tempfile.TemporaryDirectory(prefix="colab-env-build-") as tmp:
        source = Path(tmp) / "published"        # building writes build/ and *.egg-info: not in
        shutil.copytree(published, source)      # the published tree
        wheels = Path(tmp) / "wheels"
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
              "-q", "-w", wheels, source], log, timeout=300)
        wheel = next(wheels.glob("course_utils-*.whl"))
        # --no-index: the student dependencies must be satisfied by what Colab already has
        clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
        _run([python, "-m", "pip", "install", "--no-index", "-q", "--disable-pip-version-check", wheel],
             log, timeout=300, cwd=tmp, env={**clean, "PYTHONNOUSERSITE": "1"})
    _run([python, "-m", "pip", "check", "--disable-pip-version-check"], log, timeout=300, cwd=folder)
    info = {"distributions": {n: d.version for n, d in sorted(dists.items())},
            "seconds": round(time.monotonic() - started, 1), "log": log}
    (folder / "READY").write_text(json.dumps(info, indent=1))


def colab_env(published: Path) -> ColabEnv:
    """The cached Colab-like environment for ``published`` (built when missing)."""
    dists = allowed_distributions()
    folder = CACHE / f"colab-env-{env_key(published, dists)}"
    if (folder / "READY").is_file():
        (folder / "READY").touch()
        return ColabEnv(folder)
    with _lock(CACHE / "colab-env.lock"):
        if not (folder / "READY").is_file():
            if folder.exists():              # a build that died half way
                shutil.rmtree(folder)
            try:
                _build(folder, published, dists)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
            _prune(keep=folder)
    return ColabEnv(folder)


def _prune(keep: Path, age_s: float = 24 * 3600) -> None:
    """Remove environments of earlier keys that nobody used for a day."""
    for old in CACHE.glob("colab-env-*"):
        if old == keep or not old.is_dir():
            continue
        ready = old / "READY"
        if not ready.exists() or time.time() - ready.stat().st_mtime > age_s:
            shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------ running notebooks

KERNEL_NAME = "colab-like"
#: Environment of the notebooks' kernels besides env(): the training budget that
#: course_utils.budget documents for grading (the notebooks' own demonstration training, one
#: epoch instead of two or three; the visible tests never depend on it), and one thread per
#: kernel, as tests run side by side on small machines.
COLAB_RUN_ENV = {"COURSE_TRAIN_EPOCHS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def kernel_manager(env: ColabEnv, workdir: Path):
    """A KernelManager whose kernels run ``python -m ipykernel_launcher`` of ``env``."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = Path(workdir) / ".kernels"
    spec = kernels / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(env.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab-like)", "language": "python"}))
    ksm = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)


def execute(nb, env: ColabEnv, workdir: Path, stop_on_error: bool = False, timeout: int = 600,
            **env_vars):
    """Run ``nb`` (a copy) top to bottom in a Colab-like kernel, as "Run all" does; returns the
    executed notebook. stop_on_error: stop at the first error, as Jupyter's "Run all" does."""
    import copy

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = copy.deepcopy(nb)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    km = kernel_manager(env, workdir)
    client = NotebookClient(nb, km=km, timeout=timeout, startup_timeout=120,
                            allow_errors=not stop_on_error, record_timing=True,
                            resources={"metadata": {"path": str(workdir)}}, shutdown_kernel="immediate")
    settings = {**COLAB_RUN_ENV, **env_vars}
    try:
        client.execute(env=env.env(workdir, **settings), cwd=str(workdir))
    except CellExecutionError:
        if not stop_on_error:
            raise
    finally:            # nbclient leaves the kernel of a manager it was given running
        if client.kc is not None:
            client.kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        km.cleanup_resources()
    return nb


# ------------------------------------------------------------------------ fixtures, Colab files


@pytest.fixture(scope="session")
def published(settings, tmp_path_factory):
    """The student repository, published into a temporary folder (release/ taken as it is:
    test_release checks it equals a fresh regeneration)."""
    from course_grader.authoring.publish import publish

    out = tmp_path_factory.mktemp("published") / "student-repo"
    publish(settings, out, regenerate=False, log=lambda *_: None)
    return out


@pytest.fixture(scope="session")
def colab(published):
    """The Colab-like environment, with course_utils installed from ``published``."""
    return colab_env(published)


def colab_saved(nb, seed: int = 0) -> str:
    """``nb`` as Google Colab saves it: nbformat 4.0, Colab's notebook metadata and kernelspec,
    Colab's random ids in each cell's metadata instead of the cell ids, outputs and execution
    counts from a session in Colab. Returns the file's text."""
    import random
    import string

    rng = random.Random(seed)

    def colab_id(n: int = 12) -> str:
        return "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(n))

    cells, count = [], 0
    for cell in nb.cells:
        metadata = json.loads(json.dumps(dict(cell.get("metadata", {}))))
        metadata.pop("execution", None)
        metadata["id"] = colab_id()
        saved = {"cell_type": cell.cell_type, "metadata": metadata,
                 "source": cell.source.splitlines(keepends=True)}
        if cell.cell_type == "code":
            count += 1
            metadata["colab"] = {"base_uri": "https://localhost:8080/", "height": 35}
            metadata["outputId"] = f"{colab_id(8)}-{colab_id(4)}-{colab_id(4)}-{colab_id(4)}-{colab_id(12)}"
            saved["execution_count"] = count
            saved["outputs"] = [{"output_type": "stream", "name": "stdout",
                                 "text": [f"output {count} of a session in Colab\n"]}]
            if count % 5 == 0:
                saved["outputs"].append({"output_type": "display_data", "metadata": {},
                                         "data": {"text/plain": ["<Figure size 640x480 with 1 Axes>"],
                                                  "image/png": PNG_1X1}})
            if count % 7 == 0:
                saved["outputs"].append({"output_type": "error", "ename": "NameError",
                                         "evalue": "name 'x' is not defined",
                                         "traceback": ["NameError: name 'x' is not defined"]})
        cells.append(saved)
    notebook = {
        "nbformat": 4, "nbformat_minor": 0,
        "metadata": {"colab": {"provenance": [], "toc_visible": True, "gpuType": "T4"},
                     "kernelspec": {"name": "python3", "display_name": "Python 3"},
                     "language_info": {"name": "python"}, "accelerator": "GPU"},
        "cells": cells,
    }
    return json.dumps(notebook, indent=2, ensure_ascii=False) + "\n"


PNG_1X1 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
