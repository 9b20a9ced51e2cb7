"""``kinmatch convert``: between every format kinmatch reads and writes."""

from __future__ import annotations

from typing import Any

import click

from kinmatch.cli.common import err_console, friendly
from kinmatch.cli.table_options import table_case_options, table_case_settings
from kinmatch.errors import KinmatchError
from kinmatch.formats.convert import OUTPUT_KINDS, convert


@click.command("convert")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False), metavar="[INPUT] OUTPUT")
@click.option("--to", "to", type=click.Choice(list(OUTPUT_KINDS)), default=None,
              help="Output format (default: from OUTPUT's extension and the input).")
@click.option("--force", is_flag=True, help="Replace OUTPUT if it exists (never the input).")
@click.option("--profiles", type=click.Path(dir_okay=False), metavar="FILE",
              help="Genotype table of a case assembled from tables (instead of INPUT).")
@table_case_options
@click.option("--theta", type=click.FloatRange(0, 1, max_open=True), default=None,
              help="Subpopulation correction θ of a case assembled from tables.")
@friendly
def convert_command(paths: tuple[str, ...], to: str | None, force: bool, profiles: str | None,
                    theta: float | None, **table: Any) -> None:
    """Convert INPUT to OUTPUT; the input's format is read from its content.

    \b
    Cases:        kinmatch JSON (kinship or DVI) <-> Familias .fam;
                  kinship case -> PED (one family per hypothesis)
    Pedigrees:    PED <-> PLINK .fam <-> hypotheses JSON (one family per hypothesis)
    Frequencies:  Familias text <-> long CSV <-> wide CSV (--to wide-csv)
    Genotypes:    GeneMapper export / wide table -> wide genotype CSV
    Tables case:  genotype table + --frequencies + hypotheses -> JSON case

    \b
      kinmatch convert case.fam case.json
      kinmatch convert run42.txt case.json --frequencies db.txt \\
          --pedigree family.ped --missing Missing-Son --poi UHR-2024-007

    The output is written whole or not at all, and never over the input.
    """
    settings = table_case_settings(table, theta)
    if profiles is not None:
        if settings is None:
            raise KinmatchError("--profiles builds a case from laboratory tables: give the "
                                "frequency database (--frequencies) and the hypotheses too")
        if len(paths) != 1:
            raise KinmatchError("with --profiles give only OUTPUT")
        source, output = profiles, paths[0]
    else:
        if len(paths) != 2:
            raise KinmatchError("give INPUT and OUTPUT")
        source, output = paths
    done = convert(source, output, to=to, overwrite=force, table_case=settings,
                   normalise=bool(table.get("normalise")))
    label = "kinmatch JSON" if done.output_kind == "json" else OUTPUT_KINDS[done.output_kind]
    err_console.print(f"wrote {done.output} ({label}): the {done.what} of {done.input}",
               soft_wrap=True, markup=False)


