"""Test the tests: faulty and hostile submissions get exactly the outcome they deserve.

Each case of ``tests/submissions/cases.py`` is built, written to a file and graded with small
limits (a cell_timeout of a few seconds where the case runs too long). For every case:
- the score, the failing tests, the status, the error, ``run_error`` and the notes are exact;
- no process of the grading kernel is left afterwards (the kernel, its children, processes that
  left its session): nothing carrying this test process's kernel mark is alive;
- the repository is unchanged (``git status`` of source/, release/, course_utils/, course_grader/).
Then a folder of broken submissions plus a good one is graded in batch (in process, and once
with ``course grade``), and ``course check`` gives the documented exit codes.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from course_grader import cli
from course_grader.grading import report
from course_grader import protocol
from course_grader.execution import cgroups, environment
from course_grader.grading.batch import grade_folder
from course_grader.grading.grade import grade_notebook
from course_grader.notebook import grade_id, is_test, points, read_notebook
from tests.conftest import ROOT, needs_mnist
from tests.submissions.cases import ALL, CASES, BY_NAME, OS_EXIT, after_setup, reference, to_bytes

pytestmark = [needs_mnist, pytest.mark.slow]

PROTECTED = ["source", "release", "course_utils", "course_grader"]


# ----------------------------------------------------------------------------------- helpers

def git_state() -> str:
    out = subprocess.run(["git", "status", "--porcelain", "--", *PROTECTED], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return out.stdout


class RepoGuard:
    """``git status`` of the protected folders, and every file in them, before a grading.

    ``changes()`` after it: the files that disappeared, and the lines of ``git status`` that
    changed for a file nobody has written since (people editing the course while the suite runs
    write files; a grading kernel can only have deleted them, or changed them without a trace
    in the modification time, which nothing here does).
    """

    def __init__(self):
        import time
        self.started = time.time() - 1
        self.status = git_state()
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "--", *PROTECTED],
                                cwd=ROOT, capture_output=True, text=True, check=True).stdout
        self.files = [line for line in listed.splitlines() if (ROOT / line).is_file()]

    def changes(self) -> list[str]:
        missing = [f"deleted: {f}" for f in self.files if not (ROOT / f).exists()]
        changed = set(git_state().splitlines()) ^ set(self.status.splitlines())
        unexplained = []
        for line in sorted(changed):
            path = ROOT / line[3:].split(" -> ")[-1].strip('"')
            if not (path.exists() and path.stat().st_mtime >= self.started):
                unexplained.append(f"git status: {line}")
        return missing + unexplained


def kernel_processes() -> list[str]:
    """Processes started by a grading kernel of this test process (they carry its mark)."""
    needle = f"{environment.KERNEL_MARK}={os.getpid()}-".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle not in f.read():
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry}: {cmdline[:120]}")
        except OSError:
            pass
    return found


def ipykernel_pids() -> set[int]:
    pids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"ipykernel_launcher" in f.read():
                        pids.add(int(entry))
            except OSError:
                pass
    return pids


def cgroup_caps_processes(settings) -> bool:
    cgroup = cgroups.KernelCgroup.create(settings)
    if cgroup is None:
        return False
    try:
        return cgroup.caps_processes
    finally:
        cgroup.remove()


def small(settings, **overrides):
    """Settings for these tests: generous limits, small where a case needs them."""
    values = {"cell_timeout": 30, "notebook_timeout": 300, **overrides}
    return replace(settings, **values)


def points_of(settings, assignment) -> dict:
    nb = read_notebook(settings.source_notebook(assignment))
    return {grade_id(c): points(c) for c in nb.cells if is_test(c)}


def write_submission(path: Path, built) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(built, bytes):
        path.write_bytes(built)
    else:
        nbformat.write(built, path)


def cell_with(executed, fragment: str):
    return next(c for c in executed.cells if c.cell_type == "code" and fragment in c.source)


def stream_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


@pytest.fixture
def listener():
    """A TCP socket on loopback that no sandboxed kernel may reach."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


# ----------------------------------------------------------------------------------- the cases

def test_readme_lists_every_case():
    readme = (Path(__file__).parents[1] / "submissions" / "README.md").read_text()
    rows = {c.name: f"| `{c.name}` | {c.assignment} | {c.how} | {c.expect} |" for c in CASES}
    assert [name for name, row in rows.items() if row not in readme] == [], \
        "tests/submissions/README.md must show each case's assignment, how and expected outcome as cases.py does"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_submission(case, settings, tmp_path, listener):
    if case.sandbox and shutil.which("bwrap") is None:
        pytest.skip("unsafe without the bubblewrap sandbox (apt-get install bubblewrap)")
    s = small(settings, **case.settings, **({"sandbox": "require"} if case.sandbox else {}))
    if case.cgroup_settings and cgroup_caps_processes(s):
        s = replace(s, **case.cgroup_settings)
    ctx = {"port": listener.getsockname()[1]}
    repo = RepoGuard()
    kernels_before = ipykernel_pids()

    path = tmp_path / "submitted" / "student" / case.assignment / (case.filename or f"{case.assignment}.ipynb")
    write_submission(path, case.build(s, ctx))
    result, executed = grade_notebook(s, case.assignment, path, student="student")
    summary = (f"{case.name}: score {result.score}/{result.max_score}, status {result.status}, "
               f"error {result.error!r}, run_error {result.run_error!r}, notes {result.notes}, "
               f"failed {[(t.name, t.status, t.message[:150]) for t in result.tests if not t.passed]}")

    # the outcome
    pts = points_of(settings, case.assignment)
    failed = set(pts) if case.failed == ALL else set(case.failed)
    assert {t.name for t in result.tests} == set(pts), summary
    assert {t.name for t in result.tests if not t.passed} == failed, summary
    assert result.auto_max == sum(pts.values()), summary
    assert result.score == sum(p for g, p in pts.items() if g not in failed), summary
    assert result.status == case.status, summary
    assert case.error in result.error if case.error else result.error == "", summary
    assert case.run_error in result.run_error if case.run_error else result.run_error == "", summary
    if case.notes:
        for fragment in case.notes:
            assert any(fragment in note for note in result.notes), (fragment, summary)
    else:
        assert result.notes == [], summary
    by_name = {t.name: t for t in result.tests}
    for gid, fragment in case.messages.items():
        assert fragment in by_name[gid].message, (gid, fragment, summary)
    assert {item["primitive"] for item in result.review} == set(case.review), summary
    for item in result.review:             # each item says where and why
        assert item["cell"] >= 0 and item["line"] >= 1 and item["why"], item
    if case.status in ("graded", "review"):
        for test in result.tests:
            assert test.passed or test.message, test      # every failure says why

    # nothing left running, nothing changed
    assert kernel_processes() == [], f"{case.name}: processes of the grading kernel are still alive"
    leaked = [p for p in ipykernel_pids() - kernels_before if f"{environment.KERNEL_MARK}={os.getpid()}-" in _environ(p)]
    assert leaked == [], leaked
    assert repo.changes() == [], f"{case.name} changed the repository"

    if case.check:
        CHECKS[case.check](result, executed, s, listener)


def _environ(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


# --------------------------------------------------------------------- extra checks per case

def check_memory_error_in_cell(result, executed, s, listener):
    cell = cell_with(executed, "def fill():")
    errors = [o for o in cell.outputs if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "MemoryError", cell.outputs


def check_forks_contained(result, executed, s, listener):
    text = stream_text(cell_with(executed, "os.fork()"))
    forked = int(re.search(r"forked (\d+) of 60", text).group(1))
    if cgroup_caps_processes(s):
        # the kernel's cgroup holds its own threads too: well under 60 children fit
        assert forked < min(60, s.max_processes), text
    elif os.geteuid() == 0:
        assert forked == 60, text          # root without a cgroup: no cap (see the README)
    else:
        assert 0 < forked <= 60, text      # RLIMIT_NPROC, counted over the whole user


def check_reflection_waits(result, executed, s, listener):
    assert [(a.name, a.answered, a.points, a.elsewhere) for a in result.hand] == \
        [("reflection", True, None, "a cell below it")]


def check_exit_calls_survived(result, executed, s, listener):
    assert "still here" in stream_text(cell_with(executed, "for leave in (exit, quit"))


def check_output_capped(result, executed, s, listener):
    cell = cell_with(executed, 'line = "x" * 999')
    text = stream_text(cell)
    assert len(text) <= protocol.MAX_CELL_OUTPUT_BYTES + 1_000, len(text)
    assert "output of this cell cut" in text


def check_outputs_counted(result, executed, s, listener):
    cell = cell_with(executed, "display(i)")
    shown = [o for o in cell.outputs if o.get("output_type") == "display_data"]
    assert len(shown) == protocol.MAX_CELL_OUTPUT_BYTES // protocol.MIN_OUTPUT_BYTES == 2_000, len(shown)
    assert [o["data"]["text/plain"] for o in shown[:3]] == ["0", "1", "2"]
    assert "output of this cell cut" in stream_text(cell)


def check_nothing_deleted(result, executed, s, listener):
    text = stream_text(cell_with(executed, "shutil.rmtree(path)"))
    assert "{" in text, text                                 # the cell ran and printed its attempts
    for path in ["source/pooling/pooling.ipynb", "README.md", "course_grader/grading/grade.py",
                 "course_utils/__init__.py", ".course_cache/reference"]:
        assert (s.root / path).exists(), path
    assert Path(environment.venv_python()).is_file() and (Path(sys.prefix) / "lib").is_dir()


def check_found_nothing(result, executed, s, listener):
    text = stream_text(cell_with(executed, "with the source notebook in hand"))
    assert "FOUND []" in text, text


def check_no_connection(result, executed, s, listener):
    text = stream_text(cell_with(executed, "socket.create_connection"))
    assert "CONNECTED" not in text, text
    with pytest.raises(BlockingIOError):
        listener.accept()


def check_escaped_nothing(result, executed, s, listener):
    text = stream_text(cell_with(executed, "the first release's escape"))
    assert "ESCAPED []" in text, text
    assert not (s.root / "planted-by-student").exists()


def check_scratch_full(result, executed, s, listener):
    text = stream_text(cell_with(executed, "3 * 2**30"))
    assert "FILLED" in text and text.count("'ENOSPC'") == 4, text


def check_bomb_refused(result, executed, s, listener):
    import resource
    text = stream_text(cell_with(executed, "inflates to 1 GiB"))
    size = int(re.search(r"bomb of (\d+) bytes", text).group(1))
    assert size < 5 * 2**20, size                           # small on the wire
    # the grader never unpacked it: its peak memory stayed far below the 1 GiB inside
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 3 * 2**20, "grader peak RSS (KiB)"


CHECKS = {"bomb_refused": check_bomb_refused, "escaped_nothing": check_escaped_nothing, "scratch_full": check_scratch_full,
          "exit_calls_survived": check_exit_calls_survived, "reflection_waits": check_reflection_waits,
          "memory_error_in_cell": check_memory_error_in_cell, "forks_contained": check_forks_contained,
          "output_capped": check_output_capped, "outputs_counted": check_outputs_counted,
          "nothing_deleted": check_nothing_deleted,
          "found_nothing": check_found_nothing, "no_connection": check_no_connection}
assert {c.check for c in CASES if c.check} <= set(CHECKS)


def test_kernel_that_cannot_start_is_reported_and_cleaned_up(settings, tmp_path):
    """A failed start (here: too little memory to load Python's libraries) is the machine's
    problem: status error with the cause, never a graded 0."""
    s = small(settings, memory_limit_mb=16, startup_timeout=20)
    path = tmp_path / "pooling.ipynb"
    nbformat.write(reference(s, "pooling"), path)
    result, _ = grade_notebook(s, "pooling", path)
    assert result.status == "error" and result.score == 0, result
    assert "the kernel failed" in result.run_error, result.run_error
    assert "not of the submission" in result.error and "the kernel failed" in result.error, result.error
    assert all(t.status == "not_run" and "not run" in t.message for t in result.tests), result.tests
    assert kernel_processes() == []


# ----------------------------------------------------------------------------------- batches

def _batch_folder(settings, folder: Path) -> None:
    good = reference(settings, "pooling")
    write_submission(folder / "good" / "pooling" / "pooling.ipynb", good)
    write_submission(folder / "renamed" / "pooling" / "pooling (1) final.ipynb", good)
    write_submission(folder / "cut_off" / "pooling" / "pooling.ipynb", to_bytes(good)[:3000])
    write_submission(folder / "empty" / "pooling" / "pooling.ipynb", b"")
    write_submission(folder / "lost" / "not_an_assignment" / "not_an_assignment.ipynb", to_bytes(good))
    (folder / "nothing" / "pooling").mkdir(parents=True)


def test_batch_grades_every_submission(settings, tmp_path):
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    _batch_folder(settings, submitted)
    repo = RepoGuard()
    results = grade_folder(small(settings), submitted, out, jobs=2, progress=False)
    rows = {r["student"]: r for r in report.read_csv(out / "grades.csv")}
    assert set(rows) == {"good", "renamed", "cut_off", "empty", "lost", "nothing"}
    assert len(results) == 6
    assert (rows["good"]["score"], rows["good"]["max_score"], rows["good"]["status"]) == ("26", "29", "graded")
    assert (rows["renamed"]["score"], rows["renamed"]["status"]) == ("26", "graded")
    assert "renamed to pooling (1) final.ipynb" in rows["renamed"]["message"]
    for student, fragment in [("cut_off", "not valid notebook JSON"), ("empty", "not valid notebook JSON"),
                              ("lost", "unknown assignment 'not_an_assignment'"), ("nothing", "no notebook")]:
        assert rows[student]["status"] == "error" and rows[student]["score"] == "0", rows[student]
        assert fragment in rows[student]["message"], rows[student]
    for student in ["good", "renamed", "cut_off", "empty"]:
        assert (out / "feedback" / student / "pooling" / "report.json").is_file(), student
    assert kernel_processes() == []
    assert repo.changes() == []


def test_course_grade_command(settings, tmp_path):
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    good = reference(settings, "pooling")
    write_submission(submitted / "good" / "pooling" / "pooling.ipynb", good)
    write_submission(submitted / "cut_off" / "pooling" / "pooling.ipynb", to_bytes(good)[:3000])
    write_submission(submitted / "lost" / "nope" / "nope.ipynb", to_bytes(good))
    env = {**os.environ, "COURSE_ROOT": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "course_grader.cli", "grade", str(submitted), "--out", str(out),
                           "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r["student"]: r for r in report.read_csv(out / "grades.csv")}
    assert set(rows) == {"good", "cut_off", "lost"}
    assert (rows["good"]["score"], rows["good"]["max_score"]) == ("26", "29")
    assert rows["cut_off"]["status"] == rows["lost"]["status"] == "error"
    assert "3 submission(s) graded" in proc.stdout


# ------------------------------------------------------------------------------ course check

def _check(argv, monkeypatch, capsys) -> tuple:
    monkeypatch.setenv("COURSE_ROOT", str(ROOT))
    code = cli.main(["check", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_course_check_exit_0_whenever_graded(settings, tmp_path, monkeypatch, capsys):
    """Graded, whatever the score: here the kernel dies in the first cell, and the score is 0."""
    path = tmp_path / "pooling.ipynb"
    nbformat.write(after_setup(reference(settings, "pooling"), OS_EXIT), path)
    code, out, err = _check([str(path), "--json"], monkeypatch, capsys)
    data = json.loads(out)
    assert code == 0, err
    assert data["status"] == "graded" and data["score"] == 0 and "exited with status 1" in data["run_error"]


def test_course_check_draws_no_figures(settings, tmp_path, monkeypatch, capsys):
    """`course check` writes no figures page, so it does not render the notebook's figures (0.1-0.2 s
    a figure grid in the kernel); a batch does (tests/end_to_end/test_instructor_view.py)."""
    from course_grader.execution.session import KernelSession

    drawn = []
    monkeypatch.setattr(KernelSession, "figures", lambda self, *a, **k: drawn.append(self) or [])
    path = tmp_path / "pooling.ipynb"
    nbformat.write(reference(settings, "pooling"), path)
    code, out, err = _check([str(path), "--json"], monkeypatch, capsys)
    assert code == 0 and json.loads(out)["score"] == 26, err
    assert drawn == []
    result, executed = grade_notebook(settings, "pooling", path)           # a batch's call
    assert result.score == 26 and len(drawn) == 1


@pytest.mark.parametrize("what, argv_of, fragment", [
    ("unknown assignment", lambda p: [str(p), "--assignment", "no_such_assignment"], "unknown assignment 'no_such_assignment'"),
    ("no assignment given or guessable", lambda p: [str(p.with_name("homework.ipynb"))], "cannot tell which assignment"),
    ("missing file", lambda p: [str(p.with_name("missing.ipynb")), "--assignment", "pooling"], "no such notebook file"),
    ("invalid JSON", lambda p: [str(p), "--assignment", "pooling"], "is not valid notebook JSON"),
    ("not UTF-8", lambda p: [str(p.with_name("garbage.ipynb")), "--assignment", "pooling"], "is not UTF-8 text"),
])
def test_course_check_fails_clearly_when_it_cannot_grade(what, argv_of, fragment, tmp_path, monkeypatch, capsys):
    path = tmp_path / "pooling.ipynb"
    path.write_text('{"cells": [')
    (tmp_path / "homework.ipynb").write_text('{"cells": []}')
    (tmp_path / "garbage.ipynb").write_bytes(bytes(range(256)))
    code, out, err = _check(argv_of(path), monkeypatch, capsys)
    assert code == cli.EXIT_CANNOT_GRADE, (what, code, out, err)
    assert fragment in err, (what, err)


def test_course_check_knows_a_renamed_notebook(settings, tmp_path):
    """A notebook saved by Colab or a browser ("Copy of pooling (1).ipynb") in a folder of any name:
    the assignment its release metadata names, else the one assignment named in its file name."""
    folder = tmp_path / "Downloads"
    folder.mkdir()
    copy_of = folder / "Copy of pooling (1).ipynb"
    copy_of.write_text('{"cells": [')                   # unreadable: the file name still tells
    assert cli.infer_assignment(settings, copy_of, None) == "pooling"
    renamed = folder / "my homework.ipynb"
    nbformat.write(reference(settings, "misclassifications"), renamed)
    assert cli.infer_assignment(settings, renamed, None) == "misclassifications"
    with pytest.raises(Exception, match="cannot tell which assignment"):
        cli.infer_assignment(settings, folder / "homework.ipynb", None)


# ----------------------------------------------------------------------------------- review

def test_course_check_reports_review_items(settings, tmp_path, monkeypatch, capsys):
    """A submission using a tampering primitive: exit 0 (it was graded), status review, each item
    with cell, line and why, in --json and in the plain output."""
    path = tmp_path / "conv_from_scratch.ipynb"
    nbformat.write(BY_NAME["rewrite_records"].build(settings, {}), path)
    code, out, err = _check([str(path), "--json"], monkeypatch, capsys)
    data = json.loads(out)
    assert code == 0, err
    assert data["status"] == "review" and data["score"] == 35 and data["max_score"] == 38
    assert {i["primitive"] for i in data["review"]} == {"get_ipython", "display_pub"}
    assert all(set(i) == {"cell", "grade_id", "line", "primitive", "why"} and i["why"] for i in data["review"])
    code, out, err = _check([str(path)], monkeypatch, capsys)
    assert code == 0 and "review: cell " in out and "display_pub" in out, out


def test_review_csv_and_feedback_with_hostile_student_names(settings, tmp_path):
    """grades.csv: status review and a review column; a student folder named like a formula is
    neutralised there, one named like HTML is escaped in the feedback page."""
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    formula, markup = '=HYPERLINK("evil.example","y")', "<img src=x onerror=alert(1)>"
    for student in (formula, markup):
        write_submission(submitted / student / "conv_from_scratch" / "conv_from_scratch.ipynb",
                         BY_NAME["rewrite_records"].build(settings, {}))
    results = grade_folder(settings, submitted, out, jobs=1, progress=False)
    assert [r.status for r in results] == ["review", "review"], [(r.error, r.notes) for r in results]
    rows = report.read_csv(out / "grades.csv")
    assert {r["student"] for r in rows} == {"'" + formula, markup}
    assert all(r["status"] == "review" and "display_pub" in r["review"] for r in rows)
    page = (out / "feedback" / markup / "conv_from_scratch" / "conv_from_scratch.html").read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Marked for review" in page


def test_markup_in_a_students_markdown_and_outputs_never_runs_in_the_feedback_page(settings, tmp_path):
    """A reference submission with a markdown cell and a displayed HTML output that carry event
    handlers and a script: full marks, and the feedback page shows them as inert text."""
    from tests.grader.test_feedback_html import assert_inert

    nb = after_setup(reference(settings, "pooling"),
                     "from IPython.display import HTML, display\n"
                     "display(HTML('<b>my table</b><img src=y onerror=alert(2)><script>alert(3)</script>'))")
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("My notes <img src=x onerror=alert(1)> "
                                                     "<a href=\"javascript:alert(4)\">link</a>"))
    submitted, out = tmp_path / "submitted", tmp_path / "out"
    write_submission(submitted / "ada" / "pooling" / "pooling.ipynb", nb)
    [result] = grade_folder(settings, submitted, out, jobs=1, progress=False)
    assert result.status == "graded" and result.score == result.max_score - sum(
        a.max_points for a in result.hand), (result.status, result.score, result.notes, result.review)
    page = (out / "feedback" / "ada" / "pooling" / "pooling.html").read_text()
    assert_inert(page)
    assert "<b>my table</b>" in page and "My notes" in page
