"""The layout keeps the trust boundary visible (README, "Architecture"):

- ``course_grader/inside/`` runs in the student's kernel, so it imports nothing but the standard
  library, torch, numpy and IPython (the prelude also sets matplotlib's backend);
- ``course_grader/grading/`` reads what the kernel sent only through ``course_grader.protocol``,
  never by importing ``inside/``;
- nothing imports upwards into the command line, and the package has no import cycle.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "course_grader"
INSIDE_ALLOWED = {"torch", "numpy", "IPython"}
#: the prelude sets the plotting backend before any student code; probes close the figures they read
INSIDE_EXTRA = {"prelude.py": {"matplotlib"}, "probes.py": {"matplotlib"}, "figures.py": {"matplotlib"}}


def _imports(path: Path, package: str | None = None) -> list[tuple[str, int]]:
    """(absolute module name, line) of every import in ``path``, relative ones resolved against
    ``package`` (default: the package ``path`` lies in)."""
    if package is None:
        package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
                names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
            else:
                names = [node.module]
            found += [(n, node.lineno) for n in names]
    return found


def _not_allowed_inside(path: Path, package: str = "course_grader.inside") -> list[str]:
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    allowed = stdlib | INSIDE_ALLOWED | INSIDE_EXTRA.get(path.name, set())
    # the kernel-side files import each other (the guard installs them side by side)
    siblings = {f"{package}.{p.stem}" for p in (PACKAGE / "inside").glob("*.py")}
    return [f"{path.name}:{line} imports {name}" for name, line in _imports(path, package)
            if name.split(".")[0] not in allowed and name not in siblings]


def _files(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def test_inside_imports_only_the_standard_library_torch_numpy_and_ipython():
    assert _files("inside"), "course_grader/inside/ holds no code"
    wrong = [w for path in _files("inside") for w in _not_allowed_inside(path)]
    assert not wrong, "code that runs in the student's kernel imports more than it may:\n" + "\n".join(wrong)


def test_the_inside_check_notices_a_forbidden_import(tmp_path):
    """Not vacuous: the grader's own code, a relative import of it, or a third-party package
    in a kernel-side file is reported; the standard library and torch are not."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os, torch\nfrom ..grading import judge\nfrom course_grader import protocol\n"
                   "import nbformat\nfrom .kernel import record\n")
    assert _not_allowed_inside(bad) == ["bad.py:2 imports course_grader.grading",
                                        "bad.py:3 imports course_grader",
                                        "bad.py:4 imports nbformat"]


def test_grading_reaches_the_kernel_side_only_through_protocol():
    wrong = [f"{path.relative_to(PACKAGE)}:{line} imports {name}"
             for path in _files("grading") for name, line in _imports(path)
             if name == "course_grader.inside" or name.startswith("course_grader.inside.")
             or name == "course_grader.kernel"]
    assert not wrong, "grading/ must read records through course_grader.protocol:\n" + "\n".join(wrong)


def test_nothing_imports_upwards_and_there_is_no_cycle():
    """Layers, lowest first; a module may import its own layer's and lower layers' modules."""
    layer = {"inside": 0, "config": 1, "notebook": 1, "fsutil": 1, "protocol": 1, "assignment": 2,
             "execution": 3, "grading": 4, "authoring": 4, "cli": 5, "__init__": 0}
    graph, wrong = {}, []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "templates" in path.relative_to(PACKAGE).parts:
            continue                    # text templates (a notebook, a setup cell), not modules
        rel = path.relative_to(PACKAGE).with_suffix("")
        me = ".".join(("course_grader",) + rel.parts).removesuffix(".__init__")
        top = rel.parts[0]
        for name, line in _imports(path):
            if not name.startswith("course_grader."):
                continue
            target = name.split(".")[1]
            graph.setdefault(me, set()).add(name)
            if top != "__init__" and layer[target] > layer[top]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports {name} (upwards)")
    assert not wrong, "\n".join(wrong)
    # no cycle among modules (a depth-first search over the module graph)
    state: dict = {}

    def visit(node, trail):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", "import cycle: " + " -> ".join(trail + [node])
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, trail + [node])
        state[node] = "done"

    for node in sorted(graph):
        visit(node, [])


def test_pyproject_packages_and_package_data_match_the_tree():
    """Every package folder is listed in pyproject.toml, and every package-data pattern names
    files that exist (the templates are files, not strings in code)."""
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found <= set(config["packages"]), sorted(found - set(config["packages"]))
    for package, patterns in config.get("package-data", {}).items():
        folder = PACKAGE.parent.joinpath(*package.split("."))
        for pattern in patterns:
            assert [p for p in folder.glob(pattern) if p.is_file()], f"{package}: {pattern} matches no file"
