"""Course settings: where the course lives and how grading runs.

All settings live in the course's one config file, ``nbgrader_config.py``, in the section
``c.Course`` (nbgrader ignores sections it does not know)::

    c.Course.student_repo = "example-org/cnn-course-student"   # GitHub owner/name
    c.Course.cell_timeout = 120

Anything not set there takes the default below.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

CONFIG_FILE = "nbgrader_config.py"


#: The student repository of this course as it ships: no real repository, every Colab badge and
#: ``pip install git+...`` line built from it fails for students until it is set.
PLACEHOLDER_STUDENT_REPO = "example-org/cnn-course-student"


class CourseError(Exception):
    """A problem the person running the command can fix; the message says how."""


def placeholder_warning(settings: "Settings") -> str:
    """A loud warning while ``student_repo`` is still the placeholder, else ``""``."""
    if settings.student_repo != PLACEHOLDER_STUDENT_REPO:
        return ""
    return (f"WARNING: c.Course.student_repo is still the placeholder {PLACEHOLDER_STUDENT_REPO!r}: "
            "the Colab badges and the setup cell's `pip install git+https://github.com/...` will fail "
            "for students. Set it in nbgrader_config.py to your PUBLIC student repository "
            "(owner/name; pip installs it without credentials), then run `course release` again.")


@dataclass(frozen=True)
class Settings:
    root: Path
    #: GitHub "owner/name" of the repository students open notebooks from (Colab badge, setup
    #: cell, pip install git+https://github.com/<student_repo>).
    student_repo: str = PLACEHOLDER_STUDENT_REPO
    branch: str = "main"
    #: Seconds one cell may run before it is interrupted and marked as timed out.
    cell_timeout: int = 120
    #: Seconds a whole notebook may run; past it, the remaining cells are not run.
    notebook_timeout: int = 900
    #: Seconds the kernel may take to start.
    startup_timeout: int = 60
    #: Torch threads in each grading kernel (more than one per kernel thrashes a small machine).
    torch_threads: int = 1
    #: Seed for python, numpy and torch, set by the grader before any student code runs.
    seed: int = 0
    #: COURSE_TRAIN_EPOCHS for the notebooks' own demonstration training while grading
    #: (see course_utils.budget). Points never depend on it.
    grading_epochs: int = 1
    #: Memory limit of a grading kernel, in MiB (0: no limit): the address space of each of its
    #: processes (torch alone takes about 4 GiB of it), and, where the grader can create a cgroup,
    #: the memory of all of them together.
    memory_limit_mb: int = 6144
    #: Largest number of processes (tasks) a grading kernel may run (fork bombs), 0: no limit.
    #: A cgroup's cap where the grader can create one; else RLIMIT_NPROC, which counts all the
    #: processes of the grader's user and which Linux ignores for root (see course_grader/execution/).
    max_processes: int = 256
    #: Run grading kernels in the bubblewrap sandbox ("auto": when it works here; where it does
    #: not, a non-root grader goes on with a warning and a root grader refuses), always
    #: ("require": grading refuses to run without it) or never ("off"). See execution/bwrap.py.
    sandbox: str = "auto"
    #: How grading kernels start: "auto" forks each one from a pre-warmed server (torch and the
    #: notebooks' other imports loaded once per grading process, in the sandbox; see
    #: execution/zygote.py) where the sandbox runs, else starts a fresh one; "prewarmed" refuses
    #: to grade without the server; "fresh" starts a new kernel process for every notebook.
    kernel_mode: str = "auto"
    #: The course's title: the student README's heading and the feedback pages'.
    course_title: str = "Convolutional neural networks in PyTorch"
    #: nbgrader's course id (``c.CourseDirectory.course_id``): the gradebook's course, as
    #: formgrader opens it. Read from there; "" means nbgrader's "default_course".
    course_id: str = ""
    #: A CSV file (path from the course root) with the columns id, first_name, last_name, email:
    #: grading puts these into the gradebook, so formgrader lists names instead of "None, None".
    roster: str = ""
    #: Due dates, {assignment: "YYYY-MM-DD HH:MM" in UTC}: the gradebook's due dates, against which
    #: nbgrader flags a submission whose timestamp.txt is later as late.
    due_dates: dict = field(default_factory=dict, hash=False, compare=False)
    #: Size of each of a sandboxed kernel's scratch folders (its working folder, /tmp and
    #: /dev/shm, all tmpfs), in MiB: writes past it fail with "No space left on device".
    scratch_limit_mb: int = 1024

    @property
    def source_dir(self) -> Path:
        return self.root / "source"

    @property
    def release_dir(self) -> Path:
        return self.root / "release"

    @property
    def cache_dir(self) -> Path:
        return self.root / ".course_cache"

    def assignments(self) -> list[str]:
        """Assignment ids: the folders of ``source/`` that hold a notebook of the same name."""
        if not self.source_dir.is_dir():
            return []
        return sorted(p.name for p in self.source_dir.iterdir()
                      if (p / f"{p.name}.ipynb").is_file())

    def source_notebook(self, assignment: str) -> Path:
        path = self.source_dir / assignment / f"{assignment}.ipynb"
        if not path.is_file():
            known = ", ".join(self.assignments()) or "none"
            raise CourseError(f"unknown assignment {assignment!r}: there is no {path}. "
                              f"Known assignments: {known}.")
        return path

    def release_notebook(self, assignment: str) -> Path:
        return self.release_dir / assignment / f"{assignment}.ipynb"

    def colab_url(self, assignment: str) -> str:
        return (f"https://colab.research.google.com/github/{self.student_repo}/blob/"
                f"{self.branch}/release/{assignment}/{assignment}.ipynb")

    def install_url(self) -> str:
        return f"git+https://github.com/{self.student_repo}@{self.branch}"


def find_root(start: Path | None = None) -> Path:
    """The course root: ``$COURSE_ROOT``, else the nearest folder upwards holding both
    ``nbgrader_config.py`` and ``source/``."""
    env = os.environ.get("COURSE_ROOT")
    if env:
        root = Path(env).resolve()
        if not (root / CONFIG_FILE).is_file():
            raise CourseError(f"COURSE_ROOT={env} has no {CONFIG_FILE}")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file() and (folder / "source").is_dir():
            return folder
    raise CourseError(f"no course found in {here} or above: run this inside the course "
                      f"repository (the folder with {CONFIG_FILE} and source/), or set COURSE_ROOT.")


def load_settings(root: Path | None = None, **overrides) -> Settings:
    """Read ``c.Course`` from the course's ``nbgrader_config.py``; ``overrides`` win."""
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve() if root else find_root()
    values: dict = {}
    config_path = root / CONFIG_FILE
    if config_path.is_file():
        config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
        course = config.get("Course", {})
        names = {f.name for f in fields(Settings)} - {"root"}
        unknown = sorted(set(course) - names)
        if unknown:
            raise CourseError(f"{config_path}: unknown setting(s) c.Course.{', c.Course.'.join(unknown)}; "
                              f"known: {', '.join(sorted(names))}")
        values.update(course)
        course_id = config.get("CourseDirectory", {}).get("course_id")
        if course_id and "course_id" not in course:
            values["course_id"] = str(course_id)
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(root=root)
    return replace(settings, **values)
