"""Write examples/dvi_case_lineage.json: a SYNTHETIC DVI case with lineage markers.

Two families, three sets of remains, the 10 autosomal STRs of
examples/dvi_case.json (genotypes simulated here by gene dropping), and the
lineage data of examples/lineage/ (synthetic databases and haplotypes):

* family A: missing man MA; typed are his brother's son NB (autosomal + Y,
  3 paternal-line meioses) and his sister's son NS (autosomal + mtDNA, 3
  maternal-line meioses). remains-07 is MA: its Y and mtDNA are those of
  case_y.tsv / case_mt.tsv;
* family B: missing man MB; typed is his sister's daughter DB (autosomal +
  mtDNA, no Y); remains-11 is MB;
* remains-15 is unrelated to both families: its mtDNA differs from every
  reference at several positions (an exclusion) and its Y from NB's.

Run: ``uv run python examples/lineage/make_dvi_case_lineage.py``.
Not real data.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from kinmatch.dvi import DVICase, PostMortemSample, ReferenceFamily
from kinmatch.formats.dvi_json import read_dvi_case, write_dvi_case
from kinmatch.lineage import (
    LineageSettings,
    make_haplotype,
    parse_mt_profile,
    read_mt_database,
    read_mt_profiles,
    read_y_database,
    read_y_haplotypes,
    read_y_loci,
)
from kinmatch.pedigree import Individual, Pedigree, Sex
from kinmatch.simulate import genotype_profile, simulate_genotypes

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent


def _family_pedigree(tag: str) -> Pedigree:
    M, F = Sex.MALE, Sex.FEMALE
    return Pedigree([
        Individual(f"GF{tag}", M), Individual(f"GM{tag}", F),
        Individual(f"M{tag}", M, f"GF{tag}", f"GM{tag}"),      # the missing man
        Individual(f"B{tag}", M, f"GF{tag}", f"GM{tag}"),      # his brother
        Individual(f"S{tag}", F, f"GF{tag}", f"GM{tag}"),      # his sister
        Individual(f"BW{tag}", F), Individual(f"SH{tag}", M),  # their spouses
        Individual(f"NB{tag}", M, f"B{tag}", f"BW{tag}"),      # brother's son
        Individual(f"NS{tag}", M, f"SH{tag}", f"S{tag}"),      # sister's son
        Individual(f"DB{tag}", F, f"SH{tag}", f"S{tag}"),      # sister's daughter
    ])


def main() -> None:
    base = read_dvi_case(EXAMPLES / "dvi_case.json")
    markers = base.markers
    names = [m.name for m in markers]
    rng = np.random.default_rng(1942)
    loci = read_y_loci(HERE / "yfiler_plus_rates.tsv")
    y_db = read_y_database(HERE / "y_database_synthetic.tsv", loci)
    mt_db = read_mt_database(HERE / "mt_database_synthetic.tsv")
    y_case = read_y_haplotypes(HERE / "case_y.tsv", loci)
    mt_case = read_mt_profiles(HERE / "case_mt.tsv")

    ped_a, ped_b = _family_pedigree("A"), _family_pedigree("B")
    sim_a = simulate_genotypes(ped_a, markers, 1, rng)
    sim_b = simulate_genotypes(ped_b, markers, 1, rng)
    sim_u = simulate_genotypes(Pedigree([Individual("U", Sex.MALE)]), markers, 1, rng)

    def profile(sim: dict, pid: str) -> dict[str, tuple[str, str]]:
        return genotype_profile(names, markers, sim[pid][0])

    # family B's mtDNA: a database profile; its man's Y: another database haplotype
    mt_b = replace(mt_db.profiles[40], sample="DB")
    y_b = replace(y_db.haplotypes[60], sample="remains-11")
    # remains-15: unrelated; mtDNA and Y of other database entries
    mt_u = parse_mt_profile("73G 150T 199C 263G 315.1C 489C 16223T 16362C",
                            "16024-16569,1-576", "remains-15")
    y_u = make_haplotype("remains-15", {k: list(v) for k, v in y_db.haplotypes[5].alleles.items()},
                         loci)
    samples = [
        PostMortemSample("remains-07", profile(sim_a, "MA"), Sex.MALE,
                         y_haplotype=y_case["remains-07"], mtdna=mt_case["remains-07"]),
        PostMortemSample("remains-11", profile(sim_b, "MB"), Sex.MALE, y_haplotype=y_b,
                         mtdna=replace(mt_b, sample="remains-11")),
        PostMortemSample("remains-15", profile(sim_u, "U"), Sex.MALE, y_haplotype=y_u,
                         mtdna=mt_u),
    ]
    families = [
        ReferenceFamily("A", ped_a, ("MA",), {"NBA": profile(sim_a, "NBA"),
                                              "NSA": profile(sim_a, "NSA")},
                        y_haplotypes={"NBA": replace(y_case["ref-nephew"], sample="NBA")},
                        mtdna_profiles={"NSA": replace(mt_case["ref-sisters-son"], sample="NSA")}),
        ReferenceFamily("B", ped_b, ("MB",), {"DBB": profile(sim_b, "DBB")},
                        mtdna_profiles={"DBB": replace(mt_b, sample="DBB")}),
    ]
    lineage = LineageSettings(
        y_database=y_db, y_loci=loci, mt_database=mt_db,
        sources={"y_database": str(HERE / "y_database_synthetic.tsv"),
                 "y_loci": str(HERE / "yfiler_plus_rates.tsv"),
                 "mt_database": str(HERE / "mt_database_synthetic.tsv")})
    case = DVICase(markers, samples, families,
                   title="Two families with lineage markers (SYNTHETIC: 10 STRs, Y-STRs, mtDNA)",
                   lineage=lineage)
    write_dvi_case(case, EXAMPLES / "dvi_case_lineage.json")


if __name__ == "__main__":
    main()
