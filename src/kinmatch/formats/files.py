"""Writing files safely: all or nothing.

Not a public module. Every kinmatch writer goes through
:func:`atomic_write_bytes`: the data is written to a temporary file in the
target's folder, flushed to disk, and renamed over the target in one step,
so that a failure (a bad value found half-way, a full disk, an interrupt)
never leaves a half-written file and never damages an existing one: the
temporary file is removed on any exception, ``KeyboardInterrupt`` and
``SystemExit`` included (the command line turns SIGTERM into ``SystemExit``).

No command writes over a file it reads: :func:`refuse_overwriting_inputs`
compares an output with every input by the identity of the file (through
symbolic links, hard links, ``..`` and relative paths).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from kinmatch.errors import CaseFormatError, KinmatchError, Location


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name the same file (also through links and ``..``)."""
    pa, pb = Path(a), Path(b)
    try:
        if pa.exists() and pb.exists():
            return os.path.samefile(pa, pb)
    except OSError:
        pass
    try:
        return pa.resolve() == pb.resolve()
    except (OSError, RuntimeError):  # a loop of symbolic links
        return False


def refuse_overwriting_inputs(outputs: str | Path | Iterable[str | Path],
                              inputs: Iterable[str | Path]) -> None:
    """Raise a :class:`KinmatchError` naming both paths when an output is one of
    the inputs (the same file, however it is named)."""
    targets = [outputs] if isinstance(outputs, str | Path) else list(outputs)
    sources = list(inputs)
    for target in targets:
        for source in sources:
            if same_file(target, source):
                raise KinmatchError(f"cannot write '{target}': it would overwrite the input "
                                    f"file '{source}'; give another output name")


def check_output_path(path: str | Path) -> Path:
    """Refuse an output whose folder does not exist or that is a folder (before
    the work that makes it is done); return the folder."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise CaseFormatError(f"cannot write: the folder '{folder}' does not exist",
                              Location(str(target)))
    if target.is_dir():
        raise CaseFormatError("cannot write: is a folder", Location(str(target)))
    return folder


def atomic_write_bytes(path: str | Path, data: bytes, *,
                       protect: Iterable[str | Path] = ()) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place.

    ``protect`` are files that must never be overwritten (the inputs of a
    conversion); naming one of them as ``path`` is an error.
    """
    target = Path(path)
    refuse_overwriting_inputs(target, protect)
    folder = check_output_path(target)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
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
    except BaseException as err:  # KeyboardInterrupt and SystemExit (SIGTERM) too
        if tmp is not None:
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
