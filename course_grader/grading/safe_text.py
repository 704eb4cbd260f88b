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


class HiddenCode:
    """The hidden tests' code of an assignment, to recognise text that quotes it.

    Student code that a hidden test calls can read that test's source (frames, ``In``) and raise
    it as an error message or an exception's class name, which the feedback would show. Text
    quotes the hidden tests when it shares :attr:`WINDOW` consecutive letters and digits (case,
    spaces and punctuation ignored, so ``record("a b")`` and ``record__a_b`` are the same) with
    them that the release (what students have) does not also contain. Only the hidden tests'
    code counts, not their strings: record names and the messages of their ``assert``s and
    ``raise``s are written for the student to read (the feedback shows them when a check fails).
    Encoded text (base64, one character in two) is not recognised: see docs/authoring.md, "What
    the grader can and cannot check".
    """
    WINDOW = 20

    def __init__(self, source_nb, release_nb=None):
        from ..notebook import HIDDEN_RE

        hidden = " ".join(_code_only(m.group(0)) for c in source_nb.cells
                          for m in HIDDEN_RE.finditer(str(c.get("source", ""))))
        public = " ".join(str(c.get("source", "")) for c in (release_nb.cells if release_nb is not None else []))
        self.windows = self._windows(hidden) - self._windows(public)

    @classmethod
    def _flat(cls, text: str) -> str:
        return re.sub(r"[^0-9a-z]", "", str(text).lower())

    @classmethod
    def _windows(cls, text: str) -> set:
        flat = cls._flat(text)
        return {flat[i:i + cls.WINDOW] for i in range(len(flat) - cls.WINDOW + 1)}

    def quotes(self, text) -> bool:
        """Whether ``text`` quotes the hidden tests."""
        flat = self._flat(text)
        return any(flat[i:i + self.WINDOW] in self.windows for i in range(len(flat) - self.WINDOW + 1))


def _code_only(code: str) -> str:
    """``code`` with its strings (record names, the messages of its ``assert`` statements and of
    the exceptions it raises: text students are meant to read) blanked out."""
    import ast

    body = "\n".join(code.splitlines()[1:-1])          # between the HIDDEN TESTS markers
    try:
        tree = ast.parse(body)
    except (SyntaxError, ValueError, RecursionError):
        return code
    lines = body.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    spans = [(node.msg if isinstance(node, ast.Assert) else node.exc if isinstance(node, ast.Raise) else node)
             for node in ast.walk(tree)
             if isinstance(node, ast.Assert) and node.msg is not None
             or isinstance(node, ast.Raise) and node.exc is not None
             or isinstance(node, ast.JoinedStr)
             or isinstance(node, ast.Constant) and isinstance(node.value, str)]
    text = list(body)
    for node in spans:
        if getattr(node, "end_lineno", None) is None:
            continue
        start = offsets[node.lineno - 1] + len(lines[node.lineno - 1].encode()[:node.col_offset].decode(errors="ignore"))
        end = offsets[node.end_lineno - 1] + len(lines[node.end_lineno - 1].encode()[:node.end_col_offset].decode(errors="ignore"))
        for i in range(start, min(end, len(text))):
            if text[i] != "\n":
                text[i] = " "
    return "".join(text)


#: What the feedback shows instead of an error message that quotes the hidden tests.
QUOTED = "(message not shown: it quotes the hidden tests' code)"
_EXCEPTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,59}(\.[A-Za-z_][A-Za-z0-9_]{0,59}){0,4}")


def error_parts(ename, evalue, hidden: HiddenCode | None) -> tuple:
    """``(ename, evalue)`` of an error raised by student code, safe to show a student: a name
    that is not a plain (dotted) identifier of at most 60 characters a part, or that quotes the
    hidden tests, becomes ``"Exception"``; a message that quotes them becomes :data:`QUOTED`."""
    ename, evalue = str(ename or ""), str(evalue or "")
    if not _EXCEPTION_NAME.fullmatch(ename) or (hidden is not None and hidden.quotes(ename)):
        ename = "Exception"
    if hidden is not None and hidden.quotes(evalue):
        evalue = QUOTED
    return ename, evalue
