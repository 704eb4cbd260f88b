"""Batch grading: --jobs gives the same results as one at a time, shards merge into the whole.
(The GitHub Actions workflows are checked in tests/test_workflows.py.)"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_grader.grading import report
from course_grader.grading.batch import grade_folder, merge_csvs, shard
from course_grader.config import CourseError
from course_grader.authoring.examples import write_examples
from tests.conftest import ROOT, needs_mnist

ASSIGNMENT = "conv_from_scratch"


def _per_test(out: Path) -> dict:
    """{(student, assignment): (score, [(test, points, passed, message)])} from the JSON reports."""
    found = {}
    for path in sorted(out.glob("feedback/*/*/report.json")):
        data = json.loads(path.read_text())
        tests = [(t["name"], t["points"], t["passed"], t["message"]) for t in data["tests"]]
        found[(data["student"], data["assignment"])] = (data["score"], tests)
    return found


@pytest.fixture(scope="module")
def submitted(tmp_path_factory, settings):
    folder = tmp_path_factory.mktemp("submitted")
    write_examples(settings, ASSIGNMENT, folder)
    # a fourth student whose notebook is not JSON: graded as an error, never blocking the rest
    broken = folder / "broken" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text("{ this is not json")
    return folder


@pytest.fixture(scope="module")
def one_at_a_time(tmp_path_factory, settings, submitted):
    out = tmp_path_factory.mktemp("jobs1")
    return out, grade_folder(settings, submitted, out, jobs=1, progress=False)


@needs_mnist
@pytest.mark.slow
def test_batch_grades_every_submission(one_at_a_time, settings):
    out, results = one_at_a_time
    rows = {(r["student"], r["assignment"]): r for r in report.read_csv(out / "grades.csv")}
    assert set(rows) == {(s, ASSIGNMENT) for s in ("broken", "partial", "reference", "untouched")}
    full = rows[("reference", ASSIGNMENT)]
    # every test point; the reflection waits for the instructor (conv_from_scratch: 3 points)
    assert full["score"] == full["auto_score"] != "0"
    assert float(full["max_score"]) == float(full["score"]) + 3
    assert full["hand"] == "reflection to grade by hand (3 points)"
    assert rows[("untouched", ASSIGNMENT)]["hand"] == "reflection 0/3 (not answered)"
    assert rows[("untouched", ASSIGNMENT)]["score"] == "0"
    assert 0 < float(rows[("partial", ASSIGNMENT)]["score"]) < float(full["max_score"])
    broken = rows[("broken", ASSIGNMENT)]
    assert broken["score"] == "0" and broken["status"] == "error"
    assert "not valid notebook JSON" in broken["message"]
    assert broken["max_score"] == full["max_score"]
    for student in ("broken", "partial", "reference", "untouched"):
        assert (out / "feedback" / student / ASSIGNMENT / "report.json").is_file()


@needs_mnist
@pytest.mark.slow
def test_parallel_grading_equals_serial(one_at_a_time, settings, submitted, tmp_path):
    out1, _ = one_at_a_time
    out2 = tmp_path / "jobs2"
    grade_folder(settings, submitted, out2, jobs=2, progress=False)
    assert (out2 / "grades.csv").read_text() == (out1 / "grades.csv").read_text()
    assert _per_test(out2) == _per_test(out1)


@needs_mnist
@pytest.mark.slow
def test_shards_merge_into_the_whole(one_at_a_time, settings, submitted, tmp_path):
    out1, _ = one_at_a_time
    parts = []
    for k in (1, 2):
        out = tmp_path / f"shard{k}"
        grade_folder(settings, submitted, out, jobs=1, shard_spec=f"{k}/2", progress=False)
        parts.append(out / "grades.csv")
    assert all(len(report.read_csv(p)) == 2 for p in parts)
    merged = tmp_path / "grades.csv"
    merge_csvs(parts, merged)
    assert merged.read_text() == (out1 / "grades.csv").read_text()
    # the `course merge` command does the same
    again = tmp_path / "again.csv"
    proc = subprocess.run([sys.executable, "-m", "course_grader.cli", "merge", *map(str, parts),
                           "--out", str(again)], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert again.read_text() == merged.read_text()


def test_shard_slices_are_disjoint_and_complete():
    items = list(range(23))
    slices = [shard(items, f"{k}/4") for k in range(1, 5)]
    assert sorted(sum(slices, [])) == items
    assert shard(items, None) == items
    for bad in ("0/4", "5/4", "x", "1/0", "1-4"):
        with pytest.raises(CourseError):
            shard(items, bad)


def test_merge_rejects_a_submission_graded_twice(tmp_path):
    row = {"student": "ada", "assignment": "pooling", "score": "3", "max_score": "20",
           "status": "graded", "message": ""}
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    report.write_csv(a, [row])
    report.write_csv(b, [row])
    with pytest.raises(CourseError, match="ada/pooling"):
        merge_csvs([a, b], tmp_path / "out.csv")
    with pytest.raises(CourseError, match="no such grades file"):
        merge_csvs([tmp_path / "missing.csv"], tmp_path / "out.csv")


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`course merge ... | head -1`: the merged file is written, and the closed pipe ends the
    command quietly with the shell's SIGPIPE status, not with a BrokenPipeError traceback."""
    rows = [{"student": f"s{i:04d}", "assignment": "pooling", "score": "3", "max_score": "20",
             "status": "graded", "message": ""} for i in range(3000)]
    shards = [tmp_path / "a.csv", tmp_path / "b.csv"]
    report.write_csv(shards[0], rows[:1500])
    report.write_csv(shards[1], rows[1500:])
    command = [sys.executable, "-m", "course_grader.cli", "merge", *map(str, shards),
               "--out", str(tmp_path / "out.csv")]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline()                 # the table's first line, then stop reading
    process.stdout.close()
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141 and err == "", err
    assert len(report.read_csv(tmp_path / "out.csv")) == 3000


@needs_mnist
@pytest.mark.slow
def test_the_parent_writes_nbgraders_gradebook(one_at_a_time):
    """Workers never open the SQLite gradebook; the parent records every graded test in it."""
    from nbgrader.api import Gradebook

    out, results = one_at_a_time
    by_student = {r.student: r for r in results}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        for student in ("reference", "partial", "untouched", "broken"):
            submission = gb.find_submission(ASSIGNMENT, student)
            assert submission.score == pytest.approx(by_student[student].score)
            assert submission.max_score == pytest.approx(by_student[student].max_score)


def test_formgrader_note_only_when_formgrader_would_not_count_the_submissions(settings, tmp_path):
    """formgrader counts submitted/<student>/<assignment> folders in the course root (issue 17.6)."""
    from course_grader.cli import formgrader_note

    root = settings.root
    assert "0 submissions" in formgrader_note(settings, tmp_path / "elsewhere", root)
    assert formgrader_note(settings, root / "submitted", root) == ""
    assert formgrader_note(settings, tmp_path / "elsewhere", tmp_path / "out") == ""


def _cache_in(monkeypatch, folder: Path) -> None:
    from course_grader.config import Settings

    monkeypatch.setattr(Settings, "cache_dir", property(lambda self: folder))


def test_a_pool_takes_the_longest_assignments_first(settings, tmp_path, monkeypatch):
    """Workers take the assignments whose reference run took longest first, each assignment's
    submissions in their order; assignments of unknown cost and error rows last; without any
    timing, the order found."""
    from course_grader.assignment import load
    from course_grader.grading.batch import Submission, longest_first
    from course_grader.grading.reference import cache_path

    _cache_in(monkeypatch, tmp_path / "cache")
    assignments = {name: load(settings, name) for name in ("conv_from_scratch", "pooling", "activations")}
    path = tmp_path / "x.ipynb"
    subs = [Submission(student, name, path) for student in ("ada", "bob")
            for name in ("activations", "conv_from_scratch", "pooling")]
    subs.append(Submission("cy", "pooling", None, error="no notebook"))
    assert longest_first(settings, subs, assignments) == subs
    for name, seconds in (("conv_from_scratch", "2.5\n"), ("pooling", "9.0\n")):
        seconds_file = cache_path(settings, assignments[name]).with_suffix(".seconds")
        seconds_file.parent.mkdir(parents=True, exist_ok=True)
        seconds_file.write_text(seconds)
    order = [(s.student, s.assignment) for s in longest_first(settings, subs, assignments)]
    assert order == [("ada", "pooling"), ("bob", "pooling"), ("cy", "pooling"),
                     ("ada", "conv_from_scratch"), ("bob", "conv_from_scratch"),
                     ("ada", "activations"), ("bob", "activations")]


@needs_mnist
@pytest.mark.slow
def test_the_reference_run_keeps_how_long_it_took(settings, tmp_path, monkeypatch):
    import time

    from course_grader.grading.reference import reference_records, reference_seconds

    _cache_in(monkeypatch, tmp_path / "cache")
    assert reference_seconds(settings, ASSIGNMENT) is None
    started = time.monotonic()
    reference_records(settings, ASSIGNMENT)
    took = time.monotonic() - started
    assert 0 < reference_seconds(settings, ASSIGNMENT) <= took


def _fake_batch(settings, tmp_path, monkeypatch, points: float):
    """A batch of three pooling submissions whose grading is faked (every test ``points``, or its
    maximum when smaller): what the parent does with the rows, without the kernels."""
    from course_grader.assignment import load
    from course_grader.grading import batch
    from course_grader.grading.results import GradeResult, TestResult
    from course_grader.notebook import grade_id, points as cell_points

    tests = [(grade_id(c), cell_points(c)) for c in load(settings, "pooling").test_cells]

    def fake_grade_one(settings, sub, out, assignment, hidden, manual):
        results = [TestResult(name=name, points=min(points, most), max_points=most, passed=points >= most)
                   for name, most in tests]
        return GradeResult(assignment=sub.assignment, student=sub.student, tests=results,
                           score=sum(t.points for t in results),
                           max_score=sum(t.max_points for t in results)).to_dict()

    monkeypatch.setattr(batch, "_grade_one", fake_grade_one)
    submitted = tmp_path / "submitted"
    for student in ("ann", "ben", "cat"):
        path = submitted / student / "pooling" / "pooling.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return submitted


def test_a_gradebook_that_cannot_be_written_loses_no_grade(settings, tmp_path, monkeypatch, capsys):
    """The gradebook is written in one transaction at the batch's end: a failure part way keeps
    grades.csv whole, says so, and leaves the gradebook as the last batch wrote it (none of the
    new batch's records, not even those before the failure)."""
    from nbgrader.api import Gradebook

    out = tmp_path / "out"
    grade_folder(settings, _fake_batch(settings, tmp_path, monkeypatch, 1.0), out, jobs=1, progress=False)

    def scores():
        with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
            return {s: gb.find_submission("pooling", s).score for s in ("ann", "ben", "cat")}

    first = scores()
    assert len(set(first.values())) == 1 and first["ann"] > 0

    calls = []
    create = Gradebook.update_or_create_submission

    def fails_second(self, *args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return create(self, *args, **kwargs)

    monkeypatch.setattr(Gradebook, "update_or_create_submission", fails_second)
    capsys.readouterr()
    grade_folder(settings, _fake_batch(settings, tmp_path, monkeypatch, 0.0), out, jobs=1, progress=False)
    assert calls == ["ann", "ben"]
    assert "could not be updated: RuntimeError: disk full" in capsys.readouterr().err
    rows = {r["student"]: float(r["score"]) for r in report.read_csv(out / "grades.csv")}
    assert rows == {"ann": 0.0, "ben": 0.0, "cat": 0.0}
    assert scores() == first                         # ann's new 0 was rolled back with the rest
