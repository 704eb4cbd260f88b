"""The ``course`` command: release, grade, check, merge, demo, publish (instructor side).

    course release [ASSIGNMENT ...]
    course grade SUBMITTED_DIR [--out DIR] [--jobs N] [--shard K/N]
    course check NOTEBOOK [--assignment NAME] [--json] [--gradescope FILE]
    course merge GRADES_CSV ... --out FILE
    course merge-gradebooks GRADEBOOK_DB ... --out FILE
    course demo [ASSIGNMENT ...] [--out DIR] [--jobs N]
    course publish [OUT_DIR] [--no-check]
    course gradescope ASSIGNMENT OUT.zip [--hidden-visibility WHEN]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from .config import CourseError, load_settings, placeholder_warning
from .execution import zygote

EXIT_USAGE = 2
EXIT_CANNOT_GRADE = 3
EXIT_BROKEN_PIPE = 128 + 13      # the shell's status for a command that SIGPIPE ended


def _settings():
    """The course settings of the course found from the current folder (or $COURSE_ROOT)."""
    return load_settings(None)


def cmd_release(args) -> int:
    from .authoring.release import release

    settings = _settings()
    _warn_placeholder(settings)
    release(settings, args.assignments or None)
    return 0


def cmd_new(args) -> int:
    from .authoring.scaffold import new_assignment

    settings = _settings()
    written = new_assignment(settings, args.name, title=args.title)
    for path in written:
        print(f"wrote {path.relative_to(settings.root)}")
    print(f"""next:
  1. write your assignment in source/{args.name}/{args.name}.ipynb (docs/authoring.md: the notebook's
     shape, metadata, hidden tests that record); keep the points in the text equal to the metadata;
  2. course release {args.name}        (the student version; refuses points or metadata that disagree)
  3. course check source/{args.name}/{args.name}.ipynb   (full marks)  and
     course check release/{args.name}/{args.name}.ipynb  (0: the untouched stubs)
  4. replace the variants in tests/variants/{args.name}.py with real students' mistakes, and add a row
     for {args.name} to the README's assignment table; then `make test`.""")
    return 0


def _warn_placeholder(settings) -> None:
    warning = placeholder_warning(settings)
    if warning:
        print(warning, file=sys.stderr)


def cmd_grade(args) -> int:
    from .grading import report
    from .grading.batch import grade_folder

    settings = _settings()
    out = Path(args.out) if args.out else settings.root
    results = grade_folder(settings, Path(args.submitted), out, jobs=args.jobs, shard_spec=args.shard,
                           progress=not args.quiet)
    rows = [report.csv_row(r) for r in results]
    print(report.table(rows))
    print(f"\n{len(results)} submission(s) graded; grades: {out / 'grades.csv'}; "
          f"feedback: {out / 'feedback'}")
    print(zygote.describe(settings))
    note = formgrader_note(settings, Path(args.submitted), out)
    if note:
        print(note, file=sys.stderr)
    return 0


def formgrader_note(settings, submitted: Path, out: Path) -> str:
    """A note when nbgrader's formgrader will not count these submissions: it reads the
    gradebook in the course root but counts the folders of the course's own submitted/."""
    if out.resolve() != settings.root.resolve() or submitted.resolve() == (settings.root / "submitted").resolve():
        return ""
    return (f"note: the grades are in {out / 'gradebook.db'}, but nbgrader's formgrader counts submissions "
            f"by the folders of {settings.root / 'submitted'}, so it will list these as 0 submissions: "
            "grade that folder (copy the submissions into it) for formgrader's counts")


def infer_assignment(settings, notebook: Path, given: str | None) -> str:
    known = settings.assignments()
    if given:
        if given not in known:
            raise CourseError(f"unknown assignment {given!r}; known: {', '.join(known) or 'none'}")
        return given
    for guess in (notebook.stem, notebook.parent.name):
        if guess in known:
            return guess
    # a notebook renamed by Colab or a download ("Copy of pooling (1).ipynb"): the assignment its
    # release metadata names, else the one known name in its file name
    named = _release_assignment(notebook)
    if named in known:
        return named
    inside = [a for a in known if a in notebook.stem]
    if len(inside) == 1:
        return inside[0]
    raise CourseError(f"cannot tell which assignment {notebook.name} is: pass --assignment "
                      f"(one of {', '.join(known) or 'none'})")


def _release_assignment(notebook: Path) -> str:
    """The assignment a notebook's release metadata names (``course_release.assignment``), or ""
    (unreadable, not a notebook, no such metadata: grading then says what is wrong)."""
    import json

    from .grading.intake import MAX_NOTEBOOK_BYTES
    from .notebook import RELEASE_KEY
    try:
        if notebook.stat().st_size > MAX_NOTEBOOK_BYTES:     # grading refuses it, and says why
            return ""
        meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {}).get(RELEASE_KEY, {})
        return meta.get("assignment", "") if isinstance(meta, dict) and isinstance(meta.get("assignment"), str) else ""
    except (OSError, ValueError, AttributeError):
        return ""


def cmd_check(args) -> int:
    settings = _settings()
    notebook = Path(args.notebook)
    from .assignment import load
    assignment = load(settings, infer_assignment(settings, notebook, args.assignment))   # read once
    zygote.warm(settings)          # the fork server imports torch while the grader starts
    from .grading import report
    from .grading.grade import grade_notebook

    if not notebook.is_file():
        raise CourseError(f"{notebook}: no such notebook file")
    result, _ = grade_notebook(settings, assignment, notebook, figures=False)   # no figures page here
    data = result.to_dict()
    if args.gradescope:
        Path(args.gradescope).write_text(json.dumps(report.gradescope_results(result), indent=2) + "\n")
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for test in result.tests:
            mark = "PASS" if test.passed else "FAIL"
            line = f"{mark} {test.name:<32} {test.points:g}/{test.max_points:g}"
            print(line + (f"  {test.message}" if test.message else ""))
        for note in result.notes:
            print(f"note: {note}")
        for item in result.review:
            print(f"review: {report.review_line(item)}")
        if result.run_error:
            print(f"stopped: {result.run_error}")
        for answer in result.hand:
            print(f"HAND {report.hand_line(answer)}")
        pending = (f" ({result.hand_pending:g} of them graded by hand, not yet graded)"
                   if result.hand_pending else "")
        print(f"{assignment.id}: {result.score:g} / {result.max_score:g}{pending}")
    if result.status not in ("graded", "review"):
        print(f"error: {result.error}", file=sys.stderr)
        return EXIT_CANNOT_GRADE
    return 0


def cmd_merge(args) -> int:
    from .grading import report
    from .grading.batch import merge_csvs

    rows = merge_csvs([Path(p) for p in args.csv], Path(args.out))
    print(report.table(rows))
    print(f"\n{len(rows)} row(s) merged into {args.out}")
    return 0


def cmd_merge_gradebooks(args) -> int:
    from .grading.merge_gradebooks import merge_gradebooks

    count = merge_gradebooks([Path(p) for p in args.gradebooks], Path(args.out))
    print(f"{count} submission(s) from {len(args.gradebooks)} gradebook(s) merged into {args.out}")
    return 0


def cmd_demo(args) -> int:
    from .grading import report
    from .grading.batch import grade_folder
    from .authoring.examples import write_examples
    from .authoring.release import release

    settings = _settings()
    names = args.assignments or settings.assignments()
    print(f"1/3 regenerating release/ for {', '.join(names)}")
    release(settings, names)
    out = Path(args.out).resolve() if args.out else settings.root / "demo_output"
    submitted = out / "submitted"
    if submitted.exists():
        shutil.rmtree(submitted)
    print(f"2/3 writing example submissions (reference, untouched, partial) to {submitted}")
    for assignment in names:
        write_examples(settings, assignment, submitted)
    print("3/3 grading them (reference results of each assignment are computed once and cached)")
    results = grade_folder(settings, submitted, out, jobs=args.jobs, progress=not args.quiet)
    print()
    print(report.table([report.csv_row(r) for r in results]))
    print(f"\ngrades: {out / 'grades.csv'}\nfeedback: {out / 'feedback'}/<student>/<assignment>/")
    print(zygote.describe(settings))
    return 0


def cmd_publish(args) -> int:
    from .authoring.publish import publish

    settings = _settings()
    out = Path(args.out_dir) if args.out_dir else settings.root / "published"
    _warn_placeholder(settings)
    publish(settings, out, regenerate=not args.no_check)
    return 0


def cmd_gradescope(args) -> int:
    from .grading.gradescope import build_zip

    settings = _settings()
    out = build_zip(settings, args.assignment, Path(args.out_zip), args.hidden_visibility)
    print(f"{out}: Gradescope autograder for {args.assignment} (upload it on the assignment's "
          "\"Configure Autograder\" page; it holds the solutions and hidden tests: keep it private)")
    return 0


def _positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1 (a usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {value}")
    return value


def _shard_spec(text: str) -> str:
    """argparse type: K/N with 1 <= K <= N."""
    from .grading.batch import shard
    try:
        shard([], text)
    except CourseError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("new", help="start a new assignment: source/NAME/NAME.ipynb and tests/variants/NAME.py")
    p.add_argument("name", metavar="NAME", help="the assignment id (lower case, digits, underscores)")
    p.add_argument("--title", help="the notebook's title (default: from NAME)")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("release", help="regenerate release/ from source/ with nbgrader")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("grade", help="grade SUBMITTED_DIR/<student>/<assignment>/<notebook>.ipynb")
    p.add_argument("submitted", metavar="SUBMITTED_DIR")
    p.add_argument("--out", metavar="DIR", help="where autograded/, feedback/ and grades.csv go "
                                                "(default: the course root)")
    p.add_argument("--jobs", type=_positive_int, default=1, metavar="N", help="submissions graded at once")
    p.add_argument("--shard", type=_shard_spec, metavar="K/N", help="grade only the K-th of N slices")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("check", help="grade one notebook and print the result")
    p.add_argument("notebook", metavar="NOTEBOOK")
    p.add_argument("--assignment", metavar="NAME")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--gradescope", metavar="FILE", help="also write Gradescope's results.json")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("merge", help="combine shard grades.csv files")
    p.add_argument("csv", nargs="+", metavar="GRADES_CSV")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser("merge-gradebooks", help="combine shard gradebook.db files (nbgrader's)")
    p.add_argument("gradebooks", nargs="+", metavar="GRADEBOOK_DB")
    p.add_argument("--out", required=True, metavar="FILE", help="new or existing gradebook.db")
    p.set_defaults(func=cmd_merge_gradebooks)

    p = sub.add_parser("demo", help="release, grade example submissions, print a grade table")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    p.add_argument("--out", metavar="DIR", help="default: demo_output/ in the course root")
    p.add_argument("--jobs", type=int, default=1, metavar="N")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("publish", help="write the student repository: release/, course_utils/, "
                                       "README and packaging, nothing else")
    p.add_argument("out_dir", nargs="?", metavar="OUT_DIR",
                   help="new, empty, or an earlier publish (default: published/ in the course root)")
    p.add_argument("--no-check", action="store_true",
                   help="publish release/ as it is, without regenerating it from source/ to check "
                        "that it is up to date")
    p.set_defaults(func=cmd_publish)

    from .grading.gradescope import VISIBILITIES
    p = sub.add_parser("gradescope", help="write a Gradescope autograder zip that grades ASSIGNMENT "
                                          "with this engine")
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("out_zip", metavar="OUT.zip")
    p.add_argument("--hidden-visibility", default="after_published", choices=VISIBILITIES,
                   help="when Gradescope shows the rows of test cells with hidden tests "
                        "(default: after_published)")
    p.set_defaults(func=cmd_gradescope)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    try:
        return args.func(args)
    except CourseError as e:
        print(f"course {args.command}: {e}", file=sys.stderr)
        return EXIT_CANNOT_GRADE if args.command == "check" else 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # what reads our output stopped early (`course check --json | head`): whatever was to be
        # written to files is written; say nothing more, as a command killed by SIGPIPE would
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
