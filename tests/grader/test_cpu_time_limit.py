"""A cell's time limit does not depend on the machine's load (issue 17): a cell is stopped when
it has used ``cell_timeout`` seconds of CPU time, or when it has run that long waiting (sleep,
input), never because a busy machine gave it less than a core; a wall-clock backstop of
``WALL_FACTOR`` times the limit stops everything."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from course_grader.execution import session as session_module
from course_grader.execution.client import CellBudget
from course_grader.execution import processes
from course_grader.execution.processes import tree_cpu, tree_pids, tree_usage
from course_grader.execution.session import KernelSession

#: one xdist worker runs these and test_as_normal_user.py (which runs them again): both pin a
#: kernel and busy processes to the same CPU, and together they would starve each other
pytestmark = pytest.mark.xdist_group("cpu_time")

BUSY = "import time\nstart = time.process_time()\nwhile time.process_time() - start < {cpu}:\n    pass\nprint('done')"


def _budget(cpu, runnable, deadline_in=100.0, idle_seconds=0.0):
    return CellBudget(usage=lambda: (cpu, runnable), cpu_seconds=3, wall_deadline=time.monotonic() + deadline_in,
                      wall_seconds=9, idle_seconds=idle_seconds)


def test_the_budget_stops_a_cell_for_cpu_time_waiting_or_the_backstop_only():
    assert _budget(1.0, True).decide() == ""                         # starved: runs on
    assert _budget(3.0, True).decide() == "the cell used more than 3 s of CPU time and was stopped"
    assert _budget(0.1, False).decide() == "the cell ran longer than 3 s and was stopped"   # sleeps
    assert _budget(1.0, True, deadline_in=-1).decide() == (
        "the cell ran longer than 9 s (1 s of CPU time on a busy machine) and was stopped")
    broken = CellBudget(usage=lambda: 1 / 0, cpu_seconds=3, wall_deadline=0, wall_seconds=9)
    assert broken.decide() == "the cell ran longer than 3 s and was stopped"


def test_a_cell_is_stopped_for_waiting_only_once_seen_waiting_on_end():
    """One look can catch a starved cell between two steps (all its threads briefly waiting):
    it is stopped for waiting only when every look over ``idle_seconds`` found it waiting."""
    looks = iter([False, True, False, False, False])
    budget = CellBudget(usage=lambda: (0.5, next(looks)), cpu_seconds=3, wall_deadline=time.monotonic() + 100,
                        wall_seconds=9, idle_seconds=0.2)
    assert budget.decide() == ""                 # waiting, first seen
    assert budget.decide() == ""                 # computing again: the wait is forgotten
    assert budget.decide() == ""                 # waiting, first seen again
    time.sleep(0.1)
    assert budget.decide() == ""                 # waiting for 0.1 s
    time.sleep(0.15)
    assert budget.decide() == "the cell ran longer than 3 s and was stopped"


def test_a_process_is_runnable_while_any_of_its_threads_computes():
    """A process whose main thread sleeps while another thread computes is runnable: its main
    thread waits for the GIL, or for the worker, under load."""
    code = ("import threading, time\n"
            "def spin():\n    end = time.process_time() + 60\n    while time.process_time() < end:\n        pass\n"
            "threading.Thread(target=spin, daemon=True).start()\ntime.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 30
        while tree_usage(child.pid)[0] < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(f"/proc/{child.pid}/stat") as f:
            main_state = f.read().rsplit(")", 1)[1].split()[0]
        assert main_state == "S"                 # the main thread sleeps ...
        assert tree_usage(child.pid)[1] is True  # ... and the process computes
    finally:
        child.kill()
        child.wait()


def test_tree_usage_counts_children_and_sees_who_computes():
    child = subprocess.Popen([sys.executable, "-c", BUSY.format(cpu=0.5) + "\nimport time; time.sleep(30)"],
                             stdout=subprocess.DEVNULL)
    try:
        cpu, runnable = tree_usage(os.getpid())
        deadline = time.monotonic() + 30
        while tree_usage(child.pid)[0] < 0.5 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        cpu, runnable = tree_usage(child.pid)
        assert cpu >= 0.5 and runnable is False                     # done computing, sleeps
        assert tree_cpu(child.pid) == cpu                           # the CPU time alone, the same
        mine, _ = tree_usage(os.getpid())
        assert mine >= cpu                                          # the child is in my tree
    finally:
        child.kill()
        child.wait()
    assert tree_usage(child.pid) == (0.0, False)                   # gone
    assert tree_cpu(child.pid) == 0.0


@pytest.mark.skipif(not processes._CHILDREN_FILES, reason="this kernel has no /proc/<pid>/task/<tid>/children")
def test_the_tree_from_children_files_is_the_tree_from_every_process():
    """A cell's start reads its kernel's tree from the tree's own children files, not from every
    process of the machine; the same processes and numbers: grandchildren, children started by a
    thread other than the main one, and not an orphan whose parent exited (it left the tree)."""
    script = ("import subprocess, sys, threading, time\n"
              "sleep = [sys.executable, '-c', 'import time; time.sleep(30)']\n"
              "kept = [subprocess.Popen(sleep)]\n"                           # a child
              "threading.Thread(target=lambda: (kept.append(subprocess.Popen(sleep)), time.sleep(30)),\n"
              "                 daemon=True).start()\n"                  # a child of a thread that lives on
              "kept.append(subprocess.Popen(['sh', '-c', 'sleep 30 & sleep 30 & wait']))\n"     # grandchildren
              "subprocess.Popen(['sh', '-c', '(sleep 30 &) ; exit 0']).wait()\n"   # an orphan: not ours
              "print('ready', flush=True)\n"
              "time.sleep(30)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        by_children, by_scan = processes._tree_by_children(parent.pid), processes._tree_by_scan(parent.pid)
        assert len(by_scan) == 6                          # the parent, 2 children, sh and its 2
        assert by_children.keys() == by_scan.keys()
        assert all(by_children[pid][0] == by_scan[pid][0] for pid in by_scan)     # the same parents
        assert tree_pids(parent.pid) and set(tree_pids(parent.pid)) == set(by_scan)
    finally:
        for pid in processes._tree_by_scan(parent.pid):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        parent.wait()
    assert processes._tree_by_children(parent.pid) == {} == processes._tree_by_scan(parent.pid)


def _run(settings, code, hogs=0):
    """Run ``code`` as one cell in a grading kernel; with ``hogs`` busy processes sharing one CPU
    with the kernel (the kernel and its processes pinned to that CPU too)."""
    with tempfile.TemporaryDirectory() as tmp:
        session = KernelSession(settings, Path(tmp))
        busy = []
        try:
            assert session.start() == ""
            if hogs:
                cpu = min(os.sched_getaffinity(0))
                for pid in tree_pids(session.km.kernel_pid()):      # the kernel, fresh or forked
                    os.sched_setaffinity(pid, {cpu})
                busy = [subprocess.Popen([sys.executable, "-c", f"import os\nos.sched_setaffinity(0, {{{cpu}}})\n"
                                          "while True:\n    pass"], start_new_session=True)
                        for _ in range(hogs)]             # own sessions: own autogroups, as other programs
            cell = nbformat.v4.new_code_cell(code)
            started = time.monotonic()
            result = session.run(cell, 0)
            return result, time.monotonic() - started, cell
        finally:
            for p in busy:
                p.kill()
                p.wait()
            session.close()


@pytest.mark.slow
def test_a_cell_starved_by_a_busy_machine_finishes(settings):
    """1 s of CPU work under a 3 s limit, on a CPU shared with 4 busy processes: it takes about
    5 s of wall-clock time and is not stopped (a wall-clock limit would have)."""
    result, seconds, cell = _run(replace(settings, cell_timeout=3), BUSY.format(cpu=1.0), hogs=4)
    assert result.status == "ok", (result, cell.outputs)
    assert seconds > 3, f"the machine was not busy enough to test anything ({seconds:.1f} s)"
    assert "done" in "".join(o.get("text", "") for o in cell.outputs)


@pytest.mark.slow
@pytest.mark.parametrize("code, why", [
    ("while True:\n    pass", "the cell used more than 2 s of CPU time and was stopped"),
    ("import time\ntime.sleep(10 ** 6)", "the cell ran longer than 2 s and was stopped")])
def test_a_cell_that_computes_or_waits_too_long_is_stopped(settings, code, why):
    result, seconds, _ = _run(replace(settings, cell_timeout=2), code)
    assert (result.status, result.evalue) == ("timeout", why)
    assert seconds < 2 * session_module.WALL_FACTOR + 10


@pytest.mark.slow
def test_rendering_the_figures_for_the_instructor_cannot_stall_grading(settings):
    """A figure whose drawing never ends (the student's own artist) costs at most
    FIGURES_SECONDS; the figures drawn before it are kept."""
    code = ("import matplotlib.pyplot as plt, time\nfrom matplotlib.artist import Artist\n"
            "plt.figure(); plt.plot([1, 2])\n"
            "class Stall(Artist):\n    def draw(self, renderer):\n        time.sleep(10 ** 6)\n"
            "plt.figure().add_artist(Stall())")
    with tempfile.TemporaryDirectory() as tmp:
        session = KernelSession(settings, Path(tmp))
        try:
            assert session.start() == ""
            assert session.run(nbformat.v4.new_code_cell(code), 0).status == "ok"
            started = time.monotonic()
            figures = session.figures()
            assert time.monotonic() - started < session_module.FIGURES_SECONDS + 15
        finally:
            session.close()
    assert len(figures) == 1
