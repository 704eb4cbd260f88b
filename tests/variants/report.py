"""How many wrong implementations the hidden tests catch, per assignment.

    .venv/bin/python -m tests.variants.report [assignment ...]

grades every variant in ``tests/variants/<assignment>.py`` with the variant harness (one grading
kernel per assignment, see ``harness.py``; a few minutes for all six) and prints a table:
wrong variants, how many of them lose points (caught), the share, correct alternatives, and how
many of those earn full marks, then how many correct alternatives lost points ("right but
zeroed") and how many wrong variants kept full marks ("wrong but paid"). Variants that do not lose
exactly their declared tests are listed below the table. ``pytest tests/test_variants.py`` prints the same table at the end of its run.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time


def outcome(result, variant) -> dict:
    """What the table needs to know about one graded variant (JSON-friendly)."""
    return {"assignment": result.assignment, "variant": variant.name, "correct": variant.correct,
            "lost": sorted(variant.lost), "failed": sorted(result.failed),
            "score": result.score, "max_score": result.max_score}


def summarize(outcomes: list) -> list:
    """One row per assignment: (assignment, wrong, caught, correct, full marks)."""
    rows = {}
    for o in outcomes:
        row = rows.setdefault(o["assignment"], [o["assignment"], 0, 0, 0, 0])
        if o["correct"]:
            row[3] += 1
            row[4] += o["score"] == o["max_score"]
        else:
            row[1] += 1
            row[2] += o["score"] < o["max_score"]
    return [tuple(rows[a]) for a in sorted(rows)]


def format_table(rows: list) -> str:
    header = ("assignment", "wrong variants", "caught", "share", "correct alternatives", "full marks")
    lines = [header]
    totals = [0, 0, 0, 0]
    for assignment, wrong, caught, correct, full in rows:
        lines.append((assignment, str(wrong), str(caught), _share(caught, wrong), str(correct), str(full)))
        totals = [t + n for t, n in zip(totals, (wrong, caught, correct, full))]
    if len(rows) > 1:
        wrong, caught, correct, full = totals
        lines.append(("all", str(wrong), str(caught), _share(caught, wrong), str(correct), str(full)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
            for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    text.append("caught: the wrong variant loses points; full marks: the correct alternative loses none")
    wrong, caught, correct, full = (sum(row[i] for row in rows) for i in (1, 2, 3, 4))
    text.append(f"right but zeroed (a correct alternative that lost points): {correct - full} (goal: none); "
                f"wrong but paid (a wrong variant with full marks): {wrong - caught} (goal: none)")
    return "\n".join(text)


def mismatches(outcomes: list) -> list[str]:
    """Variants that did not lose exactly their declared tests."""
    lines = []
    for o in outcomes:
        if o["failed"] != o["lost"]:
            extra = sorted(set(o["failed"]) - set(o["lost"]))
            kept = sorted(set(o["lost"]) - set(o["failed"]))
            lines.append(f"{o['assignment']}/{o['variant']}: "
                         + "; ".join(([f"also failed {extra}"] if extra else [])
                                     + ([f"did not fail {kept}"] if kept else [])))
    return lines


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def main(argv=None) -> int:
    from course_grader.config import load_settings
    from tests.conftest import ROOT
    from tests.variants.harness import AssignmentHarness, ordered

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignments", nargs="*", help="assignments (default: all)")
    args = parser.parse_args(argv)
    settings = load_settings(ROOT)
    outcomes = []
    for assignment in args.assignments or settings.assignments():
        variants = importlib.import_module(f"tests.variants.{assignment}").VARIANTS
        started = time.monotonic()
        harness = AssignmentHarness(settings, assignment)
        try:
            for variant in ordered(harness.source, variants):
                outcomes.append(outcome(harness.grade(variant), variant))
        finally:
            harness.close()
        print(f"{assignment}: {len(variants)} variants graded in {time.monotonic() - started:.0f} s "
              f"({harness.kernels_started} kernel(s), {harness.kernel_cpu_seconds:.0f} s of kernel CPU time)",
              file=sys.stderr)
    print(format_table(summarize(outcomes)))
    wrong = mismatches(outcomes)
    if wrong:
        print("\nvariants that did not lose exactly their declared tests:")
        print("\n".join(f"  {line}" for line in wrong))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
