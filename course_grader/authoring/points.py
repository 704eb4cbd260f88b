"""Points stated once (issue 17.2): what a notebook's markdown says a part, a test or the whole
assignment is worth must equal the points in the test cells' nbgrader metadata.

Three forms are read, the ones this course's notebooks use:

- the total, in the first markdown cells: ``**Grading** (18 points``, ``**Grading.** 29 points``,
  ``**Grading (25 points).**``;
- a heading that ends in points, ``## Part 2: zero padding (3 points)``, ``### 4a. ... (2 + 1
  points)``: the sum of the numbers in the brackets against the graded cells (test cells and
  answers graded by hand, such as a reflection) between the heading and the next heading of the
  same or a higher level;
- a test named in backticks, ``- `test_pad2d` (2 points)``, ``- `test_a` / `test_b` (1 point
  each)`` (without "each", the named tests together).

``course release`` refuses a notebook where one of them disagrees, naming the cell and the fix.
Other sentences that mention points are not read: keep numbers in those forms.
"""
from __future__ import annotations

import re

_TOTAL = re.compile(r"\*\*Grading[^0-9\n]{0,12}?(\d+) points")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\(([0-9+, and]+) points?\)\s*$")
_HEADING_ANY = re.compile(r"^(#{1,6})\s+")
_NAMED = re.compile(r"((?:`test_\w+`(?:\s*(?:/|,|and)\s*)?)+)\s*\((\d+) points?( each)?\)")


def _points(cell) -> float:
    return float(cell.metadata.get("nbgrader", {}).get("points", 0) or 0)


def _is_test(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _is_graded(cell) -> bool:
    """A test cell or an answer graded by hand (a reflection): its points count."""
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))


def _fmt(value: float) -> str:
    return f"{value:g}"


def stated_points_problems(nb, where: str) -> list[str]:
    """Every place in ``nb``'s markdown whose points differ from the metadata, as messages that
    name ``where``, the cell and the number to write."""
    tests = {c.metadata["nbgrader"]["grade_id"]: _points(c) for c in nb.cells if _is_test(c)}
    total = sum(_points(c) for c in nb.cells if _is_graded(c))
    problems = []
    # headings with their level and position, in order: (cell index, line, level, stated or None)
    headings = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = _HEADING_ANY.match(line)
            if match:
                stated = _HEADING.match(line)
                numbers = [int(n) for n in re.findall(r"\d+", stated.group(3))] if stated else None
                headings.append((i, line.strip(), len(match.group(1)), numbers))
        for match in _TOTAL.finditer(cell.source):
            if float(match.group(1)) != total:
                problems.append(f"{where}, markdown cell {i}: says the assignment is worth {match.group(1)} "
                                f"points, its graded cells give {_fmt(total)}: write {_fmt(total)}")
        for match in _NAMED.finditer(cell.source):
            names = re.findall(r"`(test_\w+)`", match.group(1))
            stated, each = float(match.group(2)), bool(match.group(3))
            unknown = [n for n in names if n not in tests]
            if unknown:
                problems.append(f"{where}, markdown cell {i}: names {', '.join(unknown)}, which is not a "
                                "test cell's grade_id")
                continue
            actual = [tests[n] for n in names]
            if each and any(a != stated for a in actual):
                problems.append(f"{where}, markdown cell {i}: says {' / '.join(names)} are worth {match.group(2)} "
                                f"points each, the metadata gives {', '.join(_fmt(a) for a in actual)}")
            elif not each and sum(actual) != stated:
                problems.append(f"{where}, markdown cell {i}: says {' / '.join(names)} "
                                f"{'is' if len(names) == 1 else 'are'} worth {match.group(2)} point"
                                f"{'' if stated == 1 else 's'}, the metadata gives {_fmt(sum(actual))}: "
                                f"write {_fmt(sum(actual))}")
    for k, (i, line, level, numbers) in enumerate(headings):
        if numbers is None:
            continue
        end = next((j for j, _, lv, _ in headings[k + 1:] if lv <= level), len(nb.cells))
        section = sum(_points(c) for c in nb.cells[i + 1:end] if _is_graded(c))
        if float(sum(numbers)) != section:
            problems.append(f"{where}, markdown cell {i}: the heading {line!r} states {sum(numbers)} points, "
                            f"the graded cells under it give {_fmt(section)}: write {_fmt(section)}")
    return problems
