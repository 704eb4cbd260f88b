"""Reading submissions safely (course_grader.grading.intake): links, FIFOs, devices, folders and
oversized files are refused with a reason, and nothing blocks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from course_grader.grading import intake
from course_grader.config import CourseError
from course_grader.grading.intake import SubmissionError, list_submission_files, open_submission
from tests.conftest import ROOT

NB = json.dumps({"cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [],
                            "execution_count": None}], "metadata": {}, "nbformat": 4,
                 "nbformat_minor": 5}).encode()


@pytest.fixture
def batch(tmp_path):
    """submitted/alice/pool/pool.ipynb, submitted/bob/pool/pool.ipynb and a source notebook."""
    for student in ("alice", "bob"):
        folder = tmp_path / "submitted" / student / "pool"
        folder.mkdir(parents=True)
        (folder / "pool.ipynb").write_bytes(NB)
    (tmp_path / "source" / "pool").mkdir(parents=True)
    (tmp_path / "source" / "pool" / "pool.ipynb").write_bytes(b'{"solutions": true}')
    return tmp_path


def alice(batch):
    return batch / "submitted" / "alice"


def refused(path, root, max_bytes=10_000) -> str:
    with pytest.raises(SubmissionError) as info:
        open_submission(path, root, max_bytes)
    return str(info.value)


def test_a_normal_file_is_read(batch):
    assert open_submission(alice(batch) / "pool" / "pool.ipynb", alice(batch), 10_000) == NB
    assert issubclass(SubmissionError, CourseError)


def test_a_link_to_another_file_in_the_folder_is_refused(batch):
    folder = alice(batch) / "pool"
    (folder / "real.ipynb").write_bytes(NB)
    (folder / "pool.ipynb").unlink()
    (folder / "pool.ipynb").symlink_to("real.ipynb")
    assert "symbolic link" in refused(folder / "pool.ipynb", alice(batch))


def test_a_link_to_the_source_notebook_is_refused(batch):
    target = alice(batch) / "pool" / "pool.ipynb"
    target.unlink()
    target.symlink_to("../../../source/pool/pool.ipynb")
    message = refused(target, alice(batch))
    assert "symbolic link" in message and "solutions" not in message


def test_a_link_to_another_students_notebook_or_folder_is_refused(batch):
    target = alice(batch) / "pool" / "pool.ipynb"
    target.unlink()
    target.symlink_to(batch / "submitted" / "bob" / "pool" / "pool.ipynb")
    assert "symbolic link" in refused(target, alice(batch))
    folder = alice(batch) / "pool"
    target.unlink()
    folder.rmdir()
    folder.symlink_to(batch / "submitted" / "bob" / "pool")
    message = refused(folder / "pool.ipynb", alice(batch))
    assert "'pool' on its path is a symbolic link" in message


def test_a_linked_student_folder_is_refused(batch):
    carol = batch / "submitted" / "carol"
    carol.symlink_to(batch / "submitted" / "bob")
    assert "symbolic link" in refused(carol / "pool" / "pool.ipynb", carol)


def test_a_path_outside_the_students_folder_is_refused(batch):
    assert "outside the student's folder" in refused(batch / "source" / "pool" / "pool.ipynb", alice(batch))
    assert "outside" in refused(alice(batch) / ".." / "bob" / "pool" / "pool.ipynb", alice(batch))
    assert "not a file inside" in refused(alice(batch), alice(batch))


def test_a_link_to_dev_zero_is_refused(batch):
    target = alice(batch) / "pool" / "pool.ipynb"
    target.unlink()
    target.symlink_to("/dev/zero")
    assert "symbolic link" in refused(target, alice(batch))


def test_a_folder_named_like_the_notebook_is_refused(batch):
    target = alice(batch) / "pool" / "pool.ipynb"
    target.unlink()
    target.mkdir()
    assert "folder" in refused(target, alice(batch))


def test_a_missing_file_says_so(batch):
    assert "no such file" in refused(alice(batch) / "pool" / "other.ipynb", alice(batch))


def test_a_hard_link_is_refused(batch):
    target = alice(batch) / "pool" / "pool.ipynb"
    os.link(target, alice(batch) / "pool" / "copy.ipynb")
    assert "hard link" in refused(target, alice(batch))


def test_an_oversized_file_is_refused(batch):
    target = alice(batch) / "pool" / "pool.ipynb"
    target.write_bytes(b"x" * 10_001)
    assert "larger than the limit" in refused(target, alice(batch), max_bytes=10_000)
    target.write_bytes(b"x" * 10_000)
    assert open_submission(target, alice(batch), 10_000) == b"x" * 10_000


def test_an_oversized_notebook_says_to_clear_its_outputs(batch):
    """A notebook is usually that large for its saved figures and printouts, which grading never
    reads: the reason says how to clear them (it is an error row, never a 0 the student earned)."""
    target = alice(batch) / "pool" / "pool.ipynb"
    target.write_bytes(b"x" * 10_001)
    with pytest.raises(SubmissionError) as info:
        intake.read_submission_notebook(target, alice(batch), max_bytes=10_000)
    assert "larger than the limit" in str(info.value) and "Clear all outputs" in str(info.value)


def with_outputs(output_chars: int, markdown_chars: int = 0) -> bytes:
    """A notebook whose code cell saved ``output_chars`` characters of figure, and a markdown
    cell of ``markdown_chars`` characters."""
    cells = [{"cell_type": "code", "source": "x = 1", "metadata": {}, "execution_count": 3,
              "outputs": [{"output_type": "display_data", "metadata": {},
                           "data": {"image/png": "A" * output_chars, "text/plain": "<Figure>"}}]},
             {"cell_type": "markdown", "source": "y" * markdown_chars, "metadata": {}}]
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4,
                       "nbformat_minor": 5}).encode()


def test_a_notebook_large_for_its_saved_outputs_is_read_without_them_and_says_so(batch):
    """Grading never reads saved outputs: a notebook over the limit only for them is graded (its
    outputs cleared in a process of its own), not refused."""
    target = alice(batch) / "pool" / "pool.ipynb"
    target.write_bytes(with_outputs(30_000, markdown_chars=100))
    notes = []
    data = intake.read_submission_notebook(target, alice(batch), max_bytes=10_000, notes=notes)
    assert data["cells"][0]["outputs"] == [] and data["cells"][0]["source"] == "x = 1"
    assert data["cells"][1]["source"] == "y" * 100 and data["metadata"] == {"kernelspec": {"name": "python3"}}
    assert len(notes) == 1 and notes[0].startswith("pool/pool.ipynb is 30,") and (
        "over the limit of 10,000 bytes: they were cleared before grading" in notes[0])
    small = with_outputs(100)                      # within the limit: read as it is, no note
    target.write_bytes(small)
    notes = []
    assert intake.read_submission_notebook(target, alice(batch), max_bytes=10_000, notes=notes)["cells"][0][
        "outputs"][0]["data"]["image/png"] == "A" * 100 and notes == []


def test_a_notebook_too_large_without_its_outputs_or_beyond_the_outer_limit_is_refused(batch):
    target = alice(batch) / "pool" / "pool.ipynb"
    target.write_bytes(with_outputs(5_000, markdown_chars=12_000))
    with pytest.raises(SubmissionError, match=r"larger than the limit of 10,000 bytes, also without its saved "
                                              r"outputs \(12,\d+ bytes\): remove what makes it that large"):
        intake.read_submission_notebook(target, alice(batch), max_bytes=10_000)
    target.write_bytes(with_outputs(30_000))
    with pytest.raises(SubmissionError, match="larger than the limit of 20,000 bytes.*Clear all outputs"):
        intake.read_submission_notebook(target, alice(batch), max_bytes=10_000, max_with_outputs=20_000)


@pytest.mark.parametrize("raw, limits, why", [
    (b"[" + b"[]," * 6_000_000 + b"[]]", {"memory": 256 * 2**20}, r"could not be read.*MemoryError"),
    (with_outputs(5_000_000), {"seconds": 0.001}, r"could not be cleared within 0.001 s"),
    (b'{"cells": 3}', {}, "JSON but not a notebook"),
    (NB + b"\0" * 100, {}, r"could not be read.*Extra data"),
    (b"\xff" * 20_000, {}, r"could not be read.*UnicodeDecodeError"),
])
def test_clearing_outputs_is_bounded_and_refuses_what_is_not_a_notebook(raw, limits, why):
    """A notebook's parsed JSON can take many times its size: it is parsed in a process of its
    own, under a memory and a time limit, never in the grader's."""
    with pytest.raises(SubmissionError, match=why):
        intake.without_outputs(raw, "pool.ipynb", 10, **limits)


def test_a_fifo_is_refused_without_blocking(batch):
    """In a child process with a time limit: a blocking open would hang this test forever."""
    target = alice(batch) / "pool" / "pool.ipynb"
    target.unlink()
    os.mkfifo(target)
    code = textwrap.dedent(f"""
        from course_grader.grading.intake import open_submission, SubmissionError
        try:
            open_submission({str(target)!r}, {str(alice(batch))!r}, 10_000)
        except SubmissionError as e:
            print(e)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert "FIFO" in done.stdout, done.stderr


def test_a_socket_is_refused(batch):
    import socket

    target = alice(batch) / "pool" / "pool.ipynb"
    target.unlink()
    with socket.socket(socket.AF_UNIX) as server:
        try:
            server.bind(str(target))
        except OSError:
            pytest.skip("the path is too long for a Unix socket")
        assert "socket" in refused(target, alice(batch))


# ---------------------------------------------------------------------------- folders


def test_list_submission_files(batch):
    folder = alice(batch) / "pool"
    (folder / "data").mkdir()
    (folder / "data" / "notes.txt").write_bytes(b"abc")
    assert list_submission_files(folder, 10_000) == [
        __import__("pathlib").Path("data/notes.txt"), __import__("pathlib").Path("pool.ipynb")]


@pytest.mark.parametrize("make, why", [
    (lambda f, b: (f / "link.ipynb").symlink_to(b / "submitted" / "bob" / "pool" / "pool.ipynb"), "symbolic link"),
    (lambda f, b: (f / "dir").symlink_to(b / "source"), "symbolic link"),
    (lambda f, b: os.mkfifo(f / "pipe"), "FIFO"),
    (lambda f, b: (f / "zero").symlink_to("/dev/zero"), "symbolic link"),
    (lambda f, b: (f / "big.bin").write_bytes(b"x" * 20_000), "larger than the limit"),
    (lambda f, b: [(f / f"part{i}").write_bytes(b"x" * 4_000) for i in range(3)], "add up to more than"),
    (lambda f, b: os.link(f / "pool.ipynb", f / "again.ipynb"), "hard link"),
])
def test_list_submission_files_refuses(batch, make, why):
    folder = alice(batch) / "pool"
    make(folder, batch)
    with pytest.raises(SubmissionError, match=why):
        list_submission_files(folder, 10_000)


def test_list_submission_files_refuses_a_linked_folder_and_too_many_files(batch):
    link = batch / "submitted" / "carol"
    link.symlink_to(batch / "submitted" / "bob")
    with pytest.raises(SubmissionError, match="symbolic link"):
        list_submission_files(link, 10_000)
    folder = alice(batch) / "pool"
    for i in range(5):
        (folder / f"f{i}").write_bytes(b"")
    with pytest.raises(SubmissionError, match="more than 3 files"):
        list_submission_files(folder, 10_000, max_files=3)


# ---------------------------------------------------------------------------- notebook JSON


def test_notebook_json_reads_a_notebook():
    assert intake.notebook_json(NB, "pool.ipynb")["nbformat"] == 4
    assert intake.MAX_NOTEBOOK_BYTES == 20 * 1024 * 1024


def test_a_huge_cell_is_refused_before_nbformat_reads_it():
    big = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["x" * 600, "y" * 600]}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    with pytest.raises(SubmissionError, match=r"cell 0 holds 1,200 characters, more than the limit of 1,000"):
        intake.notebook_json(json.dumps(big).encode(), "pool.ipynb", max_cell_chars=1000)
    assert intake.notebook_json(json.dumps(big).encode(), "pool.ipynb", max_cell_chars=1200)


@pytest.mark.parametrize("raw, why", [
    (b"\xff\xfe", "not UTF-8"),
    (b"{", "not valid notebook JSON"),
    (b"[1]", "not a notebook"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not valid notebook JSON|not a notebook"),
    (json.dumps({"cells": [{}] * 6}).encode(), "more than the limit of 5"),
])
def test_notebook_json_refuses(raw, why):
    with pytest.raises(SubmissionError, match=why):
        intake.notebook_json(raw, "pool.ipynb", max_cells=5)


def test_read_submission_notebook(batch):
    data = intake.read_submission_notebook(alice(batch) / "pool" / "pool.ipynb", alice(batch))
    assert data["cells"][0]["source"] == "x = 1"


# ------------------------------------------------------- a notebook's structure (notebook.py)

def structure(**changes):
    """NB's JSON with ``changes`` applied: top-level keys, or ``cell=`` a dict of the cell's keys."""
    data = json.loads(NB)
    data["cells"].append({"cell_type": "markdown", "source": ["# Title\n", "text"], "metadata": {}})
    for key, value in changes.pop("cell", {}).items():
        data["cells"][0][key] = value
    data.update(changes)
    return data


@pytest.mark.parametrize("changes, why", [
    ({"cell": {"source": 123}}, "the source of cell 0 is int, not text"),
    ({"cell": {"source": ["x = 1\n", 5]}}, "the source of cell 0 is list, not text"),
    ({"cells": ["hello"]}, "cell 0 is str, not a cell"),
    ({"nbformat": "4"}, r"its format version \('4'.5\) is not a pair of whole numbers"),
    ({"nbformat_minor": "x"}, r"its format version \(4.'x'\) is not a pair of whole numbers"),
    ({"nbformat": True}, "is not a pair of whole numbers"),
    ({"nbformat": 3}, "is a notebook of format 3, not 4"),
])
def test_a_malformed_notebook_is_refused_with_the_reason(changes, why):
    """What Jupyter would not open either: the reason and what to do, never a grader crash
    (a source of 123 crashed `course check` with an AttributeError, a list of metadata too)."""
    from course_grader.notebook import NotebookError, notebook_from_json
    with pytest.raises(NotebookError, match=why) as info:
        notebook_from_json(structure(**changes), "pool.ipynb")
    assert "open it in Jupyter or Colab and save it again" in str(info.value)


def test_metadata_and_attachments_that_cannot_be_read_are_read_as_none():
    """A cell's or the notebook's metadata that is not an object is read as empty (the cell is then
    matched by its content, as when metadata were stripped); unreadable attachments of a markdown
    cell are dropped (they crashed the feedback page's export); a source of None is empty."""
    from course_grader.notebook import notebook_from_json
    nb = notebook_from_json(structure(metadata=[1], cell={"metadata": [], "source": None, "outputs": {}}),
                            "pool.ipynb")
    assert nb.metadata == {} and nb.cells[0].metadata == {} and nb.cells[0].source == "" and nb.cells[0].outputs == []
    assert nb.cells[1].source == "# Title\ntext"
    for bad in ([1], {"a.png": 5}, {"a.png": {3: "x"}}):
        data = structure()
        data["cells"][1]["attachments"] = bad
        assert "attachments" not in notebook_from_json(data, "pool.ipynb").cells[1]
    data = structure()
    data["cells"][1]["attachments"] = {"a.png": {"image/png": "iVBORw0KGgo="}}
    assert notebook_from_json(data, "pool.ipynb").cells[1].attachments == {"a.png": {"image/png": "iVBORw0KGgo="}}
