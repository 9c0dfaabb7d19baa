"""Run ``rnngraph run FILE`` in a child process that a wall-clock limit can stop.

A graph from a file may loop forever (a functional ``While`` whose condition
never turns false cannot be bounded by rewriting the GraphDef) or make
TensorFlow die by a signal.  TensorFlow cannot be interrupted from Python
while a Session runs, so the run happens in a child process in its own
session: after ``--timeout`` seconds the whole process group is killed, and
a child killed by a signal is reported in one line.  The child's stdout and
stderr are passed on when it ends.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

from ..errors import RunLimitExceeded

__all__ = ["run_isolated", "child_main"]

_CHILD = "import sys; from rnngraph.commands.sandbox import child_main; sys.exit(child_main())"


def _relay(data: bytes, stream) -> None:
    if not data:
        return
    stream.flush()
    if hasattr(stream, "buffer"):
        stream.buffer.write(data)
    else:  # a text-only stream (some test captures)
        stream.write(data.decode("utf-8", "replace"))
    stream.flush()


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:  # already gone
        pass
    proc.communicate()


def run_isolated(args, path: str, timeout: float) -> int:
    """Run ``args`` (parsed ``run FILE`` arguments) in a child; return its exit status."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(pickle.dumps(args), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise RunLimitExceeded(f"stopped running {path} after {timeout:g} s (--timeout): it was still "
                               f"running (a loop that never ends?); raise --timeout to wait "
                               f"longer") from None
    except BaseException:  # Ctrl-C: the child goes too
        _kill(proc)
        raise
    _relay(out, sys.stdout)
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        raise RunLimitExceeded(f"TensorFlow died running {path} ({name}); rnngraph cannot run "
                               f"this graph")
    _relay(err, sys.stderr)
    return proc.returncode


def child_main() -> int:
    """The child's entry: read the parsed arguments from stdin and run them here."""
    from ..cli import guarded  # noqa: PLC0415
    from .terminal import guard  # noqa: PLC0415

    args = pickle.load(sys.stdin.buffer)  # written by run_isolated, our own parent
    args.isolated = True
    # The parent relays these bytes as they are: sanitise names here, as cli.main does.
    sys.stdout, sys.stderr = guard(sys.stdout), guard(sys.stderr)
    return guarded(lambda: args.func(args), debug=getattr(args, "debug", False))  # run.run
