"""``kinmatch simulate``: simulated cases with their truth."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kinmatch.cli.common import err_console, friendly
from kinmatch.errors import KinmatchError
from kinmatch.formats.dvi_json import write_dvi_case
from kinmatch.formats.files import atomic_write_text
from kinmatch.scenarios.chosei import simulate_chosei

#: The files ``simulate chosei`` writes in its folder.
OUTPUTS = ("case.json", "truth.json")


@click.group("simulate")
def simulate_group() -> None:
    """Simulate a case modelled on a real disaster, with its truth."""


@simulate_group.command("chosei")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True, metavar="DIR",
              help="Directory for case.json (the DVI case) and truth.json.")
@click.option("--force", is_flag=True,
              help="Replace case.json and truth.json if DIR holds them.")
@click.option("--seed", type=int, default=1942, show_default=True)
@click.option("--recovered", type=click.IntRange(1, 183), default=40, show_default=True,
              help="Miners whose remains were recovered.")
@friendly
def chosei_command(out: str, force: bool, seed: int, recovered: int) -> None:
    """The 1942 Chōsei mine flood: 183 miners (136 Korean, 47 Japanese), their
    families' donors 80+ years on, fragmented degraded remains, Y-STR and
    mtDNA data; autosomal STR frequencies from norSTR's East Asian database,
    SYNTHETIC Y-STR and mtDNA databases (see kinmatch.scenarios.chosei).

    An existing case.json or truth.json in DIR is replaced only with --force."""
    folder = Path(out)
    existing = [name for name in OUTPUTS
                if (folder / name).exists() or (folder / name).is_symlink()]
    if existing and not force:
        raise KinmatchError(f"'{folder}' already holds {' and '.join(existing)}; give "
                            "another folder or --force to replace them")
    scenario = simulate_chosei(seed, recovered=recovered)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise KinmatchError(f"cannot create the folder '{folder}': "
                            f"{err.strerror or err}") from None
    write_dvi_case(scenario.case, folder / "case.json")
    atomic_write_text(folder / "truth.json", json.dumps(scenario.truth, indent=1) + "\n")
    case = scenario.case
    err_console.print(f"wrote {folder / 'case.json'} ({len(case.samples)} fragments of "
               f"{len(scenario.truth['recovered'])} recovered miners, {len(case.families)} "
               f"families with donors) and {folder / 'truth.json'}")
