"""Run right before every instructor test cell: fresh ``course_grader.kernel``,
``course_grader.probes`` and ``course_grader.doubles`` modules, built from the source text of
``inside/kernel.py``, ``inside/probes.py`` and ``inside/doubles.py``, so that the student's code
replacing ``record`` or any other helper in those modules has no effect on the tests (a
best-effort guard: see "What the grader can and cannot check" in docs/authoring.md).

Sent to the kernel as source text followed by ``_course_guard(<packed>)``
(``course_grader.execution.session.guard_source``): ``{<name>: <source>, ...}``, the modules in
the order they import each other, as JSON, compressed with zlib and in base64 (a third of the
size: the kernel spends about 0.3 ms a kilobyte of cell text, before the cell runs, so a smaller
guard saves about 5 ms a test cell); it leaves no name behind.
"""


def _course_guard(_packed):
    import base64, json, sys, types, zlib
    _sources = json.loads(zlib.decompress(base64.b64decode(_packed)))
    _pkg = types.ModuleType("course_grader")
    _pkg.__path__ = []
    sys.modules["course_grader"] = _pkg
    for _name, _src in _sources.items():
        _mod = types.ModuleType("course_grader." + _name)
        _mod.__package__ = "course_grader"
        sys.modules["course_grader." + _name] = _mod
        setattr(_pkg, _name, _mod)
        exec(compile(_src, "course_grader/" + _name + ".py", "exec"), _mod.__dict__)
