"""Run right before every instructor test cell: a fresh ``course_grader.kernel`` module, built from
the source text of ``inside/kernel.py``, so that the student's code replacing ``record``,
``aten_ops_used`` or ``forbidden`` in the module has no effect on the tests (a best-effort guard:
see "What the grader can and cannot check" in docs/authoring.md).

Sent to the kernel as source text followed by ``_course_guard(<kernel source>)``
(``course_grader.execution.session.guard_source``); it leaves no name behind.
"""


def _course_guard(_src):
    import sys, types
    _pkg = types.ModuleType("course_grader")
    _pkg.__path__ = []
    _mod = types.ModuleType("course_grader.kernel")
    exec(compile(_src, "course_grader/kernel.py", "exec"), _mod.__dict__)
    _pkg.kernel = _mod
    sys.modules["course_grader"] = _pkg
    sys.modules["course_grader.kernel"] = _mod
