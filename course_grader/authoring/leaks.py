"""The one list of strings that must never reach a student: solution and hidden-test markers,
the grader's package name and the call hidden tests make. Releases (``release.check_no_leaks``),
the published student repository (``publish.check_tree``) and the tests all check against it."""
from __future__ import annotations

LEAK_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                "course_grader", "record(")


def leaked_marker(text: str) -> str | None:
    """The first of ``LEAK_MARKERS`` that ``text`` contains, or None."""
    return next((m for m in LEAK_MARKERS if m in text), None)
