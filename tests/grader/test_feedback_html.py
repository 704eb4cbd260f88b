"""The feedback page's HTML: student text never becomes markup, with the fast path that skips
re-sanitising highlighted code (``report.clean_html``)."""
import html
import re
from html.parser import HTMLParser

import nbformat
import pytest
from nbconvert.filters.highlight import Highlight2HTML

from course_grader.grading import report
from course_grader.grading.results import GradeResult

class _Markup(HTMLParser):
    """The tags, attribute names and script texts of an HTML page, as a browser would see them."""

    def __init__(self, page):
        super().__init__()
        self.tags, self.attributes, self.links, self.scripts, self._tag = [], set(), [], [], None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes |= {name for name, _ in attrs}
        self.links += [value or "" for name, value in attrs if name in ("href", "src")]
        self._tag = tag

    def handle_data(self, data):
        if self._tag == "script":
            self.scripts.append(data)


def assert_inert(page):
    """No event handler, no injected script, frame or link target in ``page``."""
    markup = _Markup(page)
    assert not [a for a in markup.attributes if a.startswith("on")], markup.attributes
    assert not [s for s in markup.scripts if "alert(" in s]
    assert "iframe" not in markup.tags
    assert not [link for link in markup.links if link.strip().lower().startswith("javascript:")]


HOSTILE = [
    "</pre><script>alert(1)</script>",
    "x = '<img src=x onerror=alert(1)>'  # &amp; &lt; \"quoted\"",
    "s = \"</div></span><iframe src=javascript:alert(1)>\"",
    "def f():\n    return '&#60;script&#62;'  # é ü ✓ \u202e",
    "%%html\n<script>alert(1)</script>",
    "print('<span class=\"x\" onclick=\"alert(1)\">')",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_highlighted_code_is_kept_as_bleach_would_keep_it(source):
    highlighted = Highlight2HTML(pygments_lexer="ipython3")(source)
    assert report._HIGHLIGHTED.fullmatch(highlighted)        # the fast path is taken ...
    assert report.clean_html(highlighted) == report.sanitise(highlighted)   # ... and changes nothing


@pytest.mark.parametrize("markup", [
    '<span class="x" onclick="alert(1)">a</span>',
    '<div class="highlight"><pre><script>alert(1)</script></pre></div>',
    '<span class="x">a</span><img src=x onerror=alert(1)>',
    '<span class=x>a</span>',
    '<pre>a &unknown; b</pre>',
    '<span class="x"\n>a</span><a href="javascript:alert(1)">b</a>',
])
def test_anything_else_is_sanitised(markup):
    assert not report._HIGHLIGHTED.fullmatch(markup)
    cleaned = report.clean_html(markup)
    assert cleaned == report.sanitise(markup)
    assert_inert(cleaned)


def test_feedback_page_shows_student_text_as_text():
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    code = nbformat.v4.new_code_cell("\n".join(HOSTILE))
    code.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": "<b>bold</b><script>alert(2)</script><img src=x onerror=alert(3)>",
        "text/plain": "<script>alert(4)</script>"})]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title <script>alert(5)</script> <img src=y onerror=alert(6)>"),
                code]
    page = report.feedback_html(nb, GradeResult(assignment="pooling", student="s"))
    assert_inert(page)
    assert "<b>bold</b>" in page                   # allowed markup of an HTML output stays
    text = html.unescape(re.sub(r"<[^>]*>", "", page))
    assert HOSTILE[0] in text and HOSTILE[1] in text          # the code is there, as text


def test_rendered_markdown_keeps_its_structure_and_loses_what_runs_or_fetches():
    from course_grader.grading.report import sanitise
    kept = ('<h2 id="Part-1">Part 1<a class="anchor-link" href="#Part-1">¶</a></h2><p>a <em>b</em> '
            '<code>c</code></p><ul><li>d</li></ul><table><thead><tr><th colspan="2">e</th></tr></thead>'
            '<tbody><tr><td>f</td></tr></tbody></table><a href="https://pytorch.org">g</a>'
            '<img alt="h" src="data:image/png;base64,iVBORw0KGgo="><hr><blockquote>i</blockquote>')
    assert sanitise(kept) == kept
    for bad, gone in [('<img src="https://tracker.example/x.png">', "tracker"),
                      ('<a href="javascript:alert(1)">x</a>', "javascript"),
                      ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:"),
                      ('<p style="position:fixed">x</p>', "style"),
                      ('<form action="https://x.example"><input name="p"></form>', "<form"),
                      ('<svg onload="alert(1)"></svg>', "<svg"),
                      ('<style>body{display:none}</style>', "<style")]:
        assert gone not in sanitise(bad), bad


def test_the_notebooks_markdown_renders_as_markup_not_as_escaped_tags():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Part 1\n\nSome *text* and `code`, $x^2$.\n\n"
                                              "| a | b |\n|---|---|\n| 1 | 2 |\n\n- item\n\n---\n")]
    page = report.feedback_html(nb, GradeResult(assignment="pooling", student="s"))
    assert not re.findall(r"&lt;/?(?:h1|p|em|code|table|thead|tbody|tr|th|td|ul|li|hr|a)\b", page)
    assert "<h1" in page and "<em>text</em>" in page and "<th>a</th>" in page and "$x^2$" in page


def test_image_outputs_have_alt_text():
    """nbconvert's BeautifulSoup pass (skipped: 60% of a page's export) gave image outputs their
    alt text; feedback_html gives it, and keeps a student's own."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plot()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}),
                    nbformat.v4.new_output("display_data", data={
                        "text/html": '<img alt="mine" src="data:image/png;base64,iVBORw0KGgo=">'})]
    nb.cells = [cell]
    page = report.feedback_html(nb, GradeResult(assignment="pooling", student="s"))
    tags = re.findall(r"<img\b[^>]*>", page)
    assert len(tags) == 2 and all(tag.count(" alt=") == 1 for tag in tags), tags
    assert 'alt="a figure of the notebook"' in page and 'alt="mine"' in page
    assert_inert(page)


def _page(nb) -> str:
    """A feedback page, without the random cell id of its header cell."""
    return re.sub(r"cell-id=[0-9a-f]{8}\b", "", report.feedback_html(nb, GradeResult(assignment="pooling", student="s")))


def test_what_submissions_share_is_rendered_once_and_what_differs_anew():
    """The release's cells are rendered once per process (the same markdown and code in every
    submission): the second page is the same, from the caches; a student's changed cell, and a
    markdown cell with its own image, are rendered from their own text."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    image = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    with_image = nbformat.v4.new_markdown_cell("![dot](attachment:dot.png)")
    with_image.attachments = {"dot.png": {"image/png": image}}
    nb.cells = [nbformat.v4.new_markdown_cell("## Part 1: *pooling* <script>alert(1)</script>"),
                nbformat.v4.new_code_cell("def max_pool(x):\n    return x  # try_one"), with_image]
    first = _page(nb)
    hits = report._clean_text.cache_info().hits
    assert _page(nb) == first
    assert report._clean_text.cache_info().hits > hits
    assert "<em>pooling</em>" in first and "try_one" in first and image in first
    assert_inert(first)
    nb.cells[0].source = "## Part 1: *average* pooling"
    nb.cells[1].source = "def max_pool(x):\n    return x.amax()  # try_two"
    with_image.attachments = {"dot.png": {"image/png": image[:-4] + "AAA="}}
    second = _page(nb)
    assert "<em>average</em>" in second and "try_two" in second and "try_one" not in second
    assert image[:-4] + "AAA=" in second and image not in second
