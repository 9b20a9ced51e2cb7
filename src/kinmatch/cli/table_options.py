"""The options that assemble a kinship case from laboratory tables
(``kinmatch lr`` and ``kinmatch convert``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from kinmatch.errors import KinmatchError
from kinmatch.formats.table_case import MUTATION_MODELS, mutation_spec
from kinmatch.markers import DEFAULT_MINIMUM_FREQUENCY

F = TypeVar("F", bound=Callable[..., Any])


def table_case_options(fn: F) -> F:
    """The options that assemble a kinship case from laboratory tables."""
    options = [
        click.option("--frequencies", "frequencies", type=click.Path(dir_okay=False),
                     metavar="FILE",
                     help="Allele frequency database (Familias text, long or wide CSV, .xlsx). "
                          "Giving it means the case is assembled from tables."),
        click.option("--pedigree", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Reference family: a PED table or PLINK .fam; with --missing and "
                          "--poi it gives the hypotheses 'missing_person' and 'unrelated'."),
        click.option("--missing", metavar="ID", help="The missing person's id in --pedigree."),
        click.option("--poi", metavar="SAMPLE",
                     help="The person of interest: a sample of the genotype table."),
        click.option("--hypotheses", "hypotheses", type=click.Path(dir_okay=False),
                     metavar="FILE",
                     help="Hypotheses file (JSON, \"format\": \"kinmatch-hypotheses\"), "
                          "instead of --pedigree/--missing/--poi."),
        click.option("--mutation", type=click.Choice(MUTATION_MODELS, case_sensitive=False),
                     default=None, help="Mutation model used at every marker (default none)."),
        click.option("--mutation-rate", type=click.FloatRange(0, 1), default=None,
                     metavar="RATE", help="Mutation rate per transmission."),
        click.option("--mutation-rate2", type=click.FloatRange(0, 1), default=None,
                     metavar="RATE", help="Stepwise: rate of mutations to microvariants."),
        click.option("--mutation-range", type=click.FloatRange(0, min_open=True), default=None,
                     metavar="K", help="Stepwise: relative probability of each further step."),
        click.option("--stationary", is_flag=True,
                     help="Make the mutation model stationary (PM transformation)."),
        click.option("--minimum-frequency", type=click.FloatRange(0, 1, min_open=True,
                                                                  max_open=True),
                     default=DEFAULT_MINIMUM_FREQUENCY, show_default=True,
                     help="Frequency of alleles missing from the database."),
        click.option("--normalise", is_flag=True,
                     help="Divide each marker's frequencies by their sum instead of refusing "
                          "frequencies that do not sum to 1."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def table_case_settings(kwargs: dict[str, Any], theta: float | None) -> dict[str, Any] | None:
    """The keyword arguments of ``read_table_case`` from the table options, or
    ``None`` when no table option was given."""
    keys = ("frequencies", "pedigree", "missing", "poi", "hypotheses")
    if kwargs.get("frequencies") is None:
        given = [k for k in keys[1:] if kwargs.get(k) is not None]
        if given:
            raise KinmatchError(f"--{given[0]} builds a case from laboratory tables: give the "
                                "frequency database too (--frequencies FILE)")
        return None
    spec = mutation_spec(kwargs.get("mutation"), kwargs.get("mutation_rate"),
                         kwargs.get("mutation_rate2"), kwargs.get("mutation_range"),
                         bool(kwargs.get("stationary")))
    return {
        "frequencies": kwargs["frequencies"],
        "pedigree": kwargs.get("pedigree"),
        "missing": kwargs.get("missing"),
        "poi": kwargs.get("poi"),
        "hypotheses": kwargs.get("hypotheses"),
        "mutation": spec,
        "theta": theta,
        "minimum_frequency": kwargs.get("minimum_frequency", DEFAULT_MINIMUM_FREQUENCY),
        "normalise": bool(kwargs.get("normalise")),
    }

