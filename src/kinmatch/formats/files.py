"""Writing files safely: all or nothing.

Not a public module. Every kinmatch writer goes through
:func:`atomic_write_bytes`: the data is written to a temporary file in the
target's folder, flushed to disk, and renamed over the target in one step,
so that a failure (a bad value found half-way, a full disk, an interrupt)
never leaves a half-written file and never damages an existing one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from kinmatch.errors import CaseFormatError, Location


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (also through links and ``..``)."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    return pa.resolve() == pb.resolve()


def atomic_write_bytes(path: str | Path, data: bytes, *,
                       protect: Iterable[str | Path] = ()) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place.

    ``protect`` are files that must never be overwritten (the inputs of a
    conversion); naming one of them as ``path`` is an error.
    """
    target = Path(path)
    for other in protect:
        if same_file(target, other):
            raise CaseFormatError("the output would overwrite the input file; give another "
                                  "output name", Location(str(target)))
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CaseFormatError(f"cannot write: the folder '{folder}' does not exist",
                              Location(str(target)))
    if target.is_dir():
        raise CaseFormatError("cannot write: is a folder", Location(str(target)))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, target.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            with contextlib.suppress(OSError):
                os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise CaseFormatError(f"cannot write the file: {err.strerror or err}",
                                  Location(str(target))) from None
        raise


def atomic_write_text(path: str | Path, text: str, *, encoding: str = "utf-8",
                      protect: Iterable[str | Path] = ()) -> None:
    """Write ``text`` (line endings as given) atomically; see :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode(encoding), protect=protect)
