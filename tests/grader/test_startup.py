"""What a grading process imports before its first kernel starts (issue 16: a `course check` after
a push waits for these). Import times are measured by benchmarks/kernel_modes.py; these tests
check the causes: which modules get loaded."""
import json
import subprocess
import sys


def _modules_after(code: str, *names: str) -> dict:
    """Which of ``names`` are in sys.modules after running ``code`` in a new interpreter."""
    probe = f"{code}\nimport sys, json; print(json.dumps({{n: n in sys.modules for n in {list(names)!r}}}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_finding_the_data_set_and_starting_the_fork_server_import_no_torch(settings):
    # `course check` starts the fork server first thing; what the sandbox needs to know (the
    # data root) must not cost the grader a torch and torchvision import (once 3.8 s)
    code = (f"from course_grader.config import load_settings\n"
            f"from course_grader.execution import environment, bwrap\n"
            f"s = load_settings({str(settings.root)!r})\n"
            f"environment.data_dir(); environment.kernel_env(s, s.root); bwrap.decide(s)")
    assert _modules_after(code, "torch", "torchvision") == {"torch": False, "torchvision": False}


def test_reading_notebooks_skips_the_iri_grammar_and_still_validates(tmp_path):
    # jsonschema's optional IRI checker builds a grammar at import (about 1 s); the grader's
    # process goes without it, and nbformat still rejects an invalid notebook
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                               "cells": [{"cell_type": "code", "source": 3}]}))
    code = (f"import course_grader.assignment, nbformat\n"
            f"try:\n    nbformat.validate(nbformat.read({str(bad)!r}, as_version=4))\n"
            f"except nbformat.ValidationError:\n    print('invalid')\n")
    result = subprocess.run([sys.executable, "-c", code + "import sys; print('rfc3987_syntax' in sys.modules and sys.modules['rfc3987_syntax'] is not None)"],
                            capture_output=True, text=True, timeout=300)
    assert result.stdout.split() == ["invalid", "False"], result.stderr[-2000:]


def test_grading_a_notebook_never_imports_torch_in_the_graders_process(settings):
    # records are decoded and compared without torch, the reference cache is JSON, the test
    # labels are read from their file: torch (about 1.5 s) stays in the kernels
    nb = settings.root / "source" / "pooling" / "pooling.ipynb"
    code = (f"import sys\nfrom course_grader import cli\n"
            f"code = cli.main(['check', {str(nb)!r}])\n"
            f"assert code == 0, code\n")
    assert _modules_after(code, "torch", "torchvision") == {"torch": False, "torchvision": False}


def test_kernel_clients_retry_connecting_every_10_ms(tmp_path):
    # the client connects to a pre-warmed kernel about 0.1 s before the kernel listens; with
    # zmq's default 100 ms between attempts, half the starts waited for the next attempt
    from jupyter_client.connect import write_connection_file
    from course_grader.execution.launch import GradingKernelClient

    path, _ = write_connection_file(str(tmp_path / "kernel.json"), transport="ipc", ip=str(tmp_path / "k"))
    client = GradingKernelClient(connection_file=path)
    client.load_connection_file()
    sockets = [client._create_connected_socket(channel) for channel in ("shell", "iopub", "control")]
    try:
        assert [s.reconnect_ivl for s in sockets] == [10, 10, 10]
    finally:
        for s in sockets:
            s.close(linger=0)


def test_the_relay_runs_without_site_packages(settings):
    # the relay (the kernel command of a pre-warmed kernel) needs the standard library only;
    # without site it starts in about half the time
    import shutil
    from course_grader.execution.zygote import RELAY_CODE, ForkServer

    names = [n.strip() for line in RELAY_CODE.splitlines() if line.startswith("import ") for n in line[7:].split(",")]
    assert names and all(n in sys.stdlib_module_names for n in names), names
    server = ForkServer(settings, ())
    try:
        command = server.relay_command(settings, "box", "-", server.spool / "pid")
    finally:
        shutil.rmtree(server.spool, ignore_errors=True)
    assert command[1:5] == ["-I", "-S", "-c", RELAY_CODE]
