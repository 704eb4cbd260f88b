"""The sandbox policy (``bwrap.decide``) with a bwrap that fails as Ubuntu 24.04's does, one that is
missing, and the real one: an environment problem is a clear error (or, for a non-root grader
under ``auto``, a warning and a note), never a student's 0.

The last tests start a real sandboxed kernel and try, from inside, what a student would.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from course_grader.config import CourseError
from course_grader.execution import bwrap
from course_grader.execution.session import KernelSession
from course_grader.grading.grade import grade_notebook

from tests.conftest import needs_mnist
from tests.helpers import fill_solutions, release_nb, source_nb

REPO = Path(__file__).resolve().parents[2]
UBUNTU_2404 = "bwrap: setting up uid map: Permission denied"


@pytest.fixture
def fresh_probe():
    bwrap._probe.cache_clear()
    bwrap._supports.cache_clear()
    bwrap._said.clear()
    yield
    bwrap._probe.cache_clear()
    bwrap._supports.cache_clear()
    bwrap._said.clear()


@pytest.fixture
def failing_bwrap(tmp_path, monkeypatch, fresh_probe):
    """A ``bwrap`` first on PATH that fails the way AppArmor-restricted user namespaces do."""
    folder = tmp_path / "fakebin"
    folder.mkdir()
    script = folder / "bwrap"
    script.write_text(f"#!/bin/sh\necho '{UBUNTU_2404}' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


@pytest.fixture
def no_bwrap(tmp_path, monkeypatch, fresh_probe):
    """A PATH on which there is no bwrap (the interpreter is found by its absolute path)."""
    folder = tmp_path / "emptybin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_failing_bwrap_as_root_refuses(settings, failing_bwrap, monkeypatch):
    monkeypatch.setattr(bwrap, "running_as_root", lambda: True)
    with pytest.raises(CourseError) as e:
        bwrap.decide(replace(settings, sandbox="auto"))
    text = str(e.value)
    assert "refusing to run student code as root" in text and UBUNTU_2404 in text
    assert "apparmor_restrict_unprivileged_userns=0" in text and "sandbox = 'off'" in text


def test_failing_bwrap_under_require_refuses(settings, failing_bwrap, monkeypatch):
    monkeypatch.setattr(bwrap, "running_as_root", lambda: False)
    with pytest.raises(CourseError, match="sandbox = 'require' but the sandbox cannot run here"):
        bwrap.decide(replace(settings, sandbox="require"))


def test_failing_bwrap_non_root_auto_warns_once(settings, failing_bwrap, monkeypatch, capsys):
    monkeypatch.setattr(bwrap, "running_as_root", lambda: False)
    decision = bwrap.decide(replace(settings, sandbox="auto"))
    assert decision.use is False
    assert decision.warning.startswith("WARNING: grading without the sandbox") and UBUNTU_2404 in decision.warning
    bwrap.announce(decision)
    bwrap.announce(decision)
    assert capsys.readouterr().err.count("WARNING: grading without the sandbox") == 1


def test_missing_bwrap(settings, no_bwrap, monkeypatch):
    monkeypatch.setattr(bwrap, "running_as_root", lambda: False)
    decision = bwrap.decide(replace(settings, sandbox="auto"))
    assert not decision.use and "bubblewrap (bwrap) is not installed" in decision.warning
    assert "apt-get install bubblewrap" in decision.warning
    monkeypatch.setattr(bwrap, "running_as_root", lambda: True)
    with pytest.raises(CourseError, match="not installed"):
        bwrap.decide(replace(settings, sandbox="auto"))


def test_sandbox_off_as_root_says_so(settings, no_bwrap, monkeypatch):
    monkeypatch.setattr(bwrap, "running_as_root", lambda: True)
    decision = bwrap.decide(replace(settings, sandbox="off"))
    assert not decision.use and "student code runs as root" in decision.warning
    monkeypatch.setattr(bwrap, "running_as_root", lambda: False)
    assert bwrap.decide(replace(settings, sandbox="off")) == bwrap.SandboxDecision(False, "")


def test_bad_mode_is_an_error(settings):
    with pytest.raises(CourseError, match="'auto', 'require' or 'off'"):
        bwrap.decide(replace(settings, sandbox="maybe"))


def _reference_file(settings, tmp_path, assignment="pooling") -> Path:
    nb = fill_solutions(release_nb(settings, assignment), source_nb(settings, assignment))
    path = tmp_path / "submitted" / "student" / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path


@needs_mnist
def test_reference_with_failing_bwrap_as_root_is_an_error_not_a_zero(settings, failing_bwrap, tmp_path):
    """Issue 10.1: with cached reference records, the reference used to get 0/20, status graded,
    exit 0. Now `course check` stops before any kernel starts and says why."""
    if os.geteuid() != 0:
        pytest.skip("the refusal is for a grader running as root")
    path = _reference_file(settings, tmp_path)
    with pytest.raises(CourseError, match="refusing to run student code as root"):
        grade_notebook(replace(settings, sandbox="auto"), "pooling", path)
    cli = subprocess.run([str(Path(sys.prefix) / "bin" / "course"), "check", str(path)], cwd=REPO,
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PATH": os.environ["PATH"]})
    assert cli.returncode == 3, cli.stdout + cli.stderr
    assert "refusing to run student code as root" in cli.stderr and UBUNTU_2404 in cli.stderr
    assert "26" not in cli.stdout                                   # no score was printed


@needs_mnist
def test_non_root_without_sandbox_grades_with_a_note(settings, failing_bwrap, monkeypatch, tmp_path):
    monkeypatch.setattr(bwrap, "running_as_root", lambda: False)
    path = _reference_file(settings, tmp_path)
    result, _ = grade_notebook(replace(settings, sandbox="auto"), "pooling", path)
    assert (result.status, result.score, result.max_score) == ("graded", 26, 29), result
    assert [n for n in result.notes if n.startswith("WARNING: grading without the sandbox")], result.notes


# ------------------------------------------------------------------ inside a real sandboxed kernel

INSIDE = textwrap.dedent("""\
    import ctypes, ctypes.util, errno, json, os, socket, subprocess
    report = {"uid": os.getuid(), "gid": os.getgid()}
    report["caps"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    # re-bind-mount / without its submounts: the first release's escape
    report["mount"] = libc.mount(b"/", b"/tmp", None, 4096 | 16384, None) == 0   # MS_BIND|MS_REC
    report["unshare_user"] = libc.unshare(0x10000000) == 0                      # CLONE_NEWUSER
    report["unshare_ns"] = libc.unshare(0x00020000) == 0                        # CLONE_NEWNS
    report["seen"] = {p: os.path.exists(p) for p in SECRET_PATHS}
    report["listdir_root"] = sorted(os.listdir("/"))
    for name, path in [("host_socket", HOST_SOCKET)]:
        try:
            s = socket.socket(socket.AF_UNIX); s.connect(path); report[name] = "CONNECTED"
        except OSError as e:
            report[name] = type(e).__name__
    written = 0
    try:
        with open("big", "wb") as f:
            while written < 3 * 2**30:
                f.write(b"x" * 2**20); written += 2**20
    except OSError as e:
        report["fill"] = (errno.errorcode.get(e.errno), written // 2**20)
    os.remove("big")
    try:
        open(HOST_FILE, "w").write("x")
        report["host_write"] = True
    except OSError:
        report["host_write"] = False
    # the one writable host folder, the kernel's IPC folder, is sealed once its sockets exist
    ipc = [l.split()[4] for l in open("/proc/self/mountinfo") if "course-kernel-ipc-" in l.split()[4]
           or ("course-zygote-" in l.split()[4] and l.split()[4].endswith("/ipc"))]
    report["ipc_folders"] = ipc
    try:
        open(ipc[0] + "/filler", "w").write("x")
        report["ipc_write"] = True
    except OSError:
        report["ipc_write"] = False
    print("REPORT" + json.dumps(report))
""")


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")
@pytest.mark.parametrize("kernel_mode", ["fresh", "prewarmed"])
def test_inside_the_sandbox(settings, tmp_path, fresh_probe, kernel_mode):
    """Every escape of issue 12, tried from a fresh kernel and from one forked by the fork server."""
    s = replace(settings, sandbox="require", scratch_limit_mb=64, cell_timeout=60, kernel_mode=kernel_mode)
    host = tmp_path / "host"
    host.mkdir()
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(host / "docker.sock"))
    sock.listen(1)
    other_scratch = tmp_path / "other-kernel-scratch"
    other_scratch.mkdir()
    (other_scratch / "connection.json").write_text("{}")
    secrets = [str(settings.root / "source"), str(settings.root / ".course_cache"),
               str(settings.root / "nbgrader_config.py"), "/root/.config", "/etc/shadow", "/home",
               "/var/run", "/run", str(other_scratch / "connection.json"), str(host)]
    code = (f"SECRET_PATHS = {secrets!r}\nHOST_SOCKET = {str(host / 'docker.sock')!r}\n"
            f"HOST_FILE = {str(host / 'planted')!r}\n" + INSIDE)
    work = tmp_path / "work"
    work.mkdir()
    session = KernelSession(s, work)
    try:
        assert session.start() == ""
        cell = nbformat.v4.new_code_cell(code)
        result = session.run(cell, 0)
    finally:
        session.close()
        sock.close()
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
    assert result.status == "ok", (result, cell.outputs)
    report = json.loads(text.split("REPORT", 1)[1])
    assert (report["uid"], report["gid"]) == (65534, 65534)
    assert int(report["caps"], 16) == 0
    assert report["mount"] is False and report["unshare_ns"] is False
    assert report["unshare_user"] is False
    assert not any(report["seen"].values()), report["seen"]
    assert report["host_socket"] != "CONNECTED"
    assert report["fill"][0] == "ENOSPC" and report["fill"][1] <= 64, report["fill"]
    assert report["host_write"] is False and not (host / "planted").exists()
    assert len(report["ipc_folders"]) == 1
    # sealed: given to nobody where the grader is root, and remounted read-only in the kernel's
    # mount namespace (a pre-warmed kernel's by its supervisor, a fresh one's by the grader
    # through the sandbox's user namespace, which it owns) where the grader is not
    assert report["ipc_write"] is False
    assert set(report["listdir_root"]) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "course",
                                           "proc", "sbin", "tmp", "usr", *(p.split("/")[1] for p in
                                           map(str, bwrap._read_only_folders(s, ())))}


def test_a_fresh_kernels_folder_that_cannot_be_sealed_is_said_once(tmp_path, monkeypatch, capsys):
    """A non-root grader seals a fresh kernel's IPC folder from inside the sandbox's namespaces;
    where no process of the sandbox can be found (or entering fails), grading goes on, and the
    grader says once why the folder stays writable."""
    from types import SimpleNamespace
    from course_grader.execution import launch

    outside = subprocess.Popen(["sleep", "60"])          # a "kernel" in the grader's own namespaces
    try:
        km = SimpleNamespace(ipc_dir=str(tmp_path), sandboxed=True, server=None, kernel_pid=lambda: outside.pid)
        assert launch.seal_in_sandbox(km) == "no process of the sandbox was found"
        monkeypatch.setattr(launch.os, "geteuid", lambda: 1000)
        monkeypatch.setattr(launch, "_warned", {})
        assert launch.seal_ipc_dir(km) == "" and launch.seal_ipc_dir(km) == ""
    finally:
        outside.kill()
        outside.wait()
    err = capsys.readouterr().err
    assert err.count("IPC folder stays writable") == 1 and "no process of the sandbox was found" in err
