"""Write the SYNTHETIC example databases of this folder (run: uv run python examples/lineage/make_synthetic.py).

Nothing here is real data. The Y haplotypes are random walks around five
invented "lineage centres" at the 27 Yfiler Plus loci, with a few
microvariants, null alleles and duplications sprinkled in so that every
notation appears; the mtDNA profiles are invented motif sets plus private
differences over the control region, some with heteroplasmy and some
sequenced over a shorter range. Frequencies estimated from them mean nothing
about any population.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
SEED = 20240611

Y_LOCI = ["DYS576", "DYS389I", "DYS635", "DYS389II", "DYS627", "DYS460", "DYS458", "DYS19",
          "YGATAH4", "DYS448", "DYS391", "DYS456", "DYS390", "DYS438", "DYS392", "DYS518",
          "DYS570", "DYS437", "DYS385", "DYS449", "DYS393", "DYS439", "DYS481", "DYF387S1",
          "DYS533"]
TWO_COPY = {"DYS385": (13, 18), "DYF387S1": (36, 38)}
MODES = {"DYS576": 18, "DYS389I": 13, "DYS635": 21, "DYS389II": 29, "DYS627": 21, "DYS460": 10,
         "DYS458": 17, "DYS19": 15, "YGATAH4": 12, "DYS448": 19, "DYS391": 10, "DYS456": 15,
         "DYS390": 23, "DYS438": 10, "DYS392": 13, "DYS518": 38, "DYS570": 18, "DYS437": 14,
         "DYS449": 30, "DYS393": 13, "DYS439": 12, "DYS481": 22, "DYS533": 12}
FAST = {"DYS576", "DYS627", "DYS518", "DYS570", "DYS449", "DYF387S1", "DYS458"}


def y_database(rng: np.random.Generator, n: int = 200) -> list[tuple[str, dict[str, str]]]:
    centres = []
    for _ in range(5):
        centre: dict[str, list[int]] = {}
        for locus in Y_LOCI:
            base = list(TWO_COPY[locus]) if locus in TWO_COPY else [MODES[locus]]
            centre[locus] = [b + int(rng.integers(-2, 3)) for b in base]
        centres.append(centre)
    weights = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
    out = []
    for i in range(n):
        c = centres[rng.choice(5, p=weights)]
        row: dict[str, str] = {}
        for locus in Y_LOCI:
            spread = 1.2 if locus in FAST else 0.5
            values = [v + int(np.sign(s) * rng.poisson(abs(s))) for v, s in
                      zip(c[locus], rng.normal(0, spread, len(c[locus])))]
            if locus in TWO_COPY:
                row[locus] = ",".join(str(v) for v in sorted(values))
            else:
                row[locus] = str(values[0])
        if rng.random() < 0.03:
            row["DYS458"] = f"{int(row['DYS458'])}.2"        # microvariant
        if rng.random() < 0.02:
            row["DYS448"] = "0"                              # null allele
        if rng.random() < 0.02:
            v = int(row["DYS19"])
            row["DYS19"] = f"{v},{v + 1}"                    # duplication
        out.append((f"SYN-Y{i + 1:03d}", row))
    return out


MOTIFS = [
    "73G 263G 315.1C 489C 16129A 16223T 16519C",
    "73G 150T 199C 263G 315.1C 489C 16223T 16362C",
    "73G 263G 309.1C 315.1C 16183C 16189C 16217C 16519C",
    "73G 263G 315.1C 16129A 16223T 16257A 16261T",
    "263G 315.1C 16126C 16294T 16296T 16304C 16519C",
    "73G 152C 263G 315.1C 16172C 16223T 16311C",
]
PRIVATE_POSITIONS = [16092, 16145, 16187, 16209, 16234, 16274, 16278, 16291, 16319, 16335,
                     16355, 146, 185, 195, 204, 207, 228, 295, 456, 522]
SUBST = {"A": "G", "G": "A", "C": "T", "T": "C"}


def mt_database(rng: np.random.Generator, n: int = 200) -> list[tuple[str, str, str]]:
    weights = np.array([0.3, 0.2, 0.15, 0.15, 0.1, 0.1])
    out = []
    for i in range(n):
        tokens = MOTIFS[rng.choice(len(MOTIFS), p=weights)].split()
        for pos in rng.choice(PRIVATE_POSITIONS, size=rng.poisson(0.8), replace=False):
            tokens.append(f"{pos}{'ACGT'[int(rng.integers(4))]}")
        seq_range = "16024-16569,1-576"
        if rng.random() < 0.15:
            seq_range = "16024-16365,73-340"     # a shorter, HV1/HV2-only sequence
            tokens = [t for t in tokens
                      if 16024 <= int(t.split(".")[0].rstrip("ACGTRYMKSWN")) <= 16365
                      or 73 <= int(t.split(".")[0].rstrip("ACGTRYMKSWN")) <= 340]
        if rng.random() < 0.04:
            tokens.append("16093Y")              # point heteroplasmy
        if rng.random() < 0.2:
            tokens.append("16193.1C")            # C-stretch length variant
        out.append((f"SYN-MT{i + 1:03d}", seq_range, " ".join(tokens)))
    return out


def main() -> None:
    rng = np.random.default_rng(SEED)
    lines = ["# SYNTHETIC Y-STR database: 200 invented haplotypes at Yfiler Plus loci.",
             "# Not real data; written by make_synthetic.py.",
             "\t".join(["sample"] + Y_LOCI)]
    for sample, row in y_database(rng):
        lines.append("\t".join([sample] + [row[k] for k in Y_LOCI]))
    (HERE / "y_database_synthetic.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = ["# SYNTHETIC mtDNA database: 200 invented control-region profiles (rCRS notation).",
             "# Not real data; written by make_synthetic.py.",
             "sample\trange\tvariants"]
    for sample, seq_range, variants in mt_database(rng):
        lines.append(f"{sample}\t{seq_range}\t{variants}")
    (HERE / "mt_database_synthetic.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
