"""The instructor's grader (``course``). See the README's "Architecture" section for the layout."""
import sys as _sys

from .inside import kernel as _kernel

# hidden tests import ``course_grader.kernel``: in the grading kernel the guard installs it under
# that name; here the same name reaches the one file, course_grader/inside/kernel.py
_sys.modules.setdefault(__name__ + ".kernel", _kernel)
kernel = _kernel
del _sys
