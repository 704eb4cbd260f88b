"""Pre-warmed kernels (issue 16): each property of ``execution/zygote.py`` and the fork server,
tried from inside real forked kernels. The escape tests of issue 12 run against them in
test_sandbox_policy.py::test_inside_the_sandbox[prewarmed], and every case of tests/submissions
is graded with them (kernel_mode "auto" is the default wherever the sandbox runs)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from course_grader.config import CourseError
from course_grader.execution import bwrap, zygote
from course_grader.execution.client import kernel_responds
from course_grader.execution.session import KernelSession, run_notebook
from course_grader.grading.grade import grade_notebook

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed"),
              pytest.mark.xdist_group("zygote")]


@pytest.fixture
def prewarmed(settings):
    s = replace(settings, sandbox="require", kernel_mode="prewarmed", cell_timeout=60)
    yield s
    zygote.close_all()


def run_cells(settings, workdir: Path, *sources: str) -> list[str]:
    """Run ``sources`` as one notebook's cells in a new kernel; each cell's printed text."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    run = run_notebook(nb, workdir, settings)
    assert not run.fatal, run.fatal
    texts = []
    for cell in run.notebook.cells:
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        assert not errors, errors
        texts.append("".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream"))
    return texts


def report(text: str) -> dict:
    return json.loads(text.split("REPORT", 1)[1])


#: the sleeps the kernels leave behind carry this run's pid in their duration ("606.<pid>"): the
#: host's process list is searched for them, and the same tests may run at the same time as
#: another user (test_as_normal_user.py runs this file as uid 1000 beside the root run)
RUN = f"{os.getpid():07d}"          # one width for every pid: no run's mark begins another's


def sleeping(n: int) -> str:
    """The argument of this run's ``sleep`` number ``n`` (606-609), e.g. "606.12345"."""
    return f"{n}.{RUN}"


LEAVE = textwrap.dedent("""\
    import os, random, subprocess, torch, numpy as np, matplotlib, matplotlib.pyplot as plt
    import course_utils
    course_utils.LEFT_BEHIND = 1
    LEFT_GLOBAL = 1
    torch.manual_seed(1234); np.random.seed(1234); random.seed(1234)
    torch.add = lambda *a, **k: "patched"
    torch.set_default_dtype(torch.float64)
    torch.set_grad_enabled(False)
    matplotlib.rcParams["lines.linewidth"] = 9
    np.set_printoptions(precision=1)
    plt.figure(); plt.plot([1, 2])
    import gc; gc.disable(); gc.set_threshold(5)
    for folder in ("/tmp", "/dev/shm", "."):
        open(os.path.join(folder, "left_behind"), "w").write("x")
    subprocess.Popen(["sleep", "606.5"], start_new_session=True)          # a leftover process
    if os.fork() == 0:                                                     # and a daemon
        os.setsid()
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "607.5"])
        os._exit(0)
    print("left")
""").replace("606.5", sleeping(606)).replace("607.5", sleeping(607))

CHECK = textwrap.dedent("""\
    import os, gc, json, random, sys, weakref, torch, numpy as np, matplotlib, matplotlib.pyplot as plt
    import course_utils
    class Cycle: pass
    first = Cycle(); first.me = first; first_alive = weakref.ref(first); del first
    for _ in range(20000):                # the collector, if on, frees the first cycle by itself
        again = Cycle(); again.me = again
    print("REPORT" + json.dumps({
        "gc": [gc.isenabled(), gc.get_threshold(), first_alive() is None],
        "module_attr": hasattr(course_utils, "LEFT_BEHIND"),
        "global": "LEFT_GLOBAL" in globals(),
        "torch_add": torch.add(torch.ones(1), 1).tolist(),
        "dtype": str(torch.get_default_dtype()),
        "grad": torch.is_grad_enabled(),
        "rcParams": matplotlib.rcParams["lines.linewidth"],
        "printoptions": np.get_printoptions()["precision"],
        "figures": plt.get_fignums(),
        "files": [f for f in ("/tmp/left_behind", "/dev/shm/left_behind", "left_behind") if os.path.exists(f)],
        "draws": [torch.rand(2).tolist(), np.random.rand(2).tolist(), random.random()],
        "hash": hash("seeded"),
    }))
""")


def host_processes(word: str) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if word in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                found.append(int(pid))
        except OSError:
            pass
    return found


def test_nothing_of_one_kernel_reaches_the_next(prewarmed, settings, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "c").mkdir()
    assert run_cells(prewarmed, tmp_path / "a", LEAVE) == ["left\n"]
    deadline = time.monotonic() + 10
    while (host_processes(sleeping(606)) or host_processes(sleeping(607))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert host_processes(sleeping(606)) == [] and host_processes(sleeping(607)) == []
    after = report(run_cells(prewarmed, tmp_path / "b", CHECK)[0])
    fresh = report(run_cells(replace(settings, sandbox="require", kernel_mode="fresh"), tmp_path / "c", CHECK)[0])
    assert after == fresh, (after, fresh)          # seeded draws and hash seed as a fresh kernel's
    assert after["module_attr"] is False and after["global"] is False
    assert after["torch_add"] == [2.0] and after["dtype"] == "torch.float32" and after["grad"] is True
    assert after["rcParams"] != 9 and after["printoptions"] == 8
    assert after["figures"] == [] and after["files"] == []
    assert after["gc"][0] is True and after["gc"][2] is True   # the server's collector is off; a kernel's on


NEIGHBOUR = textwrap.dedent("""\
    import os, json, socket, signal
    out = {"seen": {p: os.path.exists(p) for p in PATHS}, "signalled": [], "traced": []}
    mine = os.getpid()
    for pid in range(1, 400):
        if pid == mine:
            continue
        try:
            os.kill(pid, 0)
            out["signalled"].append(pid)
        except OSError:
            pass
    for entry in filter(str.isdigit, os.listdir("/proc")):
        for name in ("environ", "mem", "root/tmp"):
            try:
                path = f"/proc/{entry}/{name}"
                os.listdir(path) if name.startswith("root") else open(path, "rb").read(1)
                out["traced"].append(path)
            except OSError:
                pass
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(SERVER); out["server"] = "CONNECTED"
    except OSError as e:
        out["server"] = type(e).__name__
    out["userns"] = __import__("ctypes").CDLL(None).unshare(0x10000000) == 0
    print("REPORT" + json.dumps(out))
""")


def test_kernels_cannot_reach_each_other_or_the_server(prewarmed, tmp_path):
    """Two kernels of one server alive at once: the second sees nothing of the first's files,
    cannot signal or trace it, the server or anything outside its own pid namespace, and cannot
    reach the server's socket."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = KernelSession(prewarmed, tmp_path / "a")
    try:
        assert first.start() == ""
        cell = nbformat.v4.new_code_cell("import os; open('/tmp/mine', 'w').write('a'); "
                                         "open('mine', 'w').write('a'); print(os.getcwd())")
        assert first.run(cell, 0).status == "ok"
        first_work = cell.outputs[0]["text"].strip()
        server = zygote._servers[next(iter(zygote._servers))]
        paths = [first_work, first_work + "/mine", str(server.socket), str(server.spool / "server"),
                 str(Path(first.km.ipc_dir) / "connection.json")]
        code = f"PATHS = {paths!r}\nSERVER = {str(server.socket)!r}\n" + NEIGHBOUR
        out = report(run_cells(prewarmed, tmp_path / "b", code)[0])
        assert not any(out["seen"].values()), out["seen"]
        # its own pid namespace: pid 1 (its reaper), its own threads; nothing of the first kernel's
        assert all(pid < 40 for pid in out["signalled"]), out
        # /proc shows the server's pid numbers; the kernel can trace its own entry only
        assert len({p.split("/")[2] for p in out["traced"]}) <= 1, out["traced"]
        assert out["server"] != "CONNECTED" and out["userns"] is False
        assert kernel_responds(first.client, wait=10)     # the first kernel lives on, untouched
        again = nbformat.v4.new_code_cell("print(open('/tmp/mine').read() + open('mine').read())")
        assert first.run(again, 1).status == "ok" and again.outputs[0]["text"] == "aa\n"
    finally:
        first.close()


def _gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or "Z" == Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]:
            return True
        time.sleep(0.1)
    return False


def test_a_kernel_dies_with_its_relay(prewarmed, tmp_path):
    session = KernelSession(prewarmed, tmp_path)
    try:
        assert session.start() == ""
        cell = nbformat.v4.new_code_cell(f"import subprocess; subprocess.Popen(['sleep', '{sleeping(608)}'], "
                                         "start_new_session=True); print('ok')")
        assert session.run(cell, 0).status == "ok"
        child = session.km.kernel_pid()
        assert child and child != session.km.process.pid
        deadline = time.monotonic() + 5          # the kernel's process list, read from the host
        while not host_processes(sleeping(608)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert host_processes(sleeping(608)), "the kernel's child process never showed on the host"
        session.km.process.kill()                 # the relay goes: so do the kernel and its tree
        assert _gone(child)
        deadline = time.monotonic() + 10
        while host_processes(sleeping(608)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert host_processes(sleeping(608)) == []
    finally:
        session.close()


GRADER = textwrap.dedent("""\
    import sys, nbformat
    from dataclasses import replace
    from pathlib import Path
    from course_grader.config import load_settings
    from course_grader.execution.session import KernelSession
    s = replace(load_settings(Path(sys.argv[1])), sandbox="require", kernel_mode="prewarmed")
    session = KernelSession(s, Path(sys.argv[2]))
    assert session.start() == ""
    cell = nbformat.v4.new_code_cell("import subprocess; subprocess.Popen(['sleep', '609.5'], start_new_session=True)")
    session.run(cell, 0)
    print(session.km.kernel_pid(), session.km.server.process.pid, flush=True)
    import os; os._exit(0)                     # the grader dies without cleaning up
""").replace("609.5", sleeping(609))


def test_kernels_and_server_die_with_the_grader(tmp_path):
    out = subprocess.run([sys.executable, "-c", GRADER, str(ROOT), str(tmp_path)], capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    child, server = map(int, out.stdout.split())
    assert _gone(child) and _gone(server)
    deadline = time.monotonic() + 10
    while host_processes(sleeping(609)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert host_processes(sleeping(609)) == []


def test_modes_and_fallback(settings, tmp_path, monkeypatch, capsys):
    with pytest.raises(CourseError, match="kernel_mode must be one of"):
        zygote.mode(replace(settings, kernel_mode="warm"))
    assert zygote.mode(replace(settings, kernel_mode="fresh")) == ("fresh", "c.Course.kernel_mode = 'fresh'")
    monkeypatch.setattr(bwrap, "running_as_root", lambda: False)
    off = replace(settings, sandbox="off")
    assert zygote.mode(off)[0] == "fresh" and "need the bubblewrap sandbox" in zygote.mode(off)[1]
    with pytest.raises(CourseError, match="kernel_mode = 'prewarmed' but pre-warmed kernels need"):
        zygote.mode(replace(off, kernel_mode="prewarmed"))
    # a server that cannot start: "auto" grades with fresh kernels and says why, once (a server
    # an earlier test of this process left running, such as an in-process `course check`'s, goes
    # first: this one must start its own)
    zygote.close_all()
    monkeypatch.setattr(zygote, "SERVER_CODE", "raise SystemExit('zygote: broken on purpose')")
    auto = replace(settings, sandbox="require", kernel_mode="auto")
    zygote.begin()
    try:
        assert run_cells(auto, tmp_path, "print(1 + 1)") == ["2\n"]
        assert "zygote: broken on purpose" in capsys.readouterr().err
        assert "kernels: fresh" in zygote.describe(auto) and "broken on purpose" in zygote.describe(auto)
        with pytest.raises(CourseError, match="broken on purpose"):
            zygote.server_for(replace(auto, kernel_mode="prewarmed"))
    finally:
        zygote.close_all()


def test_a_batch_summary_says_when_its_workers_kernels_started_fresh(settings, tmp_path, monkeypatch):
    """With --jobs 2 each worker has its own fork server; when theirs cannot start, the batch's
    summary (in the grading process) says the kernels started fresh, and why."""
    from course_grader.grading.batch import grade_folder
    from course_grader.grading.grade import reference_records

    auto = replace(settings, sandbox="require", kernel_mode="auto")
    reference_records(auto, "pooling")        # cached: the batch's own process starts no kernel
    for student in ("ann", "bob"):
        path = tmp_path / "submitted" / student / "pooling" / "pooling.ipynb"
        path.parent.mkdir(parents=True)
        shutil.copy(ROOT / "release" / "pooling" / "pooling.ipynb", path)
    monkeypatch.setattr(zygote, "SERVER_CODE", "raise SystemExit('zygote: broken in the workers')")
    try:
        results = grade_folder(auto, tmp_path / "submitted", tmp_path / "out", jobs=2, progress=False)
    finally:
        zygote.close_all()
    assert [(r.student, r.status, r.score) for r in results] == [("ann", "graded", 0), ("bob", "graded", 0)]
    line = zygote.describe(auto)
    assert line.startswith("kernels: fresh") and "broken in the workers" in line, line


def test_a_dead_server_is_started_again(prewarmed, tmp_path):
    assert run_cells(prewarmed, tmp_path, "print(3)") == ["3\n"]
    first = zygote.server_for(prewarmed)[0]
    os.killpg(first.process.pid, signal.SIGKILL)
    first.process.wait(timeout=10)
    assert run_cells(prewarmed, tmp_path, "print(4)") == ["4\n"]
    assert zygote.server_for(prewarmed)[0] is not first
    assert "pre-warmed" in zygote.describe(prewarmed)


@pytest.mark.parametrize("notebook", ["source", "release"])
def test_same_grades_as_fresh_kernels(settings, tmp_path, notebook):
    """The reference and the untouched release, graded both ways: every test's points and message
    equal (the submissions cases and the variants harness grade with the default, pre-warmed)."""
    src = ROOT / notebook / "pooling" / "pooling.ipynb"
    got = {}
    for kernel_mode in ("fresh", "prewarmed"):
        path = tmp_path / kernel_mode / "student" / "pooling" / "pooling.ipynb"
        path.parent.mkdir(parents=True)
        shutil.copy(src, path)
        result, _ = grade_notebook(replace(settings, sandbox="require", kernel_mode=kernel_mode), "pooling", path,
                                   student="student")
        got[kernel_mode] = [(t.name, t.points, t.message) for t in result.tests], result.score, result.status
    zygote.close_all()
    assert got["fresh"] == got["prewarmed"]
    assert got["fresh"][1] == (26 if notebook == "source" else 0)


def test_a_forked_kernel_runs_worker_processes_and_gradcheck(prewarmed, tmp_path):
    """What a notebook may do that forking could break: DataLoader worker processes (forked
    again from the forked kernel) and torch's gradcheck."""
    code = textwrap.dedent("""\
        import torch
        from torch.utils.data import DataLoader, TensorDataset
        data = TensorDataset(torch.arange(40.0).reshape(20, 2))
        batches = lambda workers: [b[0].sum().item() for b in DataLoader(data, batch_size=4, num_workers=workers)]
        x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
        print(batches(2) == batches(0), len(batches(2)),
              torch.autograd.gradcheck(lambda t: (t.tanh() * t).sum(), (x,)))
    """)
    assert run_cells(prewarmed, tmp_path, code) == ["True 5 True\n"]


def test_what_the_sandbox_binds_under_tmp_stays_visible_read_only(prewarmed, tmp_path, monkeypatch):
    """A forked kernel gets a fresh /tmp, but what the sandbox binds there (a CI virtual
    environment, or here the data set) is bound again, read-only."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "marker.txt").write_text("here")
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    code = textwrap.dedent("""\
        import os
        root = os.environ["COURSE_DATA_DIR"]
        try:
            open(os.path.join(root, "planted"), "w")
            writable = True
        except OSError:
            writable = False
        print(open(os.path.join(root, "marker.txt")).read(), writable, *sorted(os.listdir("/tmp")))
    """)
    marker, writable, *in_tmp = run_cells(prewarmed, tmp_path / "work", code)[0].split()
    assert (marker, writable) == ("here", "False") and not (data / "planted").exists()
    # nothing else of the host's /tmp: the sandbox's read-only folders there (the data set, a
    # virtual environment under /tmp as CI's), and the kernel's own spool path
    bound = {f.parts[2] for f in bwrap._read_only_folders(prewarmed, ()) if f.parts[1] == "tmp"}
    assert str(data).split("/")[2] in bound
    assert sorted(n if n in bound else n[:14] for n in in_tmp) == sorted([*bound, "course-zygote-"])


@pytest.mark.parametrize("kernel_mode", ["fresh", "prewarmed"])
def test_the_grader_s_own_cells_leave_no_history(settings, tmp_path, kernel_mode):
    """The prelude, the guard before each test cell and the figures page's cells are not stored
    in the kernel's history: the notebook's cells are numbered 1, 2, 3 as in a plain "Run all",
    and IPython's ``In`` holds the notebook's cells alone."""
    test_cell = nbformat.v4.new_code_cell("print(len(In), any('_course' + '_guard' in c for c in In))")
    test_cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 1, "solution": False,
                                      "locked": True}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), test_cell,
                                         nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\n"
                                                                   "plt.plot([1, 2]); x += 1")])
    s = replace(settings, sandbox="require", kernel_mode=kernel_mode, cell_timeout=60)
    try:
        run = run_notebook(nb, tmp_path, s, figures=True)
    finally:
        zygote.close_all()
    assert not run.fatal, run.fatal
    assert [c.execution_count for c in run.notebook.cells] == [1, 2, 3]
    printed = "".join(o.get("text", "") for o in run.notebook.cells[1].outputs)
    assert printed == "3 False\n", printed        # In[0] is "", then the notebook's two cells so far
    assert len(run.figures) == 1


def test_the_server_holds_no_file_a_kernel_would_inherit(prewarmed, tmp_path):
    """What the server preloads (torch, matplotlib with a figure drawn once, when it is idle after
    its first kernel: fonts, the math parser) leaves no file open: a kernel closes every
    descriptor above its stdio, so an object kept across the fork that owned one (a font file)
    would later read a closed or reused one."""
    from course_grader.execution.processes import tree_pids
    server, why = zygote.server_for(prewarmed)
    assert server is not None, why
    assert run_cells(prewarmed, tmp_path, "print(1)") == ["1\n"]
    deadline = time.monotonic() + 30
    while "draw_once done" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "draw_once done" in server.log.read_text(), server.log.read_text()[-2000:]
    def is_python(pid):          # a child that has exited and waits to be reaped has no exe
        try:
            return os.readlink(f"/proc/{pid}/exe").rsplit("/", 1)[-1].startswith("python")
        except OSError:
            return False
    def pythons():
        return [p for p in tree_pids(server.process.pid) if is_python(p)]
    deadline = time.monotonic() + 30   # the kernel just shut down may still be exiting (seen in CI)
    while len(pythons()) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    python = pythons()
    assert len(python) == 1, python
    held = {}
    for fd in os.listdir(f"/proc/{python[0]}/fd"):
        try:
            held[int(fd)] = os.readlink(f"/proc/{python[0]}/fd/{fd}")
        except OSError:
            pass
    beyond_stdio = {fd: target for fd, target in held.items() if fd > 2}
    assert len(beyond_stdio) == 1 and next(iter(beyond_stdio.values())).startswith("socket:"), held


def test_one_kernel_commands_under_auto(settings, monkeypatch, tmp_path):
    """Gradescope's autograder grades one notebook in a container whose memory the instructor
    sets: under ``auto`` a fresh kernel (a fork server and its kernel hold about twice a fresh
    kernel's memory); a mode set by hand is kept. ``course check`` keeps ``auto`` even with the
    reference records cached: its fork server imports torch while the grader starts (3.0 s end
    to end for the conv reference, 4.4 s fresh)."""
    assert zygote.for_one_kernel(replace(settings, kernel_mode="auto")).kernel_mode == "fresh"
    for kept in ("fresh", "prewarmed"):
        assert zygote.for_one_kernel(replace(settings, kernel_mode=kept)).kernel_mode == kept

    from course_grader import cli
    from course_grader.grading import reference

    class Warmed(Exception):
        pass

    def warm(s, hidden=()):
        raise Warmed(s.kernel_mode)

    cached = tmp_path / "records.json"
    cached.write_text("{}")
    monkeypatch.setattr(cli, "_settings", lambda: replace(settings, kernel_mode="auto"))
    monkeypatch.setattr(reference, "cache_path", lambda *a, **k: cached)
    monkeypatch.setattr(zygote, "warm", warm)
    with pytest.raises(Warmed) as warmed:
        cli.main(["check", str(ROOT / "source" / "pooling" / "pooling.ipynb")])
    assert str(warmed.value) == "auto"

@pytest.mark.parametrize("kernel_mode", ["fresh", "prewarmed"])
def test_what_a_kernel_writes_to_its_own_stdout_stays_out_of_the_graders_console(settings, tmp_path,
                                                                                kernel_mode, capfd):
    """``os.write(1, ...)``, a subprocess's output and C libraries' messages reach the kernel
    process's own file descriptors: ipykernel shows them in the cell, and echoed them to the
    grader's console too (a flood there from any submission). They now go to a pipe whose last
    4 KB the grader keeps (``launch.KernelConsole``)."""
    from course_grader.execution import launch

    s = replace(settings, sandbox="require", kernel_mode=kernel_mode, cell_timeout=60)
    consoles = []
    console = launch.KernelConsole

    class Kept(console):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            consoles.append(self)

    capfd.readouterr()
    try:
        launch.KernelConsole = Kept
        texts = run_cells(s, tmp_path, "import os, subprocess\n"
                                       "os.write(1, b'FLOOD-OUT ' * 200000)\n"
                                       "os.write(2, b'FLOOD-ERR\\n')\n"
                                       "subprocess.run(['echo', 'FLOOD-SUB'])\n"
                                       "print('done')")
    finally:
        launch.KernelConsole = console
        zygote.close_all()
    assert "FLOOD-OUT" in texts[0]               # the cell still shows it (up to its 200 kB of output)
    seen = capfd.readouterr()
    assert "FLOOD" not in seen.out and "FLOOD" not in seen.err
    assert len(consoles) == 1
    consoles[0]._reader.join(10)
    assert consoles[0].total >= 2_000_000 and len(consoles[0]._tail) <= 4096
    assert "FLOOD-SUB" in consoles[0].tail()


def test_a_kernel_that_cannot_start_says_what_it_wrote(settings, tmp_path):
    """Before any of the notebook's code runs, the last lines the kernel's process wrote (here
    the limits wrapper's error: a memory limit too small for Python) are added to the reason the
    row gives."""
    s = replace(settings, sandbox="require", kernel_mode="fresh", memory_limit_mb=16, startup_timeout=30)
    run = run_notebook(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")]), tmp_path, s)
    assert run.fatal.startswith("the kernel failed"), run.fatal
    assert "; it wrote: " in run.fatal, run.fatal
