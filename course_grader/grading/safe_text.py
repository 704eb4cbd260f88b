"""Text from submissions (student folder names, messages) made safe for spreadsheets and HTML.

* :func:`csv_cell`: a value for a CSV cell that a spreadsheet shows as text instead of running it
  as a formula (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``): values starting with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return get a leading ``'``, unless they are plain numbers
  (``-3``, ``+1.5e3``), which stay numbers.
* :func:`html_text`: a value escaped for HTML text and attribute values (``html.escape`` with
  ``quote=True``): ``<img src=x onerror=alert(1)>`` is shown, not run.
"""
from __future__ import annotations

import html
import re

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value) -> str:
    """``value`` as text for one CSV cell, neutralised so that no spreadsheet runs it."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def html_text(value) -> str:
    """``value`` as text escaped for HTML (element content and quoted attribute values)."""
    return html.escape("" if value is None else str(value), quote=True)
