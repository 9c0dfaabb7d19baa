"""Built GraphDefs cached on disk, so drawing a model built before needs no TensorFlow.

A build is deterministic (same spec and versions, same GraphDef bytes), so
the serialized GraphDef is stored under a key made of the spec, the
versions of TensorFlow, tf-keras, Keras, protobuf and rnngraph, and a digest
of the model stage's own source (so an edited builder never reads old builds), in
``$XDG_CACHE_HOME/rnngraph`` (``~/.cache/rnngraph`` by default).  A cache
that cannot be read or written is a miss, never an error.

The cache is not trusted: its folders are made 0700 and not used if another user can
write to them; an entry is opened without following links or blocking, must be a
regular file of the user's and no bigger than :data:`MAX_ENTRY`; it records its key
and spec, checked on reading, with a digest of its GraphDef; and it is written as a
new file renamed into place, never through an existing path.  Importing this
module does not import TensorFlow; only a miss does (through ``builder``).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import stat
import struct
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Optional

from .. import __version__
from .spec import ModelSpec

__all__ = ["cache_dir", "cache_key", "cache_path", "load_cached", "graph_def_for", "VERSIONED", "MAX_ENTRY"]

VERSIONED = ("tensorflow", "tf-keras", "keras", "protobuf")  # packages whose version keys a build


def cache_dir() -> Path:
    """Return the folder of rnngraph's cached builds (``$XDG_CACHE_HOME/rnngraph/graphs``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rnngraph" / "graphs"


def _builder_digest() -> str:
    """Return a digest of the model stage's source: a changed builder never reads old builds."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _versions_once() -> tuple:
    return tuple(sorted(_versions_now().items()))


def _versions() -> dict:
    """Return the versions that key a build (read once per process: they do not change under it)."""
    return dict(_versions_once())


def _versions_now() -> dict:
    found = {"rnngraph": __version__, "builder": _builder_digest()}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def cache_key(spec: ModelSpec) -> str:
    """Return the hex key of ``spec`` built by the installed versions."""
    text = json.dumps({"spec": spec.as_dict(), "versions": _versions()}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cache_path(spec: ModelSpec) -> Path:
    """Return the file that holds (or will hold) the GraphDef of ``spec``."""
    return cache_dir() / f"{spec.slug()}-{cache_key(spec)}.pb"


_MAGIC = b"rnngraph-build-2\n"  # then a 4-byte header length, the JSON header, the GraphDef
MAX_ENTRY = 256 << 20  # larger than any GraphDef rnngraph builds; a bigger entry is not read
_MAX_HEADER = 1 << 20
_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
          | getattr(os, "O_CLOEXEC", 0))
_noted: set = set()  # one note per cache folder refused, per process


def _uid() -> Optional[int]:
    """Return this process's effective user id (None where the system has none, e.g. Windows)."""
    return os.geteuid() if hasattr(os, "geteuid") else None


def _say(line: str) -> None:
    print(f"rnngraph: note: {line}", file=sys.stderr)


def _safe_folder(folder: Path, say) -> bool:
    """True if ``folder`` is a directory the user owns that no other user can write."""
    try:
        info = os.stat(folder)
    except OSError as exc:
        reason = exc.strerror or str(exc)
    else:
        if not stat.S_ISDIR(info.st_mode):
            reason = "it is not a directory"
        elif _uid() is not None and info.st_uid != _uid():
            reason = f"it belongs to user id {info.st_uid}, not you"
        elif info.st_mode & 0o022:
            reason = f"other users can write to it (mode {stat.S_IMODE(info.st_mode):04o})"
        else:
            return True
    if str(folder) not in _noted:
        _noted.add(str(folder))
        say(f"not using the build cache {folder}: {reason}; building without it "
            f"(make it yours with mode 700 to use it)")
    return False


def _usable_dir(create: bool, say) -> Optional[Path]:
    """Return the cache folder (made 0700 when ``create``) if it and its parent are safe, else None."""
    folder = cache_dir()
    if create:
        try:
            folder.parent.parent.mkdir(parents=True, exist_ok=True)
            for level in (folder.parent, folder):
                if not level.exists():
                    level.mkdir(mode=0o700)
        except OSError:
            return None  # a read-only home only costs a build
    elif not folder.exists():
        return None
    if all(_safe_folder(level, say) for level in (folder.parent, folder)):
        return folder
    return None


def _header(spec: ModelSpec, payload: bytes) -> dict:
    return {"key": cache_key(spec), "spec": spec.as_dict(), "versions": _versions(),
            "payload_bytes": len(payload), "payload_sha256": hashlib.sha256(payload).hexdigest()}


def _entry_bytes(spec: ModelSpec, payload: bytes) -> bytes:
    head = json.dumps(_header(spec, payload), sort_keys=True).encode("utf-8")
    return _MAGIC + struct.pack(">I", len(head)) + head + payload


def _read_entry(path: Path) -> bytes:
    """Return the bytes of the cache entry ``path``; ValueError (the reason) if it is not one to read.

    Opened without following a symbolic link and without blocking (a FIFO); it must be a
    regular file the user owns, at most :data:`MAX_ENTRY` bytes, checked before reading.
    """
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise FileNotFoundError from None
        if exc.errno == errno.ELOOP:
            raise ValueError("it is a symbolic link") from None
        raise ValueError(exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("it is not a regular file")
        if _uid() is not None and info.st_uid != _uid():
            raise ValueError(f"it belongs to user id {info.st_uid}, not you")
        if info.st_size > MAX_ENTRY:
            raise ValueError(f"it is {info.st_size} bytes, more than the {MAX_ENTRY} an entry may hold")
        chunks, left = [], info.st_size + 1  # one more: a file that grew since fstat is refused
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) != info.st_size:
            raise ValueError("it changed while being read")
        return data
    except OSError as exc:
        raise ValueError(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def _payload(data: bytes, spec: ModelSpec) -> bytes:
    """Return the GraphDef in entry ``data`` if it records ``spec`` and this key; else ValueError."""
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
        raise ValueError("it is not a rnngraph build (old format, or another file)")
    (size,) = struct.unpack(">I", data[len(_MAGIC):len(_MAGIC) + 4])
    start = len(_MAGIC) + 4
    if size > min(_MAX_HEADER, len(data) - start):
        raise ValueError("its header is truncated")
    try:
        header = json.loads(data[start:start + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("its header is not JSON") from None
    payload = data[start + size:]
    if not isinstance(header, dict):
        raise ValueError("its header is not a JSON object")
    if header.get("key") != cache_key(spec) or header.get("spec") != spec.as_dict():
        raise ValueError("it records another model or other versions than this key")
    if header.get("payload_bytes") != len(payload) or \
            header.get("payload_sha256") != hashlib.sha256(payload).hexdigest():
        raise ValueError("its GraphDef is truncated or damaged")
    return payload


def load_cached(spec: ModelSpec, parse=None, say=_say) -> Optional[bytes]:
    """Return the serialized GraphDef cached for ``spec``, or None when none is intact.

    An entry that is not a regular file of the user's, is too big, records another spec
    or key, or whose GraphDef ``parse`` (e.g. ``GraphDef.FromString``) rejects is not
    served: ``say`` gets one line naming it, and the caller builds again.
    """
    folder = _usable_dir(create=False, say=say)
    if folder is None:
        return None
    path = cache_path(spec)
    try:
        payload = _payload(_read_entry(path), spec)
        if parse is not None:
            try:
                parse(payload)
            except Exception:  # noqa: BLE001 - any parser failure means: not a GraphDef
                raise ValueError("its GraphDef does not parse") from None
    except FileNotFoundError:
        return None
    except ValueError as exc:
        say(f"ignoring cache entry {path.name}: {exc}; building again")
        return None
    return payload


def _store(spec: ModelSpec, data: bytes, say) -> None:
    """Write the entry of ``spec``: a new file in the cache folder, renamed over the old name.

    The rename replaces whatever has the name (a symbolic link is replaced, never followed;
    the file it pointed to is untouched).  A failure only costs the next run a build.
    """
    folder = _usable_dir(create=True, say=say)
    if folder is None:
        return
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".entry-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_entry_bytes(spec, data))
        os.replace(tmp, cache_path(spec))
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def graph_def_for(spec: ModelSpec, use_cache: bool = True, parse=None, say=_say) -> tuple:
    """Return ``(serialized GraphDef, built)`` for ``spec``: from the cache, else built and stored.

    ``built`` is the BuiltGraph when TensorFlow built it in this call, None
    when it came from the cache.  ``parse`` checks a cached GraphDef before it
    is served (pass ``graphdef.protos.GraphDef.FromString``); ``say`` gets the
    one-line notes about entries not served.
    """
    if use_cache:
        cached = load_cached(spec, parse=parse, say=say)
        if cached is not None:
            return cached, None
    from .builder import build_graph  # noqa: PLC0415 (imports TensorFlow)

    built = build_graph(spec)
    data = built.graph_def().SerializeToString(deterministic=True)
    if use_cache:
        _store(spec, data, say)
    return data, built
