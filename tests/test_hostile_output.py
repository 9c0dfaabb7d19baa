"""``-o`` never replaces a device, a FIFO or a symlink (issue 12 item 1).

Never touches real /dev files (the tests may run as root): a FIFO, a null-like character
device and symlinks are made in tmp_path; /dev/stdout is only ever a pipe of a subprocess.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rnngraph.errors import OutputError
from rnngraph.files import atomic_path, output_kind, write_atomic


def _reader(path: Path, into: list) -> threading.Thread:
    thread = threading.Thread(target=lambda: into.append(path.read_bytes()), daemon=True)
    thread.start()
    return thread


def test_a_fifo_is_written_to_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list = []
    thread = _reader(fifo, got)
    write_atomic(fifo, "digraph {}\n")
    thread.join(10)
    assert got == [b"digraph {}\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_atomic_path_streams_into_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list = []
    thread = _reader(fifo, got)
    with atomic_path(fifo) as tmp:
        Path(tmp).write_text("a,b\n1,2\n")
    thread.join(10)
    assert got == [b"a,b\n1,2\n"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_character_device_is_written_to_not_replaced(tmp_path):
    device = tmp_path / "null"
    try:  # a node of the null device (1, 3), inside tmp_path only
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    write_atomic(device, b"x" * 100_000)
    with atomic_path(device) as tmp:
        Path(tmp).write_bytes(b"y")
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["null"]


def test_a_symlink_is_followed_and_its_target_replaced(tmp_path):
    real = tmp_path / "real.dot"
    real.write_text("old")
    link = tmp_path / "link.dot"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    with atomic_path(link) as tmp:
        Path(tmp).write_text("newer")
    assert link.is_symlink() and real.read_text() == "newer"
    assert sorted(os.listdir(tmp_path)) == ["link.dot", "real.dot"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.dot"
    link.symlink_to(tmp_path / "made.dot")
    write_atomic(link, "made")
    assert link.is_symlink() and (tmp_path / "made.dot").read_text() == "made"


def test_directories_and_sockets_are_refused(tmp_path):
    with pytest.raises(OutputError, match="is a directory"):
        write_atomic(tmp_path, "x")
    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_path))
        with pytest.raises(OutputError, match="is a socket"):
            write_atomic(sock_path, "x")
        with pytest.raises(OutputError, match="is a socket"):
            with atomic_path(sock_path):
                pass
    finally:
        sock.close()
    assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)
    link = tmp_path / "to-dir"
    link.symlink_to(tmp_path)
    with pytest.raises(OutputError, match="is a directory"):
        write_atomic(link, "x")
    assert output_kind(tmp_path / "new.svg") == ("replace", tmp_path / "new.svg")


def test_cli_writes_to_dev_stdout_when_it_is_a_pipe(tmp_path):
    """``-o /dev/stdout`` of a subprocess (a pipe here): the drawing arrives, nothing is replaced."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    graph = tmp_path / "g.pbtxt"
    graph.write_text('node { name: "x" op: "Placeholder" }\nnode { name: "y" op: "Relu" input: "x" }\n')
    result = subprocess.run([sys.executable, "-m", "rnngraph", "inspect", str(graph), "--render",
                             "/dev/stdout", "--format", "dot"],
                            capture_output=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert b"digraph rnngraph" in result.stdout


def test_a_full_device_reports_no_space_and_stays(tmp_path):
    device = tmp_path / "full"
    try:  # a node of the full device (1, 7), inside tmp_path only
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    with pytest.raises(OutputError, match="No space left on device"):
        write_atomic(device, "digraph {}\n")
    assert stat.S_ISCHR(os.lstat(device).st_mode) and sorted(os.listdir(tmp_path)) == ["full"]


def test_cli_writes_to_dev_stdout_redirected_to_a_file(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    graph = tmp_path / "g.pbtxt"
    graph.write_text('node { name: "x" op: "Placeholder" }\n')
    out = tmp_path / "out.txt"
    with open(out, "wb") as handle:
        result = subprocess.run([sys.executable, "-m", "rnngraph", "inspect", str(graph), "--render",
                                 "/dev/stdout", "--format", "dot"],
                                stdout=handle, stderr=subprocess.PIPE, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "digraph rnngraph" in text and "1 nodes" in text  # the summary and the drawing
