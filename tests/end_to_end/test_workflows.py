"""The GitHub Actions workflows, checked offline: schema-valid (check-jsonschema), no findings of
zizmor (template injection, credentials left in the checkout, unpinned actions, ...), actions
pinned to releases that run on Node 24, student-data artifacts that expire, a merge that refuses
missing shards, every changed notebook of a push graded, and the CLI called as it really is."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from course_grader.cli import build_parser
from tests.conftest import ROOT

WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))
CHANGED_NOTEBOOKS = ROOT / ".github" / "scripts" / "changed-notebooks"
#: The first major of each action whose action.yml says `runs.using: node24` (checked against the
#: actions' own repositories; upload-artifact v5 and download-artifact v5/v6 still say node20).
#: Node 20 was removed from GitHub's runners on 2026-09-16.
FIRST_NODE24_MAJOR = {"actions/checkout": 5, "actions/setup-python": 6, "actions/cache": 5,
                      "actions/upload-artifact": 6, "actions/download-artifact": 7}


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    assert found, f"{name} is part of the dev extra: pip install -e '.[dev]'"
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_valid(workflow):
    """Validated offline against the GitHub-workflow schema that check-jsonschema ships."""
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", str(workflow)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing():
    """zizmor's audits, offline, with the "auditor" persona (its most thorough): no findings, and
    nothing configured away (no zizmor.yml, no `# zizmor: ignore` comments)."""
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([_tool("zizmor"), "--offline", "--persona", "auditor", "--no-config",
                           str(WORKFLOW_DIR)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    for workflow in WORKFLOWS:
        assert "zizmor: ignore" not in workflow.read_text()


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_is_expanded_inside_a_shell_script(workflow):
    """`${{ ... }}` in `run:` is pasted into the script before the shell parses it (template
    injection): values reach scripts through `env:` only."""
    for job, step in _steps(_load(workflow)):
        assert "${{" not in step.get("run", ""), f"{workflow.name}, job {job}: {step.get('run')!r}"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_node24_releases(workflow):
    text = workflow.read_text()
    uses = re.findall(r"uses:\s*([\w.-]+/[\w.-]+)@(\S+)(?:\s*#\s*v(\d+)\.(\d+)\.(\d+))?", text)
    assert uses
    for action, ref, major, _minor, _patch in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}@{ref}: pin a commit, with `# vX.Y.Z`"
        assert major, f"{action}@{ref}: say which release the commit is (`# vX.Y.Z`)"
        assert action in FIRST_NODE24_MAJOR, f"{action}: check that it runs on Node 24, then add it"
        assert int(major) >= FIRST_NODE24_MAJOR[action], f"{action} v{major} runs on Node 20"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_keep_no_credentials_and_artifacts_expire(workflow):
    for job, step in _steps(_load(workflow)):
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{workflow.name}: {job}"
        if uses.startswith("actions/upload-artifact@"):
            days = step.get("with", {}).get("retention-days")
            assert isinstance(days, int) and 1 <= days <= 30, f"{workflow.name}: {job} keeps student data"


def test_ci_fails_instead_of_skipping_and_uses_cpu_torch():
    ci = _load(WORKFLOW_DIR / "ci.yml")
    env = ci["jobs"]["test"]["env"]
    assert env["COURSE_REQUIRE_DATA"] == "1"
    assert env["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert env["COURSE_DATA_DIR"].endswith("/.data")
    caches = [s["with"] for _, s in _steps(ci) if s.get("uses", "").startswith("actions/cache@")]
    assert {c["path"] for c in caches} == {".data", "~/.cache/cnn-course-ci"}
    assert any("hashFiles('pyproject.toml')" in c["key"] for c in caches)
    assert [s["run"] for _, s in _steps(ci) if "run" in s][-1].strip() == ".ci/run"
    script = (ROOT / ".ci" / "run").read_text()
    assert "export COURSE_REQUIRE_DATA=1" in script and "make data" in script


def test_class_scale_grading_restores_its_environment_and_reference_cache():
    """issue 16: a grading runner restores the environment and the reference records from the
    Actions cache and installs only when the cache missed, then runs the cached environment."""
    batch = _load(WORKFLOW_DIR / "grade-batch.yml")
    steps = batch["jobs"]["grade"]["steps"]
    caches = {s["with"]["path"]: s["with"]["key"] for s in steps if s.get("uses", "").startswith("actions/cache@")}
    assert "hashFiles('pyproject.toml')" in caches[".venv"]
    assert "source/**" in caches[".course_cache"] and "course_grader/**" in caches[".course_cache"]
    [install] = [s["run"] for s in steps if "pip install" in s.get("run", "")]
    assert "if [ ! -x .venv/bin/course ]" in install and '.venv/bin" >> "$GITHUB_PATH"' in install
    order = [s.get("name", "") for s in steps]
    assert order.index("Python environment (built once per dependency list, then cached)") < \
        order.index("Install the grader (CPU torch) if the cache missed") < order.index("Grade one shard")


def test_merge_refuses_missing_shards_and_merges_gradebooks():
    batch = _load(WORKFLOW_DIR / "grade-batch.yml")
    grade, merge = batch["jobs"]["grade"], batch["jobs"]["merge"]
    assert len(grade["strategy"]["matrix"]["shard"]) == int(batch["env"]["SHARDS"])
    assert merge["needs"] == "grade" and "always()" not in str(merge.get("if", ""))
    scripts = "\n".join(s.get("run", "") for s in merge["steps"])
    assert 'if [ "$found" != "$SHARDS" ]' in scripts
    assert "course merge-gradebooks graded/graded-shard-*/gradebook.db --out gradebook.db" in scripts
    uploaded = [s["with"]["path"] for s in merge["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert "gradebook.db" in uploaded[0]


def _course_commands(text: str) -> list[list[str]]:
    """Every `course ...` command line in a workflow, with variables made concrete."""
    text = re.sub(r"\s*>\n\s*", " ", text)                       # folded scalars
    text = text.replace("\\\n", " ")
    concrete = {"$SHARD/$SHARDS": "1/4", "$SUBMISSIONS": "submitted", "$JOBS": "2",
                "$SHARD": "1", "$nb": "nb.ipynb", "$name": "x"}
    for variable, value in concrete.items():
        text = text.replace(variable, value)
    commands = []
    for line in text.splitlines():
        match = re.search(r"(?:^|[\s;|&(])course\s+([a-z-]+)\b(.*)", line)
        if match and not line.lstrip().startswith("#"):
            rest = re.split(r"\s(?:>|&&|\|\||;)\s", match.group(2))[0]
            commands.append([match.group(1), *shlex.split(rest)])
    return commands


def test_workflows_call_the_cli_as_it_is():
    commands = _course_commands((WORKFLOW_DIR / "grade-batch.yml").read_text())
    assert [c[0] for c in commands] == ["grade", "merge", "merge-gradebooks"]
    for workflow in WORKFLOWS:
        for argv in _course_commands(workflow.read_text()):
            build_parser().parse_args(argv)          # exits (fails the test) on a wrong option
    grade = build_parser().parse_args(commands[0])
    assert grade.shard == "1/4" and grade.submitted == "submitted"


# ------------------------------------------------------- the notebooks grade-submission grades

def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def _commit(repo: Path, files: dict, message: str) -> str:
    for name, content in files.items():
        path = repo / name
        if content is None:
            _git(repo, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        _git(repo, "add", name)
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


def _changed(repo: Path, before: str, after: str) -> list[str]:
    out = subprocess.run([str(CHANGED_NOTEBOOKS), before, after], cwd=repo, check=True,
                         capture_output=True).stdout.decode()
    assert out == "" or out.endswith("\0")
    return sorted(filter(None, out.split("\0")))


def test_every_notebook_of_a_multi_commit_push_is_graded(tmp_path):
    repo = tmp_path / "grading"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    first = _commit(repo, {"submitted/old/a1/a1.ipynb": "{}", "README.md": "x"}, "start")
    # one push of three commits: two students, a name with spaces and a newline, a deletion,
    # a file that is not a notebook, and a notebook outside submitted/
    _commit(repo, {"submitted/alice/a1/a1.ipynb": "{}"}, "alice")
    _commit(repo, {"submitted/bob smith/a1/a1.ipynb": "{}", "submitted/old/a1/a1.ipynb": None,
                   "submitted/bob smith/a1/notes.txt": "n"}, "bob")
    last = _commit(repo, {"submitted/new\nline/a1/a1.ipynb": "{}", "source/a1/a1.ipynb": "{}"}, "more")
    assert _changed(repo, first, last) == ["submitted/alice/a1/a1.ipynb", "submitted/bob smith/a1/a1.ipynb",
                                           "submitted/new\nline/a1/a1.ipynb"]
    # the first push of a branch (before = zeros) and a force push (before unknown): every notebook
    everything = ["submitted/alice/a1/a1.ipynb", "submitted/bob smith/a1/a1.ipynb",
                  "submitted/new\nline/a1/a1.ipynb"]
    assert _changed(repo, "0" * 40, last) == everything
    assert _changed(repo, "", last) == everything
    assert _changed(repo, "1234567" * 5 + "12345", last) == everything


def test_submitted_is_not_git_ignored():
    """Both grading workflows read submissions committed under submitted/."""
    proc = subprocess.run(["git", "check-ignore", "-q", "--no-index", "submitted/alice/a1/a1.ipynb"],
                          cwd=ROOT, capture_output=True)
    assert proc.returncode == 1, "submitted/ is git-ignored, but the grading workflows expect it committed"


# ------------------------------------------------------------------------------------- .ci/run

@pytest.fixture(scope="module")
def venv_cache(tmp_path_factory):
    """One venv cache for the runs below: the first builds the venv, the others reuse it."""
    return tmp_path_factory.mktemp("venv-cache")


@pytest.mark.slow
@pytest.mark.parametrize("make_status", [0, 2, 5])
def test_ci_run_requires_data_and_passes_on_no_failure(tmp_path, venv_cache, make_status):
    """.ci/run builds its venv outside the clone when missing, runs `make data` then `make test`
    with COURSE_REQUIRE_DATA=1, and exits with make's status (a `make` stand-in records calls)."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "calls.txt"
    (fake_bin / "make").write_text(
        "#!/bin/sh\n"
        f'echo "$* COURSE_REQUIRE_DATA=$COURSE_REQUIRE_DATA" >> "{calls}"\n'
        f'if [ "$1" = test ]; then exit {make_status}; fi\n')
    (fake_bin / "make").chmod(0o755)
    (fake_bin / "bwrap").write_text("#!/bin/sh\nexit 0\n")      # no apt-get from this test
    (fake_bin / "bwrap").chmod(0o755)
    cache = venv_cache
    # a clone of its own: .ci/run links the clone's .venv to the cached venv, and must never touch
    # the .venv of the checkout running this suite (in CI that is itself a link .ci/run made)
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    shutil.copy2(ROOT / ".ci" / "run", clone / ".ci" / "run")
    shutil.copy2(ROOT / "pyproject.toml", clone / "pyproject.toml")
    old_link = tmp_path / "venv-of-an-older-dependency-list"
    old_link.mkdir()
    (clone / ".venv").symlink_to(old_link)
    ours = os.readlink(ROOT / ".venv") if (ROOT / ".venv").is_symlink() else None
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
           "COURSE_VENV_CACHE": str(cache)}
    env.pop("COURSE_REQUIRE_DATA", None)
    proc = subprocess.run([str(clone / ".ci" / "run")], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == make_status, proc.stdout + proc.stderr
    assert (os.readlink(ROOT / ".venv") if (ROOT / ".venv").is_symlink() else None) == ours
    assert (clone / ".venv").is_symlink() and Path(os.readlink(clone / ".venv")).parent == cache
    assert calls.read_text().splitlines() == ["data COURSE_REQUIRE_DATA=1", "test COURSE_REQUIRE_DATA=1"]
    [venv] = [p for p in cache.iterdir() if p.name.startswith("venv-")]    # keyed, outside the clone
    assert (venv / "bin" / "python").exists()
    if make_status:
        assert "make test failed" in proc.stderr
