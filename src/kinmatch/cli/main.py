"""The ``kinmatch`` command group.

Each command lives in its own module and is imported only when it runs (or
its own ``--help`` is asked for): ``kinmatch --help`` and ``kinmatch
--version`` load nothing but Click, so they answer at once. :data:`COMMANDS`
lists every command with the one-line help that ``kinmatch --help`` shows;
a test checks that each line is the command's own.

While a command runs, SIGTERM (and SIGHUP, where it exists) raise
``SystemExit`` like Ctrl-C raises ``KeyboardInterrupt``, so that the
clean-up of an interrupted write runs (the temporary file beside the output
is removed, the output left as it was); signals that were being ignored
(``nohup``) stay ignored, and the previous handlers come back when the
command ends.
"""

from __future__ import annotations

import importlib
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


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name, _ = COMMANDS[cmd_name]
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


__all__ = ["COMMANDS", "LazyGroup", "handle_termination", "main"]
