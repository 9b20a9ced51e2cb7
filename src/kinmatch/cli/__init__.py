"""The ``kinmatch`` command line: a thin layer over the library's public API.

One module per command: :mod:`.lr` (kinship LRs), :mod:`.dvi` (solving a DVI
case, the HTML report), :mod:`.plan` (which relative to sample next),
:mod:`.convert` (between formats), :mod:`.simulate` (simulated cases);
:mod:`.main` holds the group, which imports a command's module only when it
runs, and :mod:`.common` the error handling, number formats and shared
options. Every problem with the input is printed as one line naming the
file, line, column and field, and the command exits with status 2; no
tracebacks.
"""

from kinmatch.cli.main import main

__all__ = ["main"]
