"""The ``kinmatch`` command line.

One module per command: :mod:`.lr` (kinship LRs), :mod:`.dvi` (solving a DVI
case, the HTML report), :mod:`.convert` (between formats); :mod:`._common`
holds the group, error handling and shared options. Every problem with the
input is printed as one line naming the file, line, column and field, and
the command exits with status 2; no tracebacks.
"""

from kinmatch.cli import convert, dvi, lr, plan, simulate  # noqa: F401  (register the commands)
from kinmatch.cli._common import main

__all__ = ["main"]
