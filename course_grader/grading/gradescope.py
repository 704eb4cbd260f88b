"""Gradescope: an autograder zip that grades one assignment with this engine.

``course gradescope ASSIGNMENT OUT.zip`` writes the zip Gradescope's "Autograder configuration"
page takes. Gradescope unpacks it into ``/autograder/source``, runs ``setup.sh`` once when it builds
the image, then ``run_autograder`` for every submission, with the student's files in
``/autograder/submission`` and ``/autograder/results/results.json`` to be written::

    setup.sh          installs Python, bubblewrap and the grading environment (CPU torch)
    run_autograder    python -m course_grader.grading.gradescope run ...
    course/           this course: course_grader, course_utils, nbgrader_config.py, pyproject.toml,
                      the assignment's source notebook (solutions and hidden tests: the zip is
                      the instructor's, never give it to students) and its cached reference records

What a student sees (``results.json``): the score, each test cell's points and message (never the
hidden test's code; ``--hidden-visibility`` sets when Gradescope shows the hidden tests' rows),
``execution_time``, and the notes on the run. A submission without the notebook gets 0 with a
message naming the file expected. A problem of the grader itself (a reference that does not run,
a broken install) is no student's 0: ``run_autograder`` writes no results and exits non-zero, so
Gradescope marks the run as failed and the instructor sees the cause in its output.

The paths are Gradescope's unless ``GRADESCOPE_SUBMISSION``, ``GRADESCOPE_RESULTS`` and
``GRADESCOPE_PYTHON`` say otherwise (the tests run the zip in a temporary folder that way).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import stat
import sys
import time
import zipfile
from pathlib import Path

from ..assignment import as_assignment
from ..config import CourseError, Settings, load_settings

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
#: Folders and files of the course the zip carries (besides the assignment's source notebook).
COURSE_PARTS = ("course_grader", "course_utils", "nbgrader_config.py", "pyproject.toml", "README.md")
#: Gradescope's submission limit is far below this; larger files are not read.
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024

SETUP_SH = """#!/usr/bin/env bash
# Run once by Gradescope when it builds the autograder image (Ubuntu). Installs Python, bubblewrap
# (the sandbox student code runs in) and the grading environment with the CPU build of torch.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q --index-url https://download.pytorch.org/whl/cpu \\
    "{torch}" "{torchvision}"
/autograder/venv/bin/pip install -q "/autograder/source/course[grade]"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Run by Gradescope for every submission: grades it and writes /autograder/results/results.json.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${{GRADESCOPE_PYTHON:-/autograder/venv/bin/python}}"
cd "$here/course"
exec "$python" -m course_grader.grading.gradescope run --assignment {assignment} \\
    --submission "${{GRADESCOPE_SUBMISSION:-/autograder/submission}}" \\
    --results "${{GRADESCOPE_RESULTS:-/autograder/results}}/results.json" \\
    --hidden-visibility {visibility}
"""


# ------------------------------------------------------------------------------ building the zip

def build_zip(settings: Settings, assignment_id: str, out: Path,
              hidden_visibility: str = "after_published") -> Path:
    """Write Gradescope's autograder zip for ``assignment_id`` to ``out``; returns ``out``.

    The reference records are computed (or taken from the cache) first, so a broken reference
    fails here, at the instructor's desk, not in every student's run."""
    if hidden_visibility not in VISIBILITIES:
        raise CourseError(f"--hidden-visibility must be one of {', '.join(VISIBILITIES)}, "
                          f"not {hidden_visibility!r}")
    from .reference import reference_records

    assignment = as_assignment(settings, assignment_id)
    reference_records(settings, assignment)
    out = Path(out)
    if out.suffix != ".zip":
        raise CourseError(f"{out}: the autograder must be a .zip file (Gradescope's upload takes one)")
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_text(zf, "setup.sh", SETUP_SH.format(**_torch_requirements()), executable=True)
        _add_text(zf, "run_autograder", RUN_AUTOGRADER.format(assignment=assignment.id,
                                                               visibility=hidden_visibility),
                  executable=True)
        root = settings.root
        for part in COURSE_PARTS:
            _add_tree(zf, root / part, f"course/{part}")
        rel = assignment.source_path.relative_to(root)
        _add_tree(zf, assignment.source_path, f"course/{rel.as_posix()}")
        for cached in sorted((settings.cache_dir / "reference").glob(f"{assignment.id}-*.json")):
            _add_tree(zf, cached, f"course/{cached.relative_to(root).as_posix()}")
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    os.replace(tmp, out)
    return out


def _torch_requirements() -> dict:
    """The torch and torchvision this grader runs, as pip requirements (CPU builds)."""
    from importlib import metadata

    versions = {}
    for name in ("torch", "torchvision"):
        version = metadata.version(name).split("+")[0]
        versions[name] = f"{name}=={version}"
    return versions


def _add_text(zf: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    zf.writestr(info, text)


def _add_tree(zf: zipfile.ZipFile, path: Path, arcname: str) -> None:
    if path.is_file():
        _add_text_bytes(zf, arcname, path.read_bytes())
        return
    for item in sorted(path.rglob("*")):
        if item.is_file() and "__pycache__" not in item.parts and item.suffix != ".pyc":
            _add_text_bytes(zf, f"{arcname}/{item.relative_to(path).as_posix()}", item.read_bytes())


def _add_text_bytes(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o644 | stat.S_IFREG) << 16
    zf.writestr(info, data)


# ------------------------------------------------------------------------ grading one submission

def find_notebook(submission: Path, assignment_id: str) -> tuple:
    """``(path or None, message)``: the submitted notebook, a regular file (no link) named
    ``<assignment>.ipynb``, else the only ``.ipynb`` file uploaded; the message says what was
    found otherwise (or how the file was matched)."""
    expected = f"{assignment_id}.ipynb"
    candidates = []
    for item in sorted(Path(submission).rglob("*.ipynb")) if Path(submission).is_dir() else []:
        if item.is_symlink() or not item.is_file() or ".ipynb_checkpoints" in item.parts:
            continue
        candidates.append(item)
    exact = [p for p in candidates if p.name == expected]
    if len(exact) == 1:
        return exact[0], ""
    if len(candidates) == 1:
        return candidates[0], f"graded {candidates[0].name} (expected {expected})"
    if not candidates:
        return None, f"no notebook was submitted: upload {expected}"
    names = ", ".join(p.name for p in candidates[:5])
    return None, f"{len(candidates)} notebooks were submitted ({names}): upload only {expected}"


def results_json(result, hidden: set = frozenset(), hidden_visibility: str = "after_published",
                 seconds: float | None = None, message: str = "") -> dict:
    """Gradescope's results.json for a GradeResult: every test cell a row; the rows of the cells
    named in ``hidden`` (those with hidden tests) get ``hidden_visibility``."""
    from .report import gradescope_results

    data = gradescope_results(result)
    for row in data["tests"]:
        row["visibility"] = hidden_visibility if row["name"] in hidden else "visible"
    data["execution_time"] = round(seconds if seconds is not None else result.seconds, 2)
    if message:
        data["output"] = f"{message}; {data['output']}"
    return data


def hidden_tests(assignment) -> set:
    """The grade_ids of an Assignment's test cells that hold hidden tests."""
    from ..notebook import grade_id

    return {grade_id(c) for c in assignment.test_cells if "BEGIN HIDDEN TESTS" in str(c.get("source", ""))}


def run(settings: Settings, assignment_id: str, submission: Path, results: Path,
        hidden_visibility: str = "after_published") -> int:
    """Grade the submission in ``submission`` and write ``results``. 0 when results were written;
    1 (and no results) when the grader itself failed, so that Gradescope reports the run as
    failed instead of a student's 0."""
    from ..execution import zygote
    from . import reference
    from .grade import grade_notebook
    from .results import GradeResult, all_failed, hand_results

    started = time.monotonic()
    assignment = as_assignment(settings, assignment_id)
    if reference.cache_path(settings, assignment).is_file():
        settings = zygote.for_one_kernel(settings)     # one kernel in a container of the instructor's memory
    notebook, message = find_notebook(submission, assignment.id)
    if notebook is None:
        result = GradeResult(assignment=assignment.id, max_score=assignment.max_score,
                             status="error", error=message)
        result.tests = all_failed(assignment, f"not graded: {message}")
        result.hand = hand_results(assignment)
    elif notebook.stat().st_size > MAX_NOTEBOOK_BYTES:
        message = f"{notebook.name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB: clear its outputs and upload it again"
        result = GradeResult(assignment=assignment.id, max_score=assignment.max_score,
                             status="error", error=message)
        result.tests = all_failed(assignment, f"not graded: {message}")
        result.hand = hand_results(assignment)
        message = ""
    else:
        result, _ = grade_notebook(settings, assignment, notebook, student="gradescope", figures=False)
    data = results_json(result, hidden_tests(assignment), hidden_visibility,
                        time.monotonic() - started, message)
    results = Path(results)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"{assignment.id}: {result.score:g} / {result.max_score:g} ({result.status})")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_grader.grading.gradescope")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="grade one Gradescope submission (what run_autograder calls)")
    p.add_argument("--assignment", required=True)
    p.add_argument("--submission", required=True, type=Path)
    p.add_argument("--results", required=True, type=Path)
    p.add_argument("--hidden-visibility", default="after_published", choices=VISIBILITIES)
    args = parser.parse_args(argv)
    try:
        return run(load_settings(None), args.assignment, args.submission, args.results,
                   args.hidden_visibility)
    except CourseError as e:
        print(f"the autograder could not grade this submission (a problem of the course, not of "
              f"the student's work): {e}", file=sys.stderr)
        return 1
    except Exception as e:  # the grader's own failure: never a student's 0
        import traceback
        traceback.print_exc()
        print(f"the autograder failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
