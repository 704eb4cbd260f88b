"""The instructor's grader (``course``). See the README's "Architecture" section for the layout."""
import sys as _sys

from .inside import doubles as _doubles, kernel as _kernel, probes as _probes

# hidden tests import ``course_grader.kernel``, ``.probes`` and ``.doubles``: in the grading kernel
# the guard installs them under those names; here the same names reach the files in inside/
_sys.modules.setdefault(__name__ + ".kernel", _kernel)
_sys.modules.setdefault(__name__ + ".probes", _probes)
_sys.modules.setdefault(__name__ + ".doubles", _doubles)
kernel, probes, doubles = _kernel, _probes, _doubles

# jsonschema (under nbformat) builds an IRI grammar when rfc3987_syntax is installed (about 1 s of
# every `course` command's start); nbformat's notebook schemas check no IRI formats, so the
# grader's process goes without it (jsonschema then skips only the "iri" format checks)
_sys.modules.setdefault("rfc3987_syntax", None)
del _sys
