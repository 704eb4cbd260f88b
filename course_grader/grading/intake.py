"""Reading submissions safely, in the grader's process.

A submission folder is written by students (or unpacked from what they uploaded), so nothing in
it is trusted: a notebook may be a symbolic link (to the instructor's source notebook, to another
student's work, to ``/dev/zero``), a FIFO that blocks whoever opens it, a device, a folder, a hard
link to a file elsewhere, or just enormous. Everything here refuses those with a
:class:`SubmissionError` that says why, and never blocks:

* each path component below ``student_root`` (and ``student_root`` itself) is opened with
  ``O_NOFOLLOW`` relative to its parent's descriptor, so a link anywhere on the path is refused
  and nothing can be swapped in between a check and the read;
* the file itself is opened with ``O_NOFOLLOW | O_NONBLOCK`` (a FIFO opens at once instead of
  waiting for a writer), checked with ``fstat`` to be a regular file with a single link, and read
  for at most ``max_bytes + 1`` bytes.
"""
from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

from ..notebook import NotebookError

#: The largest notebook read (bytes).
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
#: A notebook over MAX_NOTEBOOK_BYTES but within this is read in a process of its own, under
#: OUTPUTS_MEMORY_BYTES of memory and OUTPUTS_SECONDS, which clears its saved outputs (figures,
#: printouts: grading never uses them) and hands back the rest (``without_outputs``); larger
#: still, or over MAX_NOTEBOOK_BYTES without its outputs, it is refused and the reason says what
#: to do.
MAX_NOTEBOOK_WITH_OUTPUTS_BYTES = 200 * 1024 * 1024
OUTPUTS_MEMORY_BYTES = 2 * 1024 ** 3
OUTPUTS_SECONDS = 120
#: The largest source of one cell (characters), checked before nbformat reads the notebook.
MAX_CELL_SOURCE_CHARS = 5 * 1024 * 1024
#: The most cells a notebook may have.
MAX_CELLS = 5000


class SubmissionError(NotebookError):
    """A submitted file that the grader refuses to read; the message says why."""


def open_submission(path: Path, student_root: Path, max_bytes: int, too_large: str = "") -> bytes:
    """The bytes of the regular file ``path`` inside ``student_root``.

    Refused (SubmissionError): a path outside ``student_root``, a symbolic link at any component
    from ``student_root`` down, anything but a regular file (FIFO, device, socket, folder), a
    file with more than one hard link, and a file larger than ``max_bytes`` (its message ends
    with ``too_large``, what to do about it).
    """
    path, student_root = Path(path), Path(student_root)
    parts = _parts_inside(path, student_root)
    shown = _shown(path, student_root)
    fds = []
    try:
        fds.append(_open_dir(student_root, None, str(student_root), shown))
        for name in parts[:-1]:
            fds.append(_open_dir(name, fds[-1], name, shown))
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
                         | getattr(os, "O_CLOEXEC", 0), dir_fd=fds[-1])
        except OSError as e:
            try:                            # say what it is (a socket cannot be opened at all)
                _check_regular(os.lstat(parts[-1], dir_fd=fds[-1]), shown, max_bytes, too_large)
            except OSError:
                pass
            raise _refused(shown, e) from None
        fds.append(fd)
        info = os.fstat(fd)
        _check_regular(info, shown, max_bytes, too_large)
        data = _read_at_most(fd, max_bytes + 1)
        if len(data) > max_bytes:
            raise SubmissionError(f"{shown}: larger than the limit of {_size(max_bytes)} (it grew while read)"
                                  + too_large)
        return data
    finally:
        for fd in reversed(fds):
            os.close(fd)


def list_submission_files(folder: Path, max_total: int, *, max_files: int = 10_000) -> list[Path]:
    """Paths (relative to ``folder``) of every file under ``folder``, sorted, for the scratch
    copy; read each with :func:`open_submission`. Refused (SubmissionError): ``folder`` or
    anything under it that is a symbolic link, a FIFO, a device or a socket, a file with more
    than one hard link, more than ``max_files`` entries, or files of more than ``max_total``
    bytes in all."""
    folder = Path(folder)
    try:
        info = os.lstat(folder)
    except OSError as e:
        raise _refused(str(folder), e) from None
    if stat.S_ISLNK(info.st_mode):
        raise SubmissionError(f"{folder}: is a symbolic link; submit the folder itself")
    if not stat.S_ISDIR(info.st_mode):
        raise SubmissionError(f"{folder}: is not a folder")
    files, total, count = [], 0, 0
    stack = [Path()]
    while stack:
        rel = stack.pop()
        try:
            entries = list(os.scandir(folder / rel))
        except OSError as e:
            raise _refused(str(rel or "."), e) from None
        for entry in entries:
            count += 1
            if count > max_files:
                raise SubmissionError(f"{folder}: more than {max_files} files and folders")
            child = rel / entry.name
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                stack.append(child)
                continue
            _check_regular(st, str(child), max_total)
            total += st.st_size
            if total > max_total:
                raise SubmissionError(f"{folder}: the files add up to more than {_size(max_total)}")
            files.append(child)
    return sorted(files)


def notebook_json(raw: bytes, shown: str, *, max_cell_chars: int = MAX_CELL_SOURCE_CHARS,
                  max_cells: int = MAX_CELLS) -> dict:
    """The notebook JSON in ``raw`` (from :func:`open_submission`) as a dict, refused
    (SubmissionError) before nbformat reads it further when it is not UTF-8 JSON of a notebook,
    has more than ``max_cells`` cells, or a cell whose source is longer than ``max_cell_chars``."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError(f"{shown}: is not UTF-8 text; open it in Jupyter or Colab and save it again") from None
    except json.JSONDecodeError as e:
        raise SubmissionError(f"{shown}: is not valid notebook JSON (line {e.lineno}, column {e.colno}: "
                              f"{e.msg}); open it in Jupyter or Colab and save it again") from None
    except RecursionError:
        raise SubmissionError(f"{shown}: its JSON is nested too deeply to be a notebook") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise SubmissionError(f"{shown}: is JSON but not a notebook (no list of cells)")
    if len(data["cells"]) > max_cells:
        raise SubmissionError(f"{shown}: has {len(data['cells'])} cells, more than the limit of {max_cells}")
    for index, cell in enumerate(data["cells"]):
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        if isinstance(source, list):
            size = sum(len(s) if isinstance(s, str) else 0 for s in source)
        else:
            size = len(source) if isinstance(source, str) else 0
        if size > max_cell_chars:
            raise SubmissionError(f"{shown}: cell {index} holds {size:,} characters, more than the "
                                  f"limit of {max_cell_chars:,} for one cell; remove the pasted data "
                                  "and submit again")
    return data


#: what a student does about a notebook over the size limit
NOTEBOOK_TOO_LARGE = (": its saved outputs (figures, long printouts) count, and grading does not use them: "
                      "clear them (Colab: Edit > Clear all outputs; Jupyter: Edit > Clear Outputs of All "
                      "Cells), save and submit again")


def read_submission_notebook(path: Path, student_root: Path, *, max_bytes: int = MAX_NOTEBOOK_BYTES,
                             max_cell_chars: int = MAX_CELL_SOURCE_CHARS,
                             max_with_outputs: int = MAX_NOTEBOOK_WITH_OUTPUTS_BYTES,
                             notes: list | None = None) -> dict:
    """:func:`open_submission` then :func:`notebook_json`: the notebook's JSON as a dict.

    Its saved outputs (figures, long printouts) are what usually make a notebook large, and
    grading never reads them: a notebook over ``max_bytes`` but within ``max_with_outputs`` is
    read with its outputs cleared (``without_outputs``, a process of its own) and a line saying so
    is added to ``notes``; one larger still, or over ``max_bytes`` without its outputs, is refused
    with what to do."""
    shown = _shown(Path(path), Path(student_root))
    raw = open_submission(path, student_root, max(max_bytes, max_with_outputs),
                          too_large=NOTEBOOK_TOO_LARGE)
    if len(raw) > max_bytes:
        size = len(raw)
        raw = without_outputs(raw, shown, max_bytes)
        if notes is not None:
            notes.append(f"{shown} is {_size(size)} with its saved outputs, over the limit of "
                         f"{_size(max_bytes)}: they were cleared before grading ({_size(len(raw))} "
                         "without them; grading does not use them)")
    return notebook_json(raw, shown, max_cell_chars=max_cell_chars)


#: run by ``without_outputs`` as ``python -I -S -c`` with the limits as arguments: the notebook's
#: JSON on stdin, the same JSON without outputs on stdout (exit 3: not a notebook, 4: still too
#: large, its size on stderr)
_CLEAR_OUTPUTS = """
import json, resource, sys
memory, max_bytes = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
data = json.loads(sys.stdin.buffer.read().decode("utf-8"))
if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
    sys.exit(3)
for cell in data["cells"]:
    if isinstance(cell, dict) and "outputs" in cell:
        cell["outputs"] = []
text = json.dumps(data, ensure_ascii=False).encode("utf-8")
if len(text) > max_bytes:
    sys.stderr.write(str(len(text)))
    sys.exit(4)
sys.stdout.buffer.write(text)
"""


def without_outputs(raw: bytes, shown: str, max_bytes: int, *, memory: int = OUTPUTS_MEMORY_BYTES,
                    seconds: float = OUTPUTS_SECONDS) -> bytes:
    """The notebook JSON ``raw`` with every code cell's outputs cleared, at most ``max_bytes``,
    read by a separate Python process under ``memory`` bytes of address space and ``seconds``
    (a large notebook's parsed JSON takes several times its size: the grader's own process never
    holds it). SubmissionError, saying what to do, when it cannot: not a notebook, still over
    ``max_bytes`` without its outputs, or over the limits."""
    import subprocess
    import sys

    over = f"{shown}: larger than the limit of {_size(max_bytes)}"
    try:
        done = subprocess.run([sys.executable, "-I", "-S", "-c", _CLEAR_OUTPUTS, str(int(memory)),
                               str(int(max_bytes))], input=raw, capture_output=True, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise SubmissionError(f"{over}, and its outputs could not be cleared within {seconds:g} s"
                              + NOTEBOOK_TOO_LARGE) from None
    if done.returncode == 0:
        return done.stdout
    if done.returncode == 4:
        left = done.stderr.decode("ascii", "replace").strip()
        left = _size(int(left)) if left.isdigit() else "still too large"
        raise SubmissionError(f"{over}, also without its saved outputs ({left}): remove what makes it "
                              "that large (images pasted into markdown cells, data pasted into code cells) "
                              "and submit again")
    if done.returncode == 3:
        raise SubmissionError(f"{over}, and it is JSON but not a notebook (no list of cells)")
    why = done.stderr.decode("utf-8", "replace").strip().splitlines()
    why = why[-1][:200] if why else f"exit status {done.returncode}"
    raise SubmissionError(f"{over}, and its JSON could not be read to clear its saved outputs ({why})"
                          + NOTEBOOK_TOO_LARGE)


# ----------------------------------------------------------------------------------- helpers


def _parts_inside(path: Path, root: Path) -> list[str]:
    """The names from ``root`` down to ``path`` (lexically: no "..", no absolute escape)."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
    except ValueError:
        raise SubmissionError(f"{path}: is outside the student's folder {root}") from None
    parts = list(rel.parts)
    if not parts or any(p in ("..", ".", "") for p in parts):
        raise SubmissionError(f"{path}: is not a file inside the student's folder {root}")
    return parts


def _open_dir(name, dir_fd, shown_name: str, shown: str) -> int:
    try:
        return os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                       dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            try:
                is_link = os.path.islink(name) if dir_fd is None else stat.S_ISLNK(
                    os.lstat(name, dir_fd=dir_fd).st_mode)
            except OSError:
                is_link = False
            if is_link:
                raise SubmissionError(f"{shown}: the folder {shown_name!r} on its path is a symbolic "
                                      "link; submit the files themselves") from None
            raise SubmissionError(f"{shown}: {shown_name!r} on its path is not a folder") from None
        raise _refused(shown, e) from None


def _refused(shown: str, e: OSError) -> SubmissionError:
    if e.errno == errno.ELOOP:
        return SubmissionError(f"{shown}: is a symbolic link; submit the file itself, not a link")
    if e.errno == errno.ENOENT:
        return SubmissionError(f"{shown}: no such file")
    if e.errno == errno.EISDIR:
        return SubmissionError(f"{shown}: is a folder, not a file")
    return SubmissionError(f"{shown}: cannot be read ({os.strerror(e.errno) if e.errno else e})")


def _check_regular(info: os.stat_result, shown: str, max_bytes: int, too_large: str = "") -> None:
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        raise SubmissionError(f"{shown}: is a symbolic link; submit the file itself, not a link")
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
                or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a folder" if stat.S_ISDIR(mode) else "not a regular file")
        raise SubmissionError(f"{shown}: is {kind}, not a regular file")
    if info.st_nlink > 1:
        raise SubmissionError(f"{shown}: is a hard link shared with another file; submit a copy of the file")
    if info.st_size > max_bytes:
        raise SubmissionError(f"{shown}: is {_size(info.st_size)}, larger than the limit of {_size(max_bytes)}"
                              + too_large)


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, left = [], limit
    while left > 0:
        try:
            chunk = os.read(fd, min(left, 1 << 20))
        except BlockingIOError:            # a regular file never blocks; be safe anyway
            break
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _shown(path: Path, root: Path) -> str:
    """The path as the feedback names it: relative to the student's folder."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(root)))
    except ValueError:
        return path.name


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def beside(notebook: str | Path, name: str, max_bytes: int = 4096) -> bytes | None:
    """The small regular file ``name`` in the folder of the submitted ``notebook`` (nbgrader's
    ``timestamp.txt``, ``submission_secret.txt``), read under the rules of ``open_submission``;
    None when there is none or it is refused."""
    if not notebook:
        return None
    folder = Path(notebook).parent
    try:
        return open_submission(folder / name, folder, max_bytes)
    except (SubmissionError, OSError):
        return None
