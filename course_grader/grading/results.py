"""What grading produces: a TestResult per test cell, a GradeResult per submission."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..notebook import grade_id, normalized, points


@dataclass
class TestResult:
    name: str                 # the test cell's grade_id
    points: float
    max_points: float
    passed: bool
    message: str = ""         # why it failed (never the hidden test's code)
    status: str = "ok"        # how the cell ran: ok | error | timeout | dead | not_run
    #: the grader's points where the instructor gave this test a score by hand (formgrader),
    #: which is then ``points``; None otherwise
    auto_points: float | None = None


@dataclass
class HandGraded:
    """An answer graded by hand (a reflection): the autograder gives it no points. As nbgrader's
    autograde does, an answer left as released (or deleted) gets 0 at once; any other waits for
    the instructor (``points`` None) until a score is given in formgrader."""
    name: str                 # the answer cell's grade_id
    max_points: float
    answered: bool = False
    points: float | None = None
    #: where the answer was written when not in its answer cell ("" when it is there), for a note
    elsewhere: str = ""

    @property
    def pending(self) -> bool:
        return self.points is None

    def describe(self) -> str:
        """Where this answer stands, in words (grades.csv's ``hand`` column, the feedback)."""
        if self.points is not None:
            how = "not answered" if not self.answered else "graded by the instructor"
            return f"{self.name} {self.points:g}/{self.max_points:g} ({how})"
        return f"{self.name} to grade by hand ({self.max_points:g} points)"


@dataclass
class GradeResult:
    assignment: str
    student: str = ""
    notebook: str = ""
    score: float = 0.0
    max_score: float = 0.0
    status: str = "graded"    # graded | review (graded; tampering primitives found: the instructor
                              # confirms the score) | error (could not be graded at all)
    error: str = ""
    tests: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # tampering and other remarks
    run_error: str = ""       # why execution stopped early, if it did
    seconds: float = 0.0
    #: what the grader's scan found (``scan.ReviewItem.to_dict()``: cell, grade_id, line,
    #: primitive, why); non-empty makes a graded result's status ``review``
    review: list = field(default_factory=list)
    #: the release the submission was made from: "current", "earlier <id>" or "unknown"
    #: (``merge.release_status``); "" when the notebook could not be read
    release: str = ""
    #: the answers graded by hand (``HandGraded``); their points are part of ``max_score``, and
    #: of ``score`` once given
    hand: list = field(default_factory=list)

    def mark_review(self, items: list) -> None:
        """Record the tamper scan's ``items``; any item turns a ``graded`` result into
        ``review`` (the score kept for the instructor to confirm); an ``error`` stays one."""
        self.review = [dict(item) for item in items]
        if self.review and self.status == "graded":
            self.status = "review"

    def apply_manual(self, scores: dict) -> None:
        """Scores the instructor gave by hand in formgrader ({grade_id: score}, from the
        gradebook) replace the grader's for those tests, with a note for each, and are the points
        of the answers graded by hand: the same score in grades.csv, the feedback, report.json
        and the gradebook."""
        if self.status == "error":
            return
        for test in self.tests:
            if test.name in scores:
                test.auto_points, test.points = test.points, float(scores[test.name])
                self.notes.append(f"{test.name}: {test.points:g} / {test.max_points:g} points given by the "
                                  f"instructor (the grader gave {test.auto_points:g})")
        for answer in self.hand:
            if answer.name in scores:
                answer.points = float(scores[answer.name])
        self.rescore()

    def rescore(self) -> None:
        """``score``: the tests' points and those given to the answers graded by hand."""
        self.score = round(sum(t.points for t in self.tests)
                           + sum(a.points or 0.0 for a in self.hand), 4)

    @property
    def hand_pending(self) -> float:
        """Points of answers that wait for the instructor's grade."""
        return sum(a.max_points for a in self.hand if a.pending)

    @property
    def auto_max(self) -> float:
        """The points the autograder gives (``max_score`` without the answers graded by hand)."""
        return round(self.max_score - sum(a.max_points for a in self.hand), 4)

    @property
    def auto_score(self) -> float:
        """The grader's score, before any score given by hand."""
        return round(sum(t.points if t.auto_points is None else t.auto_points for t in self.tests), 4)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GradeResult":
        data = dict(data)
        data["tests"] = [TestResult(**t) for t in data.get("tests", [])]
        data["hand"] = [HandGraded(**a) for a in data.get("hand", [])]
        return cls(**data)


def all_failed(assignment, message: str) -> list:
    """Every test of ``assignment`` (an Assignment) at zero points, not run, with ``message``."""
    return [TestResult(name=gid, points=0.0, max_points=pts, passed=False,
                       message=message, status="not_run")
            for gid, pts in ((grade_id(c), points(c)) for c in assignment.test_cells)]


def hand_results(assignment, notebook=None, release=None) -> list:
    """A ``HandGraded`` for each answer of ``assignment`` graded by hand, read from the merged
    ``notebook`` (None: the submission could not be read). As nbgrader's autograde does, an
    answer that is missing, empty or as in the ``release`` notebook gets 0 at once; any other
    waits for the instructor."""
    cells = {grade_id(c): c for c in (notebook.cells if notebook is not None else []) if grade_id(c)}
    released = {grade_id(c): c for c in (release.cells if release is not None else []) if grade_id(c)}
    found = []
    for gid, pts in assignment.hand_points.items():
        text = normalized(str(cells[gid].get("source", ""))) if gid in cells else ""
        stub = normalized(str(released[gid].get("source", ""))) if gid in released else None
        answered = bool(text) and text != stub and text.strip("*_ ").upper() != "YOUR ANSWER HERE"
        elsewhere = ""
        if not answered and gid in cells and release is not None:
            elsewhere = _answered_beside(notebook.cells, notebook.cells.index(cells[gid]), release)
        found.append(HandGraded(name=gid, max_points=pts, answered=answered or bool(elsewhere),
                                points=None if answered or elsewhere else 0.0, elsewhere=elsewhere))
    return found


def _answered_beside(cells: list, index: int, release) -> str:
    """Where a student wrote the answer of the answer cell ``cells[index]``, left as released,
    when it is in the markdown cells right around it instead: the question cell above it with
    text added (answers typed under each question), or a new cell below it. "" when those cells
    are as released (or there are none)."""
    released = {normalized(str(c.get("source", ""))) for c in release.cells}

    def written(cell) -> bool:
        text = normalized(str(cell.get("source", "")))
        return cell.get("cell_type") in ("markdown", "raw") and not grade_id(cell) \
            and bool(text) and text not in released

    def first_written(indices):
        """The first of ``indices`` (the text cells next to the answer cell) with a written answer."""
        for i in indices:
            if cells[i].get("cell_type") not in ("markdown", "raw") or grade_id(cells[i]):
                return None
            if written(cells[i]):
                return i
        return None

    above, below = first_written(range(index - 1, -1, -1)), first_written(range(index + 1, len(cells)))
    places = [] if above is None else ["the question's cell above it" if above == index - 1 else "a cell above it"]
    return " and ".join(places + ([] if below is None else ["a cell below it"]))
