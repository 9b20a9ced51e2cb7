"""Pedigree drawings (SVG) for the identification reports: layout geometry and SVG output."""

from __future__ import annotations

import itertools
import random
import xml.etree.ElementTree as ET

import pytest

from kinmatch.dvi.case import ReferenceFamily
from kinmatch.errors import KinmatchError
from kinmatch.pedigree import Individual, Pedigree, Sex
from kinmatch.relationships import (
    RELATIONSHIPS,
    PedigreeBuilder,
    avuncular,
    cousins,
    first_cousin_marriage_child,
    half_siblings,
    lineal,
    sibling_mating_child,
)
from kinmatch.report.pedigree_svg import (
    PedigreeLayout,
    Segment,
    layout_pedigree,
    pedigree_svg,
    reference_family_svg,
)

M, F, U = Sex.MALE, Sex.FEMALE, Sex.UNKNOWN
NS = "{http://www.w3.org/2000/svg}"
TOL = 0.51  # coordinates are written with one decimal


# -- pedigrees to draw -------------------------------------------------------------------


def family_with_everything() -> Pedigree:
    """Three sibships, half siblings, a cousin marriage, an unrelated person."""
    b = PedigreeBuilder()
    gf, gm = b.founder("Grandfather", M), b.founder("Grandmother", F)
    father = b.child(gf, gm, "Father", M)
    aunt = b.child(gf, gm, "Aunt", F)
    b.child(gf, gm, "Uncle", M)
    mother, wife2 = b.founder("Mother", F), b.founder("Second wife", F)
    mp = b.child(father, mother, "MP1", M)
    b.child(father, mother, "Sister", F)
    b.child(father, wife2, "Half-brother", M)
    husband = b.founder("Husband", M)
    cousin = b.child(husband, aunt, "Cousin1", F)
    b.child(husband, aunt, "Cousin2", M)
    b.child(mp, cousin, "Kid", U)
    b.founder("Lone person", U)
    return b.build()


def deep_line() -> Pedigree:
    """Grandfather -> son -> grandson -> great-grandson -> great-great-grandson, with sibs."""
    b = PedigreeBuilder()
    top = b.founder("G1", M)
    current = top
    for g in range(2, 6):
        wife = b.founder(f"W{g - 1}", F)
        child = b.child(current, wife, f"G{g}", M)
        b.child(current, wife, f"Sis{g}", F)
        current = child
    return b.build()


def several_components() -> Pedigree:
    people = [
        Individual("a1", M), Individual("a2", F), Individual("a3", M, "a1", "a2"),
        Individual("b1", M), Individual("b2", F), Individual("b3", F, "b1", "b2"),
        Individual("b4", M, "b1", "b2"), Individual("c", U),
    ]
    return Pedigree(people)


def three_partners() -> Pedigree:
    """A man with children by three women (one mating cannot be adjacent)."""
    people = [Individual("X", M)]
    for k in range(1, 4):
        people.append(Individual(f"W{k}", F))
        people.append(Individual(f"C{k}", M if k % 2 else F, "X", f"W{k}"))
    return Pedigree(people)


def uncle_niece_marriage() -> Pedigree:
    """Partners of different depths: the marriage cannot lie on one row."""
    people = [
        Individual("gf", M), Individual("gm", F),
        Individual("uncle", M, "gf", "gm"), Individual("mother", F, "gf", "gm"),
        Individual("dad", M), Individual("niece", F, "dad", "mother"),
        Individual("child", M, "uncle", "niece"),
    ]
    return Pedigree(people)


def father_daughter_mating() -> Pedigree:
    people = [
        Individual("f", M), Individual("m", F), Individual("d", F, "f", "m"),
        Individual("c", U, "f", "d"),
    ]
    return Pedigree(people)


def married_in_family() -> Pedigree:
    """The wife's parents and sibling are in the pedigree too (two founder couples)."""
    people = [
        Individual("hf", M), Individual("hm", F), Individual("wf", M), Individual("wm", F),
        Individual("husband", M, "hf", "hm"), Individual("hsib", F, "hf", "hm"),
        Individual("wife", F, "wf", "wm"), Individual("wsib", M, "wf", "wm"),
        Individual("kid1", M, "husband", "wife"), Individual("kid2", F, "husband", "wife"),
    ]
    return Pedigree(people)


def random_pedigree(seed: int, size: int) -> Pedigree:
    """Random pedigree: sibships, new partners, half siblings and matings between relatives."""
    rng = random.Random(seed)
    people: dict[str, Individual] = {}

    def add(sex: Sex, father: str | None = None, mother: str | None = None) -> str:
        pid = f"p{len(people) + 1}"
        people[pid] = Individual(pid, sex, father, mother)
        return pid

    for _ in range(rng.randint(1, 2)):
        add(M), add(F)
    while len(people) < size:
        males = [p for p in people.values() if p.sex == M]
        females = [p for p in people.values() if p.sex == F]
        r = rng.random()
        if r < 0.25 and males and females:  # two existing people: may be relatives
            father, mother = rng.choice(males).id, rng.choice(females).id
        elif r < 0.9:  # an existing person and a new partner
            person = rng.choice(males + females)
            partner = add(F if person.sex == M else M)
            father, mother = (person.id, partner) if person.sex == M else (partner, person.id)
        else:  # a new founder couple (possibly another component)
            father, mother = add(M), add(F)
        for _ in range(rng.randint(1, 3)):
            add(rng.choice([M, F, F, M, U]), father, mother)
    return Pedigree(people.values())


NAMED = {
    "everything": family_with_everything(),
    "deep_line": deep_line(),
    "components": several_components(),
    "three_partners": three_partners(),
    "uncle_niece": uncle_niece_marriage(),
    "father_daughter": father_daughter_mating(),
    "married_in": married_in_family(),
    "cousin_marriage": first_cousin_marriage_child(),
    "sibling_mating": sibling_mating_child(),
    "second_cousins_removed": cousins("A", "B", degree=2, removal=2, sex_b=F),
    "half_first_cousins": cousins("A", "B", degree=1, half=True),
    "great_great_grandparent": lineal("A", "B", generations=4),
    "half_avuncular": avuncular("A", "B", half=True),
    "maternal_half_sibs": half_siblings("A", "B", shared="mother"),
    "single": Pedigree([Individual("only", F)]),
}
for _name, _rel in RELATIONSHIPS.items():
    NAMED[f"rel_{_name}"] = _rel.build("A", "B")

RANDOM = {f"random_{seed}": random_pedigree(seed, 10 + seed % 5 * 8) for seed in range(40)}
ALL = {**NAMED, **RANDOM}



# -- geometry helpers ----------------------------------------------------------------


def overlaps(a: tuple[float, ...], b: tuple[float, ...], margin: float = 0.0) -> bool:
    return (a[0] < b[2] + margin and b[0] < a[2] + margin
            and a[1] < b[3] + margin and b[1] < a[3] + margin)


def on_segment(x: float, y: float, seg: Segment, tol: float = TOL) -> bool:
    lo_x, hi_x = sorted((seg.x1, seg.x2))
    lo_y, hi_y = sorted((seg.y1, seg.y2))
    if not (lo_x - tol <= x <= hi_x + tol and lo_y - tol <= y <= hi_y + tol):
        return False
    dx, dy = seg.x2 - seg.x1, seg.y2 - seg.y1
    length = (dx * dx + dy * dy) ** 0.5
    if length == 0:
        return abs(x - seg.x1) <= tol and abs(y - seg.y1) <= tol
    return abs(dy * (x - seg.x1) - dx * (y - seg.y1)) / length <= tol


def touches_box(x: float, y: float, box: tuple[float, float, float, float],
                tol: float = TOL) -> bool:
    inside = box[0] - tol <= x <= box[2] + tol and box[1] - tol <= y <= box[3] + tol
    on_edge = min(abs(x - box[0]), abs(x - box[2]), abs(y - box[1]), abs(y - box[3])) <= tol
    return inside and on_edge


def segment_crosses_box(seg: Segment, box: tuple[float, float, float, float],
                        shrink: float = 1.0) -> bool:
    """Whether the segment passes through the interior of box (Liang-Barsky clipping)."""
    x0, y0, x1, y1 = box[0] + shrink, box[1] + shrink, box[2] - shrink, box[3] - shrink
    dx, dy = seg.x2 - seg.x1, seg.y2 - seg.y1
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, seg.x1 - x0), (dx, x1 - seg.x1), (-dy, seg.y1 - y0), (dy, y1 - seg.y1)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def check_connected(ped: Pedigree, lay: PedigreeLayout) -> None:
    """Every child hangs from the sibship line of its parents, which hangs from
    their mating line."""
    by_mating: dict[tuple[str, str], list[Segment]] = {}
    for seg in lay.segments:
        by_mating.setdefault(seg.mating, []).append(seg)
    for child in ped.nonfounders:
        key = ped.parents(child)
        segs = by_mating[key]
        pc = lay.people[child]
        drops = [s for s in segs if s.kind == "child" and s.child == child]
        assert len(drops) == 1, child
        drop = drops[0]
        top_y = min(drop.y1, drop.y2)
        assert abs(drop.x1 - pc.x) <= TOL and abs(drop.x2 - pc.x) <= TOL
        assert abs(max(drop.y1, drop.y2) - (pc.y - pc.half)) <= TOL, "line ends at the symbol top"
        # the line of descent: one vertical line, or a chain of lines dodging people on rows
        # between the parents and the child
        descent = [s for s in segs if s.kind == "descent"]
        assert len(descent) % 2 == 1
        for a, b in itertools.pairwise(descent):
            assert abs(a.x2 - b.x1) <= TOL and abs(a.y2 - b.y1) <= TOL, "descent line is broken"
        desc = descent[-1]
        assert desc.x1 == desc.x2 and desc.y2 > desc.y1
        bottom = (desc.x2, desc.y2)
        assert abs(bottom[1] - top_y) <= TOL, "sibship line and descent line meet"
        sibship = [s for s in segs if s.kind == "sibship"]
        if sibship:
            assert on_segment(pc.x, top_y, sibship[0]) and on_segment(*bottom, sibship[0])
        else:
            assert abs(bottom[0] - pc.x) <= TOL
        # the descent line starts on the mating line, which joins both parents
        mating = [s for s in segs if s.kind == "mating"]
        start = (descent[0].x1, descent[0].y1)
        assert any(on_segment(*start, s) for s in segs if s.kind in ("mating", "mating2")), (
            child, key)
        for parent in key:
            box = lay.people[parent].symbol_box
            assert any(touches_box(s.x1, s.y1, box) or touches_box(s.x2, s.y2, box)
                       for s in mating), f"mating line of {key} does not reach {parent}"
        # the mating line is one connected piece
        pieces = list(mating)
        joined = [pieces.pop(0)]
        while pieces:
            nxt = next((p for p in pieces if any(
                on_segment(px, py, q) for q in joined for px, py in ((p.x1, p.y1), (p.x2, p.y2))
            ) or any(
                on_segment(qx, qy, p) for q in joined for qx, qy in ((q.x1, q.y1), (q.x2, q.y2))
            )), None)
            assert nxt is not None, f"mating line of {key} is broken"
            pieces.remove(nxt)
            joined.append(nxt)


# -- layout ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ALL))
def test_layout_geometry(name: str) -> None:
    ped = ALL[name]
    lay = layout_pedigree(ped)
    assert set(lay.people) == set(ped.ids), "every person drawn exactly once"
    places = list(lay.people.values())
    for i, a in enumerate(places):
        assert 0 <= a.box[0] and a.box[2] <= lay.width and 0 <= a.box[1] and a.box[3] <= lay.height
        for b in places[i + 1:]:
            assert not overlaps(a.symbol_box, b.symbol_box, margin=8.0), (a.id, b.id)
            assert not overlaps(a.box, b.box), f"labels of {a.id} and {b.id} overlap"
    for child in ped.nonfounders:
        for parent in ped.parents(child):
            assert lay.people[parent].y < lay.people[child].y, (parent, child)
            assert lay.people[parent].generation < lay.people[child].generation
    # rows: everyone of a generation on the same y
    for p in places:
        assert p.y == lay.rows[p.generation]
    check_connected(ped, lay)


@pytest.mark.parametrize("name", sorted(ALL))
def test_lines_do_not_cross_symbols(name: str) -> None:
    """Only the mating line of partners drawn on different rows may cross someone."""
    ped = ALL[name]
    lay = layout_pedigree(ped)
    for seg in lay.segments:
        f, m = seg.mating
        if seg.kind.startswith("mating") and lay.people[f].y != lay.people[m].y:
            continue
        own = set(seg.mating) | ({seg.child} if seg.child else set())
        for p in lay.people.values():
            if p.id not in own:
                assert not segment_crosses_box(seg, p.symbol_box), (seg, p.id)


def test_layout_is_deterministic() -> None:
    ped = random_pedigree(7, 40)
    assert layout_pedigree(ped) == layout_pedigree(ped)
    assert pedigree_svg(ped, missing=["p3"]) == pedigree_svg(ped, missing=["p3"])


def test_generations_and_partners_on_rows() -> None:
    lay = layout_pedigree(deep_line())
    gens = {pid: p.generation for pid, p in lay.people.items()}
    assert [gens[f"G{g}"] for g in range(1, 6)] == [0, 1, 2, 3, 4]
    assert all(gens[f"W{g}"] == gens[f"G{g}"] for g in range(1, 5)), "wives beside their husbands"
    assert all(gens[f"Sis{g}"] == gens[f"G{g}"] for g in range(2, 6))
    # a founder marrying into a deep branch is drawn on that branch's row
    ped = cousins("A", "B", degree=2, removal=2)
    lay = layout_pedigree(ped)
    couples = {ped.parents(c) for c in ped.nonfounders}
    assert len({lay.people["B"].generation, lay.people["A"].generation}) == 2
    for f, m in couples:
        assert lay.people[f].generation == lay.people[m].generation, (f, m)


def test_sibships_stay_together_and_half_sibs_sit_under_their_mating() -> None:
    lay = layout_pedigree(three_partners())
    x = {pid: p.x for pid, p in lay.people.items()}
    # the man sits between two of his partners; each child is nearer its own mother
    order = sorted(["W1", "W2", "W3", "X"], key=x.get)
    assert order.index("X") in (1, 2)
    for k in (1, 2):  # the matings drawn with a plain line between neighbours
        others = [j for j in (1, 2, 3) if j != k]
        assert all(abs(x[f"C{k}"] - x[f"W{k}"]) < abs(x[f"C{k}"] - x[f"W{j}"]) for j in others)
        assert min(x["X"], x[f"W{k}"]) < x[f"C{k}"] < max(x["X"], x[f"W{k}"])
    assert x["C3"] > x["C2"]
    lay = layout_pedigree(family_with_everything())
    x = {pid: p.x for pid, p in lay.people.items()}
    row1 = sorted((p for p in lay.people.values() if p.generation == 1), key=lambda p: p.x)
    names = [p.id for p in row1]
    assert abs(names.index("Mother") - names.index("Father")) == 1
    assert abs(names.index("Second wife") - names.index("Father")) == 1


def test_components_side_by_side() -> None:
    ped = several_components()
    lay = layout_pedigree(ped)
    spans = {}
    for p in lay.people.values():
        lo, hi = spans.get(p.component, (p.box[0], p.box[2]))
        spans[p.component] = (min(lo, p.box[0]), max(hi, p.box[2]))
    ordered = sorted(spans.values())
    assert len(ordered) == 3
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ordered)), "families do not interleave"
    assert {p.generation for p in lay.people.values() if p.id in ("a1", "b1", "c")} == {0}


def test_consanguineous_matings_get_a_double_line() -> None:
    for ped in (first_cousin_marriage_child(), sibling_mating_child()):
        lay = layout_pedigree(ped)
        key = ped.parents("A")
        assert key in lay.consanguineous
        kinds = [s.kind for s in lay.segments if s.mating == key]
        assert kinds.count("mating2") == 1 and kinds.count("mating") == 1
    lay = layout_pedigree(family_with_everything())
    assert lay.consanguineous == {("MP1", "Cousin1")}


def test_thirty_people_no_overlap_and_reasonable_size() -> None:
    ped = random_pedigree(123, 30)
    lay = layout_pedigree(ped)
    assert len(ped) >= 30
    places = list(lay.people.values())
    assert not any(overlaps(a.box, b.box) for i, a in enumerate(places) for b in places[i + 1:])
    assert lay.width < 30 * 120 and lay.height < 1200


# -- SVG ----------------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def person_groups(root: ET.Element) -> dict[str, ET.Element]:
    groups = {g.get("data-person"): g for g in root.iter(f"{NS}g") if g.get("class") == "person"}
    return groups  # type: ignore[return-value]


def symbols(group: ET.Element) -> list[ET.Element]:
    return [e for e in group.iter() if e.get("class") == "symbol"]


@pytest.mark.parametrize("name", [*sorted(NAMED), "random_3", "random_14", "random_29"])
def test_svg_one_symbol_per_person_with_shape_by_sex(name: str) -> None:
    ped = ALL[name]
    root = parse(pedigree_svg(ped, title=name))
    groups = person_groups(root)
    assert set(groups) == set(ped.ids)
    assert len([e for e in root.iter() if e.get("class") == "symbol"]) == len(ped)
    lay = layout_pedigree(ped, labels={p: [p] for p in ped.ids})
    shape = {M: "rect", F: "circle", U: "polygon"}
    for pid, group in groups.items():
        (sym,) = symbols(group)
        assert sym.tag == NS + shape[ped.sex(pid)]
        assert group.get("data-sex") == {M: "male", F: "female", U: "sex-unknown"}[ped.sex(pid)]
        assert group.find(f"{NS}title") is not None and pid in group.find(f"{NS}title").text
        # drawn where the layout puts it
        if sym.tag == NS + "rect":
            cx = float(sym.get("x")) + float(sym.get("width")) / 2
            cy = float(sym.get("y")) + float(sym.get("height")) / 2
            assert float(sym.get("width")) == float(sym.get("height"))
        elif sym.tag == NS + "circle":
            cx, cy = float(sym.get("cx")), float(sym.get("cy"))
        else:
            pts = [tuple(map(float, p.split(","))) for p in sym.get("points").split()]
            assert len(pts) == 4
            cx, cy = sum(p[0] for p in pts) / 4, sum(p[1] for p in pts) / 4
        assert abs(cx - lay.people[pid].x) <= TOL and abs(cy - lay.people[pid].y) <= TOL
    lines = [e for e in root.iter(f"{NS}line") if e.get("data-father") is not None]
    assert len(lines) == len(lay.segments)


def test_svg_symbols_do_not_overlap() -> None:
    ped = random_pedigree(5, 34)
    root = parse(pedigree_svg(ped))
    boxes = []
    for group in person_groups(root).values():
        (sym,) = symbols(group)
        if sym.tag == NS + "rect":
            x, y, w = float(sym.get("x")), float(sym.get("y")), float(sym.get("width"))
            boxes.append((x, y, x + w, y + w))
        elif sym.tag == NS + "circle":
            cx, cy, r = float(sym.get("cx")), float(sym.get("cy")), float(sym.get("r"))
            boxes.append((cx - r, cy - r, cx + r, cy + r))
        else:
            pts = [tuple(map(float, p.split(","))) for p in sym.get("points").split()]
            boxes.append((min(p[0] for p in pts), min(p[1] for p in pts),
                          max(p[0] for p in pts), max(p[1] for p in pts)))
    assert not any(overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_svg_marks_missing_typed_identified_and_has_legend() -> None:
    ped = family_with_everything()
    svg = pedigree_svg(ped, missing=["MP1", "Uncle"], typed=["Sister", "Grandmother"],
                       identified={"MP1": "V12"}, deceased=["Grandfather"], title="Family Smith")
    root = parse(svg)
    groups = person_groups(root)

    def texts(group: ET.Element) -> list[str]:
        return ["".join(t.itertext()) for t in group.iter(f"{NS}text")]

    for mp in ("MP1", "Uncle"):
        g = groups[mp]
        assert g.get("data-missing") == "true"
        (sym,) = symbols(g)
        assert sym.get("fill").startswith("url(#"), "hatched, not colour alone"
        assert "?" in texts(g) and "missing" in texts(g)
        assert "missing person" in g.find(f"{NS}title").text
    pattern_ids = {p.get("id") for p in root.iter(f"{NS}pattern")}
    assert symbols(groups["MP1"])[0].get("fill") == f"url(#{next(iter(pattern_ids))})"
    for t in ("Sister", "Grandmother"):
        g = groups[t]
        assert g.get("data-typed") == "true" and "DNA" in texts(g)
        assert "DNA-typed" in g.find(f"{NS}title").text
    for other in ("Father", "Kid", "Cousin1"):
        g = groups[other]
        assert g.get("data-missing") is None and g.get("data-typed") is None
        assert "?" not in texts(g) and "DNA" not in texts(g)
        assert symbols(g)[0].get("fill") == "#FFFFFF"
    assert groups["MP1"].get("data-identified") == "V12"
    assert "= V12" in texts(groups["MP1"])
    assert "identified as sample V12" in groups["MP1"].find(f"{NS}title").text
    assert not any("= " in t for pid, g in groups.items() if pid != "MP1" for t in texts(g))
    assert groups["Grandfather"].get("data-deceased") == "true"
    assert any(e.get("class") == "deceased-mark" for e in groups["Grandfather"].iter())
    # legend explains every mark used
    legend = next(g for g in root.iter(f"{NS}g") if g.get("class") == "legend")
    legend_text = " ".join("".join(t.itertext()) for t in legend.iter(f"{NS}text"))
    for word in ("Male", "Female", "Sex unknown", "Missing person", "DNA-typed", "Identified",
                 "Deceased", "relatives"):
        assert word in legend_text
    # accessibility: title and description referenced by aria-labelledby
    title = root.find(f"{NS}title")
    desc = root.find(f"{NS}desc")
    assert title.text == "Family Smith"
    assert "MP1 identified as sample V12" in desc.text
    assert set(root.get("aria-labelledby").split()) == {title.get("id"), desc.get("id")}
    assert root.get("role") == "img"


def test_legend_lists_only_what_is_drawn() -> None:
    root = parse(pedigree_svg(lineal("A", "B", 2)))
    legend = next(g for g in root.iter(f"{NS}g") if g.get("class") == "legend")
    text = " ".join("".join(t.itertext()) for t in legend.iter(f"{NS}text"))
    assert "Male" in text and "Missing" not in text and "DNA" not in text
    root = parse(pedigree_svg(lineal("A", "B", 2), legend=False))
    assert not any(g.get("class") == "legend" for g in root.iter(f"{NS}g"))


def test_svg_is_self_contained() -> None:
    svg = pedigree_svg(family_with_everything(), missing=["MP1"], typed=["Sister"],
                       identified={"MP1": "V1"})
    assert "<script" not in svg and "<image" not in svg and "<style" not in svg
    assert "@import" not in svg and "xlink:href" not in svg
    assert svg.count("http") == 1  # the SVG namespace only
    root = parse(svg)
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    for e in root.iter():
        fill = e.get("fill") or ""
        if fill.startswith("url("):
            assert fill[5:-1] in ids, "references stay inside the document"


def test_names_are_escaped() -> None:
    nasty = ['<script>alert("x")</script>', "Smith & Sons", "O'Brien \"Jr\"", "ctrl\x01char", "]]>"]
    people = [Individual(nasty[0], M), Individual(nasty[1], F),
              Individual(nasty[2], M, nasty[0], nasty[1]),
              Individual(nasty[3], F, nasty[0], nasty[1]),
              Individual(nasty[4], U, nasty[0], nasty[1])]
    ped = Pedigree(people)
    svg = pedigree_svg(ped, missing=[nasty[2]], typed=[nasty[1]], identified={nasty[2]: "<V&1>"},
                       title="Family <O'Neil & co>")
    assert "<script>" not in svg
    root = parse(svg)
    groups = person_groups(root)
    assert set(groups) == {p.replace("\x01", "\ufffd") for p in nasty}
    names = {"".join(t.itertext()) for t in root.iter(f"{NS}text") if t.get("class") == "name"}
    assert nasty[1] in names and nasty[2] in names
    assert root.find(f"{NS}title").text == "Family <O'Neil & co>"
    assert any("".join(t.itertext()) == "= <V&1>" for t in root.iter(f"{NS}text"))


def test_display_names_and_long_names() -> None:
    long = "Maria-Magdalena Alexandrovna Konstantinopoulou"
    ped = Pedigree([Individual("F1", M), Individual("M1", F), Individual("C1", F, "F1", "M1"),
                    Individual("C2", M, "F1", "M1")])
    svg = pedigree_svg(ped, names={"C1": long, "F1": "Father"})
    root = parse(svg)
    groups = person_groups(root)
    shown = ["".join(t.itertext()) for t in groups["C1"].iter(f"{NS}text")]
    assert shown[0].endswith("\u2026") and len(shown[0]) <= 24
    assert long in groups["C1"].find(f"{NS}title").text, "full name in the tooltip"
    assert "Father" in ["".join(t.itertext()) for t in groups["F1"].iter(f"{NS}text")]
    lay = layout_pedigree(ped, labels={"C1": [long[:23] + "\u2026"], "C2": ["C2"]})
    assert not overlaps(lay.people["C1"].box, lay.people["C2"].box)


def test_unknown_people_are_reported() -> None:
    ped = lineal("A", "B", 1)
    for kwargs in ({"missing": ["Z"]}, {"typed": ["Z"]}, {"identified": {"Z": "V1"}}):
        with pytest.raises(KinmatchError, match="'Z' is not in the pedigree"):
            pedigree_svg(ped, **kwargs)


def test_reference_family_svg() -> None:
    ped = family_with_everything()
    fam = ReferenceFamily("Smith", ped, ("MP1",),
                          {"Sister": {"D3S1358": ("15", "16")}, "Grandmother": {}})
    root = parse(reference_family_svg(fam, identified={"MP1": "V7"}))
    groups = person_groups(root)
    assert groups["MP1"].get("data-missing") == "true"
    assert groups["MP1"].get("data-identified") == "V7"
    assert groups["Sister"].get("data-typed") == "true"
    assert groups["Grandmother"].get("data-typed") is None, "an empty profile is not typed"
    assert root.find(f"{NS}title").text == "Family Smith"
