"""formgrader in a real browser (issue 17): what an instructor sees equals grades.csv.

A course graded by the grader's batch (what `course grade submitted` runs in the course root)
is served by nbgrader's formgrader (`jupyter server` with nbgrader's server extension, on
127.0.0.1) and read with Debian's headless chromium through selenium, after the pages' own
JavaScript has filled their tables:

- Manage Assignments: each assignment's submission count is the number of submissions graded;
- Manage Students: every student of the roster (also one with no submission) with the roster's
  name and email, and the overall score of grades.csv (its scores summed over the assignments,
  out of every assignment's maximum);
- Manage Submissions: one row per graded submission, with the roster's name, grades.csv's score,
  its timestamp where `timestamp.txt` gave one, and "graded": no "needs manual grading" badge for
  automatic grades, one where a reflection was answered and waits for the instructor (grades.csv's
  `hand` column: "to grade by hand");
- a score given by hand through nbgrader's Gradebook API (as formgrader's score box stores it), to
  a test and to a reflection, shows at once; after grading again grades.csv has the same score
  (the reflection's in the total), the graded reflection no longer waits, and formgrader flags the
  submission "needs manual grading", as nbgrader's own autograde does after a regrade of a
  submission with a score given by hand (grades.csv lists it in its `manual` column).

Skipped without chromium, chromium-driver or selenium; failed instead under
COURSE_REQUIRE_BROWSER=1 (tests/conftest.py; .ci/run installs them and sets it).
"""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from course_grader.authoring.examples import write_examples
from course_grader.grading import report
from course_grader.grading.batch import grade_folder
from tests.conftest import ROOT, browser_unavailable, needs_mnist, require_browser
from tests.helpers import nbgrader_env, open_gradebook

ASSIGNMENTS = ("pooling", "conv_from_scratch")
DUE = {"pooling": "2026-12-05 23:59"}
ROSTER = ("id,first_name,last_name,email\n"
          "reference,Ada,Lovelace,ada@example.org\n"
          "partial,Grace,Hopper,\n"
          "untouched,Alan,Turing,alan@example.org\n"
          "absent,Edsger,Dijkstra,\n")          # on the roster, no submission
TOKEN = "course-formgrader-browser-test"
WAIT = 60                                        # seconds a page's table may take to load
SERVER_LIFETIME = 1800                           # seconds formgrader may run at most

pytestmark = [needs_mnist, pytest.mark.slow, pytest.mark.xdist_group("formgrader_browser")]


@pytest.fixture(scope="module")
def browser_paths():
    return require_browser()          # before grading: a machine without chromium skips at once


@pytest.fixture(scope="module")
def course(settings, browser_paths, tmp_path_factory):
    """A course root as formgrader opens it (nbgrader_config.py, source/, submitted/, roster),
    graded into itself. Submissions: pooling by reference (on time), partial (no timestamp.txt)
    and untouched (late); conv_from_scratch by reference and untouched."""
    root = tmp_path_factory.mktemp("formgrader-course")
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    for assignment in ASSIGNMENTS:
        shutil.copytree(ROOT / "source" / assignment, root / "source" / assignment)
        write_examples(settings, assignment, root / "submitted")
    shutil.rmtree(root / "submitted" / "partial" / "conv_from_scratch")
    (root / "submitted" / "reference" / "pooling" / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (root / "submitted" / "untouched" / "pooling" / "timestamp.txt").write_text("2026-12-09 10:00:00.000000 UTC")
    (root / "roster.csv").write_text(ROSTER)
    graded = replace(settings, roster=str(root / "roster.csv"), due_dates=DUE)
    _grade(graded, root)
    return graded, root


def _grade(settings, root: Path) -> None:
    """`course grade submitted` in the course root: its submitted/ folder, graded into it."""
    grade_folder(settings, root / "submitted", root, progress=False)


@pytest.fixture(scope="module")
def formgrader(course, tmp_path_factory):
    """nbgrader's formgrader on 127.0.0.1 (a free port the server picks itself), serving the
    course root, with its own Jupyter folders; stopped after the module. Returns its URL."""
    _, root = course
    home = tmp_path_factory.mktemp("jupyter")
    env = nbgrader_env()
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log = (home / "server.log").open("w")
    # `timeout`: a server left behind by a killed pytest still stops (the finalizer stops it first)
    server = subprocess.Popen(
        ["timeout", "--kill-after=30", str(SERVER_LIFETIME),
         str(Path(sys.prefix) / "bin" / "jupyter"), "server", "--no-browser", "--allow-root",
         "--ip=127.0.0.1", "--port=0", f"--ServerApp.root_dir={root}",
         f"--IdentityProvider.token={TOKEN}"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        port = None
        while port is None and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
            port = _listening_port(home / "runtime")
        if port is None:
            raise RuntimeError(f"formgrader did not start (exit status {server.poll()}): "
                               f"{(home / 'server.log').read_text()[-3000:]}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()


def _listening_port(runtime: Path) -> int | None:
    """The port in runtime/jpserver-<pid>.json, which the server writes once it listens (None
    before, or while the file is being written)."""
    for info in runtime.glob("jpserver-*.json"):
        try:
            return int(json.loads(info.read_text())["port"])
        except (OSError, ValueError, KeyError):
            return None
    return None


@pytest.fixture(scope="module")
def browser(browser_paths, tmp_path_factory):
    """Debian's chromium, headless, through its chromedriver (the paths given: Selenium Manager
    never runs, nothing is downloaded)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = browser_paths
    profile = tmp_path_factory.mktemp("chromium")
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-first-run", "--disable-extensions", f"--user-data-dir={profile / 'profile'}",
                     "--window-size=1280,1024"):
        options.add_argument(argument)
    service = Service(driver_path, log_output=str(profile / "chromedriver.log"))
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except WebDriverException as e:     # e.g. a chromedriver of another version than chromium
        browser_unavailable(f"chromium ({chromium}) did not start through {driver_path}: "
                            f"{(e.msg or type(e).__name__).splitlines()[0]}")
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


# ---- reading formgrader's pages ----

_ROWS = """
var columns = arguments[0];
return Array.from(document.querySelectorAll('#main-table > tr')).map(function (tr) {
    var row = {};
    columns.forEach(function (c) {
        var td = tr.querySelector('td.' + c);
        row[c] = td === null ? null : td.textContent.trim();
    });
    return row;
});
"""


def _table(driver, url: str, page: str, columns: tuple) -> list[dict]:
    """The rows of a formgrader page's table (#main-table), once its JavaScript has loaded them
    (the page's Backbone collection ``models`` sets ``loaded``)."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{url}/formgrader/{page}?token={TOKEN}")
    WebDriverWait(driver, WAIT).until(
        lambda d: d.execute_script("return typeof models !== 'undefined' && !!models && models.loaded === true"),
        message=f"formgrader's {page} did not load its table in {WAIT} s")
    return driver.execute_script(_ROWS, list(columns))


def _score(text: str) -> tuple[float, float]:
    """formgrader's "score / max_score" (each rounded to 2 decimals) as numbers."""
    score, max_score = text.split(" / ")
    return float(score), float(max_score)


def _seen(driver, url: str, assignments) -> dict:
    """What formgrader shows: {"assignments": {name: submissions}, "students": {id: (...)},
    assignment: {id: (...)} for each Manage Submissions page}."""
    seen = {"assignments": {r["name"]: int(r["num-submissions"])
                            for r in _table(driver, url, "manage_assignments", ("name", "num-submissions"))},
            "students": {r["id"]: (r["name"], r["email"], _score(r["score"]))
                         for r in _table(driver, url, "manage_students", ("name", "id", "email", "score"))}}
    for assignment in assignments:
        rows = _table(driver, url, f"manage_submissions/{assignment}",
                      ("student-name", "student-id", "timestamp", "status", "score"))
        seen[assignment] = {r["student-id"]: (r["student-name"], r["status"], _score(r["score"]),
                                              r["timestamp"] != "None") for r in rows}
    return seen


def _expected(root: Path, assignments) -> dict:
    """The same, from grades.csv, the roster and the submitted/ folders."""
    rows = report.read_csv(root / "grades.csv")
    roster = {r["id"]: r for r in csv.DictReader((root / "roster.csv").open())}

    def name(sid):
        person = roster.get(sid, {})
        return f"{person.get('last_name') or 'None'}, {person.get('first_name') or 'None'}"

    maximum = {}
    for r in rows:
        assert maximum.setdefault(r["assignment"], float(r["max_score"])) == float(r["max_score"]), r
    expected = {"assignments": dict(Counter(r["assignment"] for r in rows)), "students": {}}
    for sid in sorted(set(roster) | {r["student"] for r in rows}):
        total = sum(float(r["score"]) for r in rows if r["student"] == sid)
        expected["students"][sid] = (name(sid), roster.get(sid, {}).get("email") or "None",
                                     (round(total, 2), round(sum(maximum.values()), 2)))
    for assignment in assignments:
        # "needs manual grading" only where a test's score was given by hand (grades.csv's `manual`)
        # or a reflection waits for one (its `hand` column)
        expected[assignment] = {
            r["student"]: (name(r["student"]),
                           "needs manual grading" if r["manual"] or "to grade by hand" in r["hand"] else "graded",
                           (round(float(r["score"]), 2), round(float(r["max_score"]), 2)),
                           (root / "submitted" / r["student"] / assignment / "timestamp.txt").is_file())
            for r in rows if r["assignment"] == assignment}
    return expected


# ---- the tests (browser first: a browser that cannot start skips before anything is graded) ----

def test_formgrader_shows_the_names_scores_and_counts_of_grades_csv(browser, course, formgrader):
    _, root = course
    rows = report.read_csv(root / "grades.csv")
    assert {(r["student"], r["assignment"]) for r in rows} == {
        (p.parent.name, p.name) for p in (root / "submitted").glob("*/*") if p.is_dir()}
    assert {r["status"] for r in rows} == {"graded"}            # none for review

    seen, expected = _seen(browser, formgrader, ASSIGNMENTS), _expected(root, ASSIGNMENTS)
    assert seen["assignments"] == expected["assignments"] == {"pooling": 3, "conv_from_scratch": 2}
    assert seen["students"] == expected["students"]
    assert seen["students"]["absent"] == ("Dijkstra, Edsger", "None", (0, 67))     # 29 + 38
    assert seen["students"]["partial"][2][0] > 0
    for assignment in ASSIGNMENTS:
        assert seen[assignment] == expected[assignment], assignment
    # the reference answers' reflections wait for the instructor; the untouched ones got 0 at once
    # (the other test may run first: then the untouched pooling has a test scored by hand)
    waiting = {(a, s) for a in ASSIGNMENTS for s, row in seen[a].items() if row[1] != "graded"}
    assert {("conv_from_scratch", "reference")} <= waiting <= {
        ("pooling", "reference"), ("conv_from_scratch", "reference"), ("pooling", "untouched")}


def test_a_score_given_by_hand_shows_and_is_grades_csvs_after_grading_again(browser, course, formgrader):
    graded, root = course
    with open_gradebook(root / "gradebook.db", graded.course_id) as gb:
        grade = gb.find_grade("test_pool_dtype", "pooling", "pooling", "untouched")
        assert (grade.auto_score, grade.max_score) == (0, 1)
        # what formgrader's score box stores (its API handler for a grade)
        grade.manual_score = 1.0
        grade.needs_manual_grade = False
        reflection = gb.find_grade("reflection", "pooling", "pooling", "reference")
        assert (reflection.auto_score, reflection.max_score, reflection.needs_manual_grade) == (None, 3, True)
        reflection.manual_score = 2.0
        reflection.needs_manual_grade = False
        gb.db.commit()
    before = {(r["student"], r["assignment"]): float(r["score"]) for r in report.read_csv(root / "grades.csv")}

    seen = _seen(browser, formgrader, ["pooling"])
    name, status, (score, max_score), _ = seen["pooling"]["untouched"]
    assert (name, status, score, max_score) == ("Turing, Alan", "graded", before["untouched", "pooling"] + 1, 29)
    assert seen["pooling"]["reference"][1:3] == ("graded", (before["reference", "pooling"] + 2, 29))
    assert seen["students"]["untouched"][2][0] == (
        before["untouched", "pooling"] + before["untouched", "conv_from_scratch"] + 1)

    _grade(graded, root)                                          # grading again
    rows = {(r["student"], r["assignment"]): r for r in report.read_csv(root / "grades.csv")}
    row = rows["untouched", "pooling"]
    assert (row["score"], row["auto_score"], row["manual"]) == ("1", "0", "test_pool_dtype 1/1 (auto 0)")
    seen, expected = _seen(browser, formgrader, ASSIGNMENTS), _expected(root, ASSIGNMENTS)
    assert seen == expected
    assert seen["pooling"]["untouched"][1:3] == ("needs manual grading", (1, 29))
    reference = rows["reference", "pooling"]
    assert (reference["score"], reference["auto_score"], reference["hand"]) == (
        "28", "26", "reflection 2/3 (graded by the instructor)")
    assert seen["pooling"]["reference"][1:3] == ("graded", (28, 29))
    assert {(a, s) for a in ASSIGNMENTS for s, r in seen[a].items() if r[1] != "graded"} == {
        ("pooling", "untouched"), ("conv_from_scratch", "reference")}
