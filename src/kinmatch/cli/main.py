"""The ``kinmatch`` command group.

Each command lives in its own module and is imported only when it runs (or
its own ``--help`` is asked for): ``kinmatch --help`` and ``kinmatch
--version`` load nothing but Click, so they answer at once. :data:`COMMANDS`
lists every command with the one-line help that ``kinmatch --help`` shows;
a test checks that each line is the command's own.

Before a command's module (and NumPy with it) is imported, the BLAS library
is held to one thread unless the user chose a number
(:func:`limit_blas_threads`).

While a command runs, SIGTERM (and SIGHUP, where it exists) raise
``SystemExit`` like Ctrl-C raises ``KeyboardInterrupt``, so that the
clean-up of an interrupted write runs (the temporary file beside the output
is removed, the output left as it was); signals that were being ignored
(``nohup``) stay ignored, and the previous handlers come back when the
command ends.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
from types import FrameType

import click

from kinmatch import __version__

#: name -> (module, command object's name in it, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "admin": ("kinmatch.cli.admin", "admin_group",
              "Create agencies, programmes and users; reset a second factor."),
    "audit": ("kinmatch.cli.db", "audit_group", "The audit log of the shared case."),
    "convert": ("kinmatch.cli.convert", "convert_command",
                "Convert INPUT to OUTPUT; the input's format is read from its content."),
    "db": ("kinmatch.cli.db", "db_group", "Create, upgrade and keep the shared case's database."),
    "dvi": ("kinmatch.cli.dvi", "dvi_command",
            "Solve a DVI case: which remains are which missing person."),
    "lr": ("kinmatch.cli.lr", "lr_command", "Kinship LRs for the hypotheses of a case."),
    "plan": ("kinmatch.cli.plan", "plan_command",
             "Power planning: which relative to sample next."),
    "serve": ("kinmatch.cli.serve", "serve_command",
              "Run the shared case service (JSON API, OpenAPI at /api/docs)."),
    "simulate": ("kinmatch.cli.simulate", "simulate_group",
                 "Simulate a case modelled on a real disaster, with its truth."),
}


#: The variables that set how many threads the BLAS library (OpenBLAS, MKL) behind
#: NumPy runs; read once, when NumPy is imported.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def limit_blas_threads() -> None:
    """One BLAS thread for this process, unless one of :data:`BLAS_THREAD_VARIABLES`
    is set (the user's choice stands). Effective only before NumPy is imported.

    The likelihood engine's matrix products are many and small (one batch per
    network shape, a few hundred per case); BLAS threads barely shorten them,
    and between them the idle threads spin. On 2 cores the README's Chōsei
    command took 20 s of CPU and 19 s wall with OpenBLAS's default of 2 threads
    against 8 s and 9 s with 1 (bench/main_job_bench.py).
    """
    if not any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["MKL_NUM_THREADS"] = "1"


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name, _ = COMMANDS[cmd_name]
        limit_blas_threads()
        command = getattr(importlib.import_module(module), name)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module}.{name} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _terminate(signum: int, frame: FrameType | None) -> None:
    """Stop the command the way an exception does, so clean-up code runs."""
    raise SystemExit(128 + signum)


def handle_termination(ctx: click.Context) -> None:
    """Turn SIGTERM (and SIGHUP) into ``SystemExit`` until ``ctx`` closes.

    Only from the main thread (where Python runs signal handlers) and only
    for signals whose handler is the default one.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is None or signal.getsignal(signum) is not signal.SIG_DFL:
            continue
        signal.signal(signum, _terminate)
        ctx.call_on_close(lambda signum=signum: signal.signal(signum, signal.SIG_DFL))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kinmatch")
@click.pass_context
def main(ctx: click.Context) -> None:
    """kinmatch: identify human remains by DNA kinship.

    Pedigree likelihoods and kinship likelihood ratios (LRs) from autosomal
    and X-linked STR/SNP markers, with mutation models and the θ correction.
    """
    handle_termination(ctx)


__all__ = ["BLAS_THREAD_VARIABLES", "COMMANDS", "LazyGroup", "handle_termination",
           "limit_blas_threads", "main"]
