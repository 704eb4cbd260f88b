"""What grading hands back: feedback pages, JSON reports, grades.csv, Gradescope results.

Feedback shows the student's own cells with their outputs, and for every test its name, points
and message; test cells show only their visible part, and error tracebacks from test cells are
cut to their last line, so no hidden test code reaches a student.
"""
from __future__ import annotations

import copy
import csv
import functools
import html
import io
import json
import os
import re
from pathlib import Path

import nbformat

from ..fsutil import atomic_write
from . import intake
from .results import GradeResult
from .verdicts import INSTRUCTOR_OUTPUT
from ..notebook import grade_id, is_test, visible_part

CSV_FIELDS = ["student", "assignment", "score", "max_score", "status", "message", "review", "release",
              "auto_score", "manual", "hand"]


def review_line(item: dict) -> str:
    """One review item in words: where, and why."""
    where = f"cell {item.get('cell')}" + (f" ({item['grade_id']})" if item.get("grade_id") else "")
    return f"{where}, line {item.get('line')}: {item.get('primitive')}: {item.get('why')}"


def _csv_safe(value) -> str:
    """A CSV field that a spreadsheet will not run as a formula (=, +, -, @, tab, CR first)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def without_hidden(nb, keep_verdicts: bool = False) -> nbformat.NotebookNode:
    """A copy of the executed notebook with nothing of the hidden tests in it, whatever the
    student's code printed: each test cell shows its visible part (a comment where the hidden
    tests ran) and, of its outputs, only the error line (and, with ``keep_verdicts``, the
    grader's verdict output: ``verdicts.INSTRUCTOR_OUTPUT``); outputs of the student's cells that
    ran after a hidden test are replaced by a note. This is what autograded/ holds, so nbgrader's
    own tools (formgrader, generate_feedback) never show hidden-test code either."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop(FIGURES_KEY, None)
    hidden_ran = False
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and not is_test(cell) and hidden_ran and cell.get("outputs"):
            # once a hidden test has run, the kernel holds its code (In[], frames, linecache):
            # what a later cell of the student's shows could be that code
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=HIDDEN_AFTER)]
        if is_test(cell) and "BEGIN HIDDEN TESTS" in str(cell.get("source", "")):
            hidden_ran = True
        if is_test(cell):
            cell.source = visible_part(cell.source).rstrip() + "\n# (hidden tests ran here)"
            # Only the error line stays: anything else a test cell printed may come from the
            # student's code reading the hidden test's source (frames, In[]) while it ran.
            cell.outputs = [_short_error(o) if o.get("output_type") == "error" else o
                            for o in cell.get("outputs", [])
                            if o.get("output_type") == "error"
                            or (keep_verdicts and o.get("metadata", {}).get(INSTRUCTOR_OUTPUT))]
    return nb


def feedback_notebook(nb, result: GradeResult, course_title: str = "") -> nbformat.NotebookNode:
    """A copy of the executed notebook that is safe to show the student."""
    nb = without_hidden(nb)
    by_name = {t.name: t for t in result.tests}
    hand = {a.name: a for a in result.hand}
    cells = [nbformat.v4.new_markdown_cell(summary_markdown(result, course_title))]
    for cell in nb.cells:
        if grade_id(cell) in hand:
            cells += [cell, nbformat.v4.new_markdown_cell(f"**{_md_escape(hand_line(hand[grade_id(cell)]))}**")]
            continue
        if is_test(cell) and grade_id(cell):
            test = by_name.get(grade_id(cell))
            cells.append(cell)
            if test is not None:
                mark = "passed" if test.passed else "failed"
                text = f"**{test.name}: {mark}, {test.points:g} / {test.max_points:g} points**"
                if test.message:
                    text += f"\n\n{_md_escape(test.message)}"
                cells.append(nbformat.v4.new_markdown_cell(text))
        else:
            cells.append(cell)
    nb.cells = cells
    return nb


#: What the feedback shows instead of the outputs of a student's cell that ran after a hidden test.
HIDDEN_AFTER = ("[outputs not shown in feedback: this cell ran after hidden tests, whose code it "
                "could print; run the notebook yourself to see them]\n")


def _short_error(output):
    output = copy.deepcopy(output)
    evalue = str(output.get("evalue", ""))
    if len(evalue) > 300:
        evalue = evalue[:300] + " [...]"
    output["evalue"] = evalue
    output["traceback"] = [f"{output.get('ename', 'Error')}: {evalue}"]
    return output


def _md_escape(text: str) -> str:
    return html.escape(text).replace("*", r"\*").replace("_", r"\_")


def summary_markdown(result: GradeResult, course_title: str = "") -> str:
    lines = [f"# Feedback: {_md_escape(result.assignment)}", ""]
    if course_title:
        lines[1:1] = ["", f"*{_md_escape(course_title)}*"]
    if result.student:
        lines.append(f"Student: **{_md_escape(result.student)}**  ")
    lines.append(f"Score: **{result.score:g} / {result.max_score:g}**")
    lines.append("")
    if result.error:
        lines += [f"This notebook could not be graded: {_md_escape(result.error)}", ""]
    if result.run_error:
        lines += [f"Running stopped early: {_md_escape(result.run_error)}", ""]
    for note in result.notes:
        lines.append(f"- Note: {_md_escape(note)}")
    if result.notes:
        lines.append("")
    if result.review:
        lines += ["**Marked for review.** The grader found code that can change how grading works "
                  "(listed below); your instructor will look at it and confirm the score.", ""]
        lines += [f"- {_md_escape(review_line(item))}" for item in result.review[:50]]
        lines.append("")
    lines += ["| test | points | result |", "|---|---|---|"]
    for t in result.tests:
        outcome = "passed" if t.passed else _md_escape(t.message or "failed").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {t.name} | {t.points:g} / {t.max_points:g} | {outcome} |")
    for a in result.hand:
        got = "-" if a.pending else f"{a.points:g}"
        lines.append(f"| {_md_escape(a.name)} | {got} / {a.max_points:g} | {_md_escape(hand_line(a))} |")
    return "\n".join(lines)


def hand_line(answer) -> str:
    """An answer graded by hand, in words for the student."""
    if answer.pending:
        return (f"{answer.name}: graded by hand by your instructor ({answer.max_points:g} points); "
                "not graded yet")
    if not answer.answered:
        return f"{answer.name}: not answered, 0 / {answer.max_points:g} points"
    return f"{answer.name}: {answer.points:g} / {answer.max_points:g} points, graded by your instructor"


_exporters: dict = {}

#: HTML made only of the tags and escaped text that pygments' highlighting writes (``<div>``,
#: ``<pre>``, ``<span>`` with a class, entities; no other ``<``, ``>`` or ``&``): nothing in it
#: can be markup of the cell's own, so sanitising it again changes nothing
_HIGHLIGHTED = re.compile(r'(?:<(?:div|pre|span)(?: class="[\w -]*")?>|</(?:div|pre|span)>'
                          r'|[^<>&]|&(?:amp|lt|gt|quot|#39|#x27);)*')


#: What a feedback page keeps of the HTML in markdown cells and outputs (rendered markdown:
#: headings, paragraphs, lists, tables, links, images; pandas' tables): everything else is shown
#: as escaped text, event handlers and styles are dropped, links are http(s), mailto or in-page,
#: images only data:image URIs (nothing is fetched when the page opens)
SAFE_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul"})


def _safe_attribute(tag: str, name: str, value: str) -> bool:
    if name in ("class", "id", "title"):
        return True
    if tag == "a" and name == "href":
        return not value.strip().lower().startswith("data:")
    if tag == "img":
        return name in ("alt", "width", "height") or (name == "src" and value.strip().startswith("data:image/"))
    return tag in ("td", "th") and name in ("colspan", "rowspan")


def clean_html(element) -> str:
    """The ``clean_html`` filter of feedback pages: bleach with ``SAFE_TAGS`` (nbconvert's own
    escapes headings, paragraphs and table heads as text), except for HTML that ``_HIGHLIGHTED``
    matches whole: the highlighted code cells, which bleach parsed at about 30 ms each (half of a
    feedback page's export) and would leave as they are."""
    text = element.decode() if isinstance(element, bytes) else str(element)
    return _clean_text(text)


#: What the feedback pages of a batch share is rendered once per grading process: the release's
#: markdown and code cells are the same in every submission. The LRU caches below are keyed by the
#: exact text (a student's changed cell is rendered anew; texts over CACHED_TEXT characters are
#: not kept): about 80% of a page's export, after the first page.
CACHED_PAGES_ENTRIES, CACHED_TEXT = 2048, 20_000      # at most about 40 MB a cache


def _kept(function):
    """``function`` (of hashable arguments, the first a text) with an LRU cache for short texts."""
    cached = functools.lru_cache(maxsize=CACHED_PAGES_ENTRIES)(function)

    @functools.wraps(function)
    def call(text, *rest):
        return cached(text, *rest) if len(text) <= CACHED_TEXT else function(text, *rest)
    call.cache_info = cached.cache_info
    return call


@_kept
def _clean_text(text: str) -> str:
    return text if _HIGHLIGHTED.fullmatch(text) else sanitise(text)


def sanitise(text: str) -> str:
    """``text`` (HTML) with only ``SAFE_TAGS`` and their safe attributes left as markup."""
    import bleach
    return bleach.clean(text, tags=SAFE_TAGS, attributes=_safe_attribute,
                        protocols={"http", "https", "mailto", "data"})


#: an <img> tag without alt text (nbconvert's templates write none for image outputs)
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")


def _feedback_exporter():
    """The HTML exporter of feedback pages, one per grading process (building one reads its
    templates): nbconvert's ``HTMLExporter`` with the classic template, ``sanitize_html`` (nbconvert
    leaves markdown cells and HTML/markdown outputs as they are by default, so a student's
    ``<img onerror=...>`` would run in whoever opens the page) and ``clean_html``, without the
    BeautifulSoup pass its ``from_notebook_node`` ends with (alt text for images, ``tabindex``
    for the lab template's cells: 60% of a page's export). ``feedback_html`` adds the alt text.
    Markdown, highlighted code and sanitised HTML are kept by their text (``_kept``)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    from jinja2 import pass_context

    class FeedbackExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            if context.get("cell", {}).get("attachments"):    # the cell's own images: each time
                return HTMLExporter.markdown2html(self, context, source)
            return markdown(source, context.get("resources", {}).get("metadata", {}).get("path", ""))

        def from_notebook_node(self, nb, resources=None, **kw):
            # HTMLExporter.from_notebook_node's filters, then the template alone
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            cached = self.__dict__.setdefault("_highlighted", {})
            if lexer not in cached:
                highlight = Highlight2HTML(pygments_lexer=lexer, parent=self)
                cached[lexer] = _kept(lambda source, language, magics: highlight(
                    source, language, {"magics_language": magics} if magics else None))
            highlighted = cached[lexer]

            def highlight_code(source, language=None, metadata=None):
                magics = metadata.get("magics_language") if isinstance(metadata, dict) else None
                return highlighted(str(source), language, magics)

            self.register_filter("highlight_code", highlight_code)
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    exporter = FeedbackExporter(template_name="classic", sanitize_html=True)
    markdown = _kept(lambda source, path: HTMLExporter.markdown2html(
        exporter, {"resources": {"metadata": {"path": path}}}, source))
    exporter.register_filter("clean_html", clean_html)
    return exporter


def feedback_html(nb, result: GradeResult, course_title: str = "") -> str:
    if nb is None:
        nb = nbformat.v4.new_notebook()
    exporter = _exporters.get(os.getpid())
    if exporter is None:
        exporter = _exporters[os.getpid()] = _feedback_exporter()
    body, _ = exporter.from_notebook_node(feedback_notebook(nb, result, course_title))
    return _IMG_WITHOUT_ALT.sub('<img alt="a figure of the notebook"', body)


def write_outputs(out: Path, result: GradeResult, executed_nb, course_title: str = "") -> dict:
    """Write autograded/, feedback/ and the JSON report for one submission; return the paths.
    course_title: shown at the top of the feedback page (``c.Course.course_title``)."""
    student = result.student or "submission"
    name = Path(result.notebook).name or f"{result.assignment}.ipynb"
    paths = {}
    auto_dir = out / "autograded" / student / result.assignment
    feedback_dir = out / "feedback" / student / result.assignment
    feedback_dir.mkdir(parents=True, exist_ok=True)
    if executed_nb is not None:
        auto_dir.mkdir(parents=True, exist_ok=True)
        paths["autograded"] = auto_dir / name
        nbformat.write(without_hidden(executed_nb, keep_verdicts=True), paths["autograded"])
        paths["figures"] = auto_dir / FIGURES_PAGE
        paths["figures"].write_text(figures_page(executed_nb.metadata.get(FIGURES_KEY) or [], result),
                                    encoding="utf-8")
    paths["feedback"] = feedback_dir / (Path(name).stem + ".html")
    paths["feedback"].write_text(feedback_html(executed_nb, result, course_title), encoding="utf-8")
    paths["report"] = feedback_dir / "report.json"
    paths["report"].write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    # what nbgrader's collect put beside the notebook, where its release_feedback looks for it
    for extra in EXCHANGE_FILES:
        data = intake.beside(result.notebook, extra)
        for folder in ((auto_dir,) if executed_nb is not None else ()) + (feedback_dir,):
            if data is not None:
                (folder / extra).write_bytes(data)
    return paths


#: the instructor's page of a submission's figures, beside its autograded notebook; and the key
#: under which grading hands the figures over with the executed notebook (in memory only)
FIGURES_PAGE, FIGURES_KEY = "figures.html", "course_grader_figures"
_BASE64 = re.compile(r"[A-Za-z0-9+/=]+")


def figures_page(figures: list, result: GradeResult) -> str:
    """An HTML page of the figures a notebook's code left open when it was graded
    (``RunResult.figures``: base64 PNGs), for the instructor only
    (``autograded/<student>/<assignment>/figures.html``): never in the feedback or the autograded
    notebook, which nbgrader's generate_feedback would show the student (a figure could picture a
    hidden test's code)."""
    images = [f"<figure><img src=\"data:image/png;base64,{png}\"><figcaption>figure {i}</figcaption></figure>"
              for i, png in enumerate((p for p in figures if isinstance(p, str) and _BASE64.fullmatch(p)), 1)]
    head = (f"<h1>Figures: {html.escape(result.student or 'submission')}, {html.escape(result.assignment)}</h1>"
            "<p>The figures the notebook's code drew, as it was graded (for the instructor; not in the "
            "student's feedback).</p>")
    return (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>figures</title></head><body>{head}"
            f"{''.join(images) or '<p>No figures were drawn.</p>'}</body></html>\n")


#: files of nbgrader's exchange that travel from submitted/ to autograded/ and feedback/
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")


def csv_row(result: GradeResult) -> dict:
    message = result.error or result.run_error or "; ".join(result.notes)
    review = ""
    if result.review:
        review = f"{len(result.review)} item(s): " + "; ".join(review_line(i) for i in result.review[:5])
        review = review[:500]
    row = {"student": result.student, "assignment": result.assignment, "score": f"{result.score:g}",
           "max_score": f"{result.max_score:g}", "status": result.status, "message": message[:2000],
           "review": review, "release": result.release,
           "auto_score": f"{result.auto_score:g}" if result.tests else "",
           "manual": "; ".join(f"{t.name} {t.points:g}/{t.max_points:g} (auto {t.auto_points:g})"
                               for t in result.tests if t.auto_points is not None),
           "hand": "; ".join(a.describe() for a in result.hand)}
    return {key: _csv_safe(value) for key, value in row.items()}


def write_csv(path: Path, rows: list) -> None:
    rows = sorted(rows, key=lambda r: (r["student"], r["assignment"]))
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write(path, buffer.getvalue())


def read_csv(path: Path) -> list:
    with Path(path).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def gradescope_results(result: GradeResult) -> dict:
    """Gradescope's autograder ``results.json`` for one submission."""
    tests = [{"name": t.name, "score": t.points, "max_score": t.max_points,
              "status": "passed" if t.passed else "failed",
              "output": t.message or "passed", "visibility": "visible"} for t in result.tests]
    review = (["Marked for review (the instructor confirms the score): "
               + "; ".join(review_line(i) for i in result.review[:20])] if result.review else [])
    # answers graded by hand are not the autograder's: on Gradescope they are manual questions
    hand = ([f"not in this score, graded by hand: {', '.join(f'{a.name} ({a.max_points:g} points)' for a in result.hand)}"]
            if result.hand else [])
    output = "; ".join(filter(None, [result.error, result.run_error, *result.notes, *review, *hand]))
    return {"score": round(result.score - sum(a.points or 0.0 for a in result.hand), 4),
            "output": output or f"{result.assignment}: graded", "tests": tests}


def table(rows: list) -> str:
    """A plain-text grade table."""
    header = ["student", "assignment", "score", "status", "graded by hand"]
    body = [[r["student"], r["assignment"], f'{r["score"]} / {r["max_score"]}', r["status"], r.get("hand", "")]
            for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    lines = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*row) for row in body]
    return "\n".join(lines)
