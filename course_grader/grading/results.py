"""What grading produces: a TestResult per test cell, a GradeResult per submission."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..notebook import grade_id, points


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

    def mark_review(self, items: list) -> None:
        """Record the tamper scan's ``items``; any item turns a ``graded`` result into
        ``review`` (the score kept for the instructor to confirm); an ``error`` stays one."""
        self.review = [dict(item) for item in items]
        if self.review and self.status == "graded":
            self.status = "review"

    def apply_manual(self, scores: dict) -> None:
        """Scores the instructor gave by hand in formgrader ({test grade_id: score}, from the
        gradebook) replace the grader's for those tests, with a note for each: the same score in
        grades.csv, the feedback, report.json and the gradebook."""
        for test in self.tests:
            if test.name in scores and self.status != "error":
                test.auto_points, test.points = test.points, float(scores[test.name])
                self.notes.append(f"{test.name}: {test.points:g} / {test.max_points:g} points given by the "
                                  f"instructor (the grader gave {test.auto_points:g})")
        self.score = round(sum(t.points for t in self.tests), 4)

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
        return cls(**data)


def all_failed(assignment, message: str) -> list:
    """Every test of ``assignment`` (an Assignment) at zero points, not run, with ``message``."""
    return [TestResult(name=gid, points=0.0, max_points=pts, passed=False,
                       message=message, status="not_run")
            for gid, pts in ((grade_id(c), points(c)) for c in assignment.test_cells)]
