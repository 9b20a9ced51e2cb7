"""The ``kinmatch`` command line: a thin layer over the library's public API.

One module per command: :mod:`.lr` (kinship LRs), :mod:`.dvi` (solving a DVI
case, the HTML report), :mod:`.plan` (which relative to sample next),
:mod:`.convert` (between formats), :mod:`.simulate` (simulated cases),
:mod:`.serve` (the shared case service), :mod:`.db` (its database and audit
log), :mod:`.admin` (its agencies, programmes and users); :mod:`.main`
holds the group, which imports a command's module only when it runs,
:mod:`.common` the error handling, number formats and the database options
(light: no numerics), and :mod:`.table_options` the options that assemble a
case from laboratory tables. Every problem with the input is printed as one line naming the
file, line, column and field, and the command exits with status 2; no
tracebacks.
"""

from kinmatch.cli.main import main

__all__ = ["main"]
