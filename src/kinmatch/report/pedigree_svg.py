"""Pedigree drawings as self-contained SVG, for the HTML identification reports.

The drawing follows the standard pedigree nomenclature (Bennett et al. 2008,
*Standardized human pedigree nomenclature*, NSGC): squares for males,
circles for females, diamonds for unknown sex; a horizontal mating line
between partners (a double line for a consanguineous mating); a vertical line
of descent from the mating line to a horizontal sibship line, from which each
child hangs; generations on rows, numbered I, II, III... in the margin; names
under the symbols.

Forensic annotations, each shown by more than colour alone and explained in
a legend:

* **missing persons**: hatched symbol with a question mark and the word
  "missing" under the name;
* **DNA-typed reference relatives**: shaded symbol with a "DNA" tag;
* **identifications**: the identified sample as "= V12" in a highlighted label
  under the missing person;
* **deceased** (optional): a diagonal slash through the symbol.

Two layers:

* :func:`layout_pedigree` is pure geometry: pedigree in, a position for every
  person and the line segments out (:class:`PedigreeLayout`). It can be tested
  and reused by other renderers.
* :func:`pedigree_svg` renders a layout to an SVG string with inline
  presentation attributes only (no CSS, scripts, fonts or external files), so
  it can be pasted into an HTML report or saved as a ``.svg`` file.

Layout algorithm (generation-based, in the spirit of kinship2/pedtools):

1. **Generations.** A child sits one row below the lower of its parents. A
   founder who married into the family is moved down to the row of their
   partner, unless that would contradict the parent-above-child rule (a
   founder partnered with their own descendant); such constraints are
   accepted one at a time, with a positive-cycle check.
2. **Order within rows.** A depth-first walk from the founders of the top row
   places each person together with their partners (a "unit"; a person with
   two partners sits between them, which keeps half-sibships apart and
   both matings short), then the children of each mating of the unit, from
   left to right. A sibship's first child has their partners on the left,
   the others on the right, so that siblings stay together. Each person is
   placed once: in a loop (cousin marriage) the partner is pulled next to the
   spouse and the lines from their parents may cross.
3. **x coordinates.** Each row keeps its order with a minimum distance
   between neighbours (wide enough for the labels). Alternating passes pull
   sibships under their parents' mating and parents over their children;
   each pass is a weighted least-squares fit under the order and distance
   constraints (isotonic regression with the pool-adjacent-violators
   algorithm), so no pass can make symbols overlap.
4. **Components** (unrelated families) are laid out separately and placed side
   by side, with their generations on common rows.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

from kinmatch.errors import KinmatchError
from kinmatch.pedigree import Pedigree, Sex

if TYPE_CHECKING:
    from kinmatch.dvi.case import ReferenceFamily

__all__ = [
    "PedigreeLayout",
    "PersonPlacement",
    "Segment",
    "layout_pedigree",
    "pedigree_svg",
    "reference_family_svg",
]

# -- geometry constants ----------------------------------------------------------

SYMBOL_SIZE = 36.0
"""Width and height of a square or circle symbol (pixels)."""

FONT_SIZE = 12.0
LINE_HEIGHT = 15.0
_LABEL_TOP = 5.0           # gap between symbol bottom and the first label line's top
_MIN_HALF_WIDTH = SYMBOL_SIZE / 2 + 16.0   # room for the DNA tag at the upper right
_H_PAD = 14.0              # horizontal clearance between neighbouring label boxes
_FAMILY_PAD = 14.0         # extra clearance between neighbours who are not kin/partners
_COMPONENT_GAP = 40.0      # between unrelated families
_TRACK_STEP = 9.0          # vertical distance between stacked sibship lines
_SIBSHIP_DROP = 16.0       # lowest sibship line to the children's symbol tops
_BELOW_LABELS = 12.0       # last label line to the highest sibship line
_BRACKET_RISE = 8.0        # mating bracket above the row, for non-adjacent partners
_MARGIN = 20.0
_GEN_LABEL_WIDTH = 36.0    # left margin holding the generation numerals
_MAX_NAME_CHARS = 24


# -- layout data -------------------------------------------------------------------


@dataclass(frozen=True)
class PersonPlacement:
    """Where a person is drawn.

    ``x``, ``y`` is the centre of the symbol; ``half`` is half the symbol's
    extent (the symbol fits in ``x ± half``, ``y ± half``); ``box`` is the
    rectangle ``(x0, y0, x1, y1)`` that the symbol, its tag and its label lines
    occupy and that no other person's box overlaps.
    """

    id: str
    x: float
    y: float
    generation: int
    component: int
    half: float
    box: tuple[float, float, float, float]

    @property
    def symbol_box(self) -> tuple[float, float, float, float]:
        return (self.x - self.half, self.y - self.half, self.x + self.half, self.y + self.half)


@dataclass(frozen=True)
class Segment:
    """A straight line of the drawing.

    ``kind`` is ``"mating"`` (between partners; ``"mating2"`` is the second line of
    a consanguineous mating), ``"descent"`` (down from a mating line),
    ``"sibship"`` (horizontal, above a sibship) or ``"child"`` (from the sibship
    line down to a child's symbol). ``mating`` is the ``(father, mother)`` the line
    belongs to; ``child`` is set for ``"child"`` segments.
    """

    x1: float
    y1: float
    x2: float
    y2: float
    kind: str
    mating: tuple[str, str]
    child: str | None = None


@dataclass(frozen=True)
class PedigreeLayout:
    """Positions of all people and the lines connecting them."""

    people: Mapping[str, PersonPlacement]
    segments: tuple[Segment, ...]
    rows: Mapping[int, float]          # generation -> y of the symbol centres
    width: float
    height: float
    symbol_size: float
    consanguineous: frozenset[tuple[str, str]] = field(default_factory=frozenset)


# -- text measurement (an estimate: the SVG viewer picks the actual font) ---------

_NARROW = set("iljtfrI1.,:;|!'()[]{} ")
_WIDE = set("mwMWOQGDHNU@%&")


def _text_width(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    total = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in ("W", "F"):
            total += 1.0
        elif ch in _NARROW:
            total += 0.34
        elif ch in _WIDE:
            total += 0.88
        elif ch.isupper() or ch.isdigit():
            total += 0.68
        else:
            total += 0.58
    return total * size * (1.1 if bold else 1.0)


def _label_half_width(lines: Sequence[str]) -> float:
    widest = max((_text_width(line, bold=True) for line in lines), default=0.0)
    return max(_MIN_HALF_WIDTH, widest / 2 + 6.0)


def _shorten(name: str, limit: int = _MAX_NAME_CHARS) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"


# -- pedigree structure helpers ---------------------------------------------------


def _matings(ped: Pedigree) -> dict[tuple[str, str], list[str]]:
    """(father, mother) -> children, in input order."""
    out: dict[tuple[str, str], list[str]] = {}
    for person in ped:
        if person.father is not None and person.mother is not None:
            out.setdefault((person.father, person.mother), []).append(person.id)
    return out


def _partners(ped: Pedigree, matings: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {pid: [] for pid in ped.ids}
    for f, m in matings:
        if m not in out[f]:
            out[f].append(m)
        if f not in out[m]:
            out[m].append(f)
    return out


def _longest_paths(ids: Sequence[str], edges: Sequence[tuple[str, str, int]]
                   ) -> dict[str, int] | None:
    """Smallest g >= 0 with g[v] >= g[u] + w for all edges; None if impossible."""
    g = dict.fromkeys(ids, 0)
    for _ in range(len(ids) + 1):
        changed = False
        for u, v, w in edges:
            if g[u] + w > g[v]:
                g[v] = g[u] + w
                changed = True
        if not changed:
            return g
    return None


def _generations(ped: Pedigree, partners: Mapping[str, list[str]]) -> dict[str, int]:
    index = {pid: i for i, pid in enumerate(ped.order)}
    edges: list[tuple[str, str, int]] = []
    for pid in ped.order:
        parents = ped.parents(pid)
        if parents:
            edges.extend((p, pid, 1) for p in parents)
    gen = _longest_paths(ped.order, edges)
    assert gen is not None  # the pedigree is acyclic
    for pid in ped.order:
        if not ped[pid].is_founder:
            continue
        for partner in partners[pid]:
            if gen[partner] <= gen[pid]:
                continue
            trial = [*edges, (partner, pid, 0)]
            trial.sort(key=lambda e: index[e[0]])
            new = _longest_paths(ped.order, trial)
            if new is not None:
                edges, gen = trial, new
    return gen


def _consanguineous(ped: Pedigree, matings: Iterable[tuple[str, str]]
                    ) -> frozenset[tuple[str, str]]:
    out = set()
    for f, m in matings:
        if (ped.ancestors(f) | {f}) & (ped.ancestors(m) | {m}):
            out.add((f, m))
    return frozenset(out)


# -- ordering within rows ----------------------------------------------------------


def _order_rows(
    ped: Pedigree,
    members: Sequence[str],
    gen: Mapping[str, int],
    partners: Mapping[str, list[str]],
    matings: Mapping[tuple[str, str], list[str]],
) -> dict[int, list[str]]:
    rows: dict[int, list[str]] = defaultdict(list)
    placed: set[str] = set()
    done: set[tuple[str, str]] = set()
    position = {pid: i for i, pid in enumerate(ped.ids)}

    def mating_of(a: str, b: str) -> tuple[str, str]:
        return (a, b) if (a, b) in matings else (b, a)

    def free_partners(pid: str) -> list[str]:
        return [q for q in partners[pid] if q not in placed and gen[q] == gen[pid]]

    def outward(pid: str) -> list[str]:
        """Further partners of a partner, in order away from the unit's centre."""
        more = free_partners(pid)
        placed.update(more)
        seq: list[str] = []
        for q in more:
            seq.append(q)
            seq.extend(outward(q))
        return seq

    def place(pid: str, side: str) -> None:
        ps = free_partners(pid)
        placed.add(pid)
        placed.update(ps)
        if len(ps) >= 2:  # between two partners: both matings stay short
            left, right = ps[:1], ps[1:]
        elif side == "left":
            left, right = ps, []
        elif side == "right":
            left, right = [], ps
        elif len(ps) == 1:
            male_left = ped.sex(pid) == Sex.FEMALE and ped.sex(ps[0]) == Sex.MALE
            left, right = (ps, []) if male_left else ([], ps)
        else:
            left, right = ps[:1], ps[1:]
        left_seq: list[str] = []
        for q in left:
            left_seq.append(q)
            left_seq.extend(outward(q))
        right_seq: list[str] = []
        for q in right:
            right_seq.append(q)
            right_seq.extend(outward(q))
        unit = [*left_seq[::-1], pid, *right_seq]
        rows[gen[pid]].extend(unit)
        for member in unit:
            for q in partners[member]:
                key = mating_of(member, q)
                if key not in done:
                    done.add(key)
                    place_children(key)

    def marries_out(pid: str) -> bool:
        """Has an unplaced partner with parents of their own (a loop or in-law family)."""
        return any(q not in placed and not ped[q].is_founder for q in partners[pid])

    def place_children(key: tuple[str, str]) -> None:
        kids = [c for c in matings[key] if c not in placed]
        kids.sort(key=lambda c: (marries_out(c), position[c]))
        n = len(kids)
        for i, kid in enumerate(kids):
            if kid in placed:  # pulled in as a sibling's partner meanwhile
                continue
            side = "auto" if n == 1 else ("left" if i == 0 else "right")
            place(kid, side)

    roots = sorted((p for p in members if ped[p].is_founder), key=lambda p: (gen[p], position[p]))
    for pid in roots:
        if pid not in placed:
            place(pid, "auto")
    for pid in members:  # cannot happen (every non-founder descends from a founder)
        if pid not in placed:
            place(pid, "auto")
    return rows


# -- x coordinates -----------------------------------------------------------------


def _pava_with_gaps(
    desired: Sequence[float], weights: Sequence[float], gaps: Sequence[float]
) -> list[float]:
    """Minimise sum w_i (x_i - d_i)^2 subject to x_{i+1} - x_i >= gaps_i."""
    offsets = [0.0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    targets = [d - o for d, o in zip(desired, offsets)]
    blocks: list[list[float]] = []  # [weighted mean, total weight, count]
    for t, w in zip(targets, weights):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            wt = w1 + w2
            blocks.append([(m1 * w1 + m2 * w2) / wt, wt, n1 + n2])
    fitted: list[float] = []
    for mean, _, count in blocks:
        fitted.extend([mean] * int(count))
    return [f + o for f, o in zip(fitted, offsets)]


def _position_component(
    ped: Pedigree,
    rows: Mapping[int, list[str]],
    half: Mapping[str, float],
    partners: Mapping[str, list[str]],
    matings: Mapping[tuple[str, str], list[str]],
) -> dict[str, float]:
    parents_of = {c: key for key, kids in matings.items() for c in kids}

    def related(a: str, b: str) -> bool:
        return b in partners[a] or (a in parents_of and parents_of.get(b) == parents_of[a])

    gaps: dict[int, list[float]] = {}
    for g, row in rows.items():
        gaps[g] = [
            half[a] + half[b] + _H_PAD + (0.0 if related(a, b) else _FAMILY_PAD)
            for a, b in itertools.pairwise(row)
        ]
    x: dict[str, float] = {}
    for g, row in rows.items():
        pos = 0.0
        for i, pid in enumerate(row):
            if i:
                pos += gaps[g][i - 1]
            x[pid] = pos
    row_of = {pid: g for g, row in rows.items() for pid in row}
    order = sorted(rows)

    def anchor(key: tuple[str, str]) -> float:
        """Where the line of descent will start: the middle, clear of long labels."""
        left, right = sorted(key, key=lambda p: x[p])
        mid = (x[left] + x[right]) / 2
        lo, hi = x[left] + half[left] + 2.0, x[right] - half[right] - 2.0
        return min(max(mid, lo), hi) if lo <= hi else mid

    def solve(g: int, desired: dict[str, float], weight: dict[str, float]) -> None:
        row = rows[g]
        new = _pava_with_gaps([desired[p] for p in row], [weight[p] for p in row], gaps[g])
        for pid, value in zip(row, new):
            x[pid] = value

    def follow_partners(g: int, desired: dict[str, float], weight: dict[str, float]) -> None:
        """People without their own pull move with an adjacent partner who has one."""
        row = rows[g]
        for _ in range(2):
            for i, pid in enumerate(row):
                if pid in desired:
                    continue
                for j in (i - 1, i + 1):
                    if 0 <= j < len(row) and row[j] in desired and row[j] in partners[pid]:
                        gap = gaps[g][min(i, j)]
                        desired[pid] = desired[row[j]] + (gap if j < i else -gap)
                        weight[pid] = 0.8
                        break
        for pid in row:
            if pid not in desired:
                desired[pid], weight[pid] = x[pid], 0.05

    def down(g: int) -> None:
        row = rows[g]
        desired: dict[str, float] = {}
        weight: dict[str, float] = {}
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, pid in enumerate(row):
            if pid in parents_of:
                groups[parents_of[pid]].append(i)
        for key, idx in groups.items():
            # the sibship packed at minimum distances, centred under the mating
            rel = [0.0]
            for a, b in itertools.pairwise(idx):
                rel.append(rel[-1] + sum(gaps[g][a:b]))
            centre = sum(rel) / len(rel)
            target = anchor(key)
            for i, r in zip(idx, rel):
                desired[row[i]] = target + r - centre
                weight[row[i]] = 1.0
        follow_partners(g, desired, weight)
        solve(g, desired, weight)

    def up(g: int) -> None:
        row = rows[g]
        shifts: dict[str, list[float]] = defaultdict(list)
        for key, kids in matings.items():
            if row_of.get(key[0]) != g and row_of.get(key[1]) != g:
                continue
            xs = [x[c] for c in kids]
            shift = (min(xs) + max(xs)) / 2 - anchor(key)
            for p in key:
                if row_of.get(p) == g:
                    shifts[p].append(shift)
        desired: dict[str, float] = {}
        weight: dict[str, float] = {}
        for pid, s in shifts.items():
            desired[pid] = x[pid] + sum(s) / len(s)
            weight[pid] = 1.0
        follow_partners(g, desired, weight)
        for pid in row:  # siblings without children of their own stay near the others
            if weight[pid] < 0.1 and pid in parents_of:
                weight[pid] = 0.3
        solve(g, desired, weight)

    for _ in range(6):
        for g in order[1:]:
            down(g)
        for g in reversed(order[:-1]):
            up(g)
    for g in order[1:]:
        down(g)
    return x


# -- the layout --------------------------------------------------------------------


def layout_pedigree(
    pedigree: Pedigree,
    *,
    labels: Mapping[str, Sequence[str]] | None = None,
    symbol_size: float = SYMBOL_SIZE,
) -> PedigreeLayout:
    """Place every person of ``pedigree`` and compute the connecting lines.

    ``labels`` gives the text lines drawn under each symbol (default: the id);
    they set the horizontal room each person needs and the row heights. The
    result depends only on the arguments.
    """
    ped = pedigree
    S = float(symbol_size)
    labels = {pid: list(labels.get(pid, [pid])) if labels else [pid] for pid in ped.ids}
    matings = _matings(ped)
    partners = _partners(ped, matings)
    gen = _generations(ped, partners)
    consang = _consanguineous(ped, matings)
    half_w = {pid: max(_label_half_width(labels[pid]), S / 2 + 16.0) for pid in ped.ids}

    # per component: generations from 0, rows, x positions
    comp_of: dict[str, int] = {}
    comp_rows: list[dict[int, list[str]]] = []
    xs: dict[str, float] = {}
    cursor = 0.0
    for ci, members in enumerate(ped.components()):
        top = min(gen[p] for p in members)
        for p in members:
            gen[p] -= top
            comp_of[p] = ci
        rows = _order_rows(ped, members, gen, partners, matings)
        comp_rows.append(rows)
        local = _position_component(ped, rows, half_w, partners, matings)
        left = min(local[p] - half_w[p] for p in members)
        right = max(local[p] + half_w[p] for p in members)
        for p in members:
            xs[p] = local[p] - left + cursor
        cursor += right - left + _COMPONENT_GAP
    x0 = _MARGIN + _GEN_LABEL_WIDTH
    for p in xs:
        xs[p] += x0

    # geometry of matings: adjacency, anchors (where the line of descent starts)
    row_lists: dict[int, list[str]] = defaultdict(list)
    for rows in comp_rows:
        for g, row in rows.items():
            row_lists[g].extend(row)
    neighbour_index = {p: (g, i) for g, row in row_lists.items() for i, p in enumerate(row)}

    def clear_point(left: str, right: str, target: float) -> float:
        lo = xs[left] + half_w[left] + 2.0
        hi = xs[right] - half_w[right] - 2.0
        if lo > hi:
            return (lo + hi) / 2
        return min(max(target, lo), hi)

    def clear_x(r: int, x: float) -> float:
        """``x`` if a vertical line there misses everyone on row ``r``, else the nearest such x."""
        spans = [(xs[p] - half_w[p] - 2.0, xs[p] + half_w[p] + 2.0) for p in row_lists.get(r, [])]
        if not any(lo < x < hi for lo, hi in spans):
            return x
        candidates = [spans[0][0] - 8.0, spans[-1][1] + 8.0]
        for (_, hi), (lo, _) in itertools.pairwise(spans):
            if lo - hi >= 2.0:
                candidates.append(min(max(x, hi + 1.0), lo - 1.0))
        return min(candidates, key=lambda c: abs(c - x))

    # sibship lines: their horizontal spans, assigned to tracks per child row
    route: dict[tuple[str, str], list[tuple[int, float]]] = {}
    n_gen = max(gen.values()) + 1
    sib_span: dict[tuple[str, str], tuple[float, float, float]] = {}  # key -> (lo, hi, anchor x)
    anchor_x: dict[tuple[str, str], float] = {}
    kind_of: dict[tuple[str, str], str] = {}
    for key in matings:
        f, m = key
        gf, gm = gen[f], gen[m]
        mid = (xs[f] + xs[m]) / 2
        if gf == gm:
            (_, i), (_, j) = neighbour_index[f], neighbour_index[m]
            row = row_lists[gf]
            lo_i, hi_i = sorted((i, j))
            if hi_i == lo_i + 1:
                kind_of[key] = "adjacent"
                kids = matings[key]
                # an only child hangs straight below when there is room
                target = xs[kids[0]] if len(kids) == 1 else mid
                anchor_x[key] = clear_point(row[lo_i], row[hi_i], target)
            else:
                kind_of[key] = "bracket"
                best = None
                for k in range(lo_i, hi_i):
                    cand = clear_point(row[k], row[k + 1], mid)
                    if best is None or abs(cand - mid) < abs(best - mid):
                        best = cand
                anchor_x[key] = best if best is not None else mid
        else:
            # partners on different rows: the line of descent starts beside the
            # lower partner, on the side facing the upper one
            kind_of[key] = "diagonal"
            upper, lower = (f, m) if gf < gm else (m, f)
            side = -1 if xs[upper] < xs[lower] else 1
            g_low, i = neighbour_index[lower]
            row = row_lists[g_low]
            target = xs[lower] + side * (S / 2 + 12.0)
            if 0 <= i + side < len(row):
                pair = (row[i + side], lower) if side < 0 else (lower, row[i + side])
                anchor_x[key] = clear_point(pair[0], pair[1], target)
            else:
                anchor_x[key] = xs[lower] + side * (half_w[lower] + 8.0)
        # the line of descent dodges people on rows between the mating and the children
        x_now = anchor_x[key]
        jogs: list[tuple[int, float]] = []
        top_row = max(gf, gm)
        for r in range(top_row + 1, gen[matings[key][0]]):
            x_new = clear_x(r, x_now)
            if x_new != x_now:
                jogs.append((r, x_new))
                x_now = x_new
        route[key] = jogs
        kids_x = [xs[c] for c in matings[key]]
        sib_span[key] = (min([*kids_x, x_now]), max([*kids_x, x_now]), x_now)

    tracks: dict[tuple[str, str], int] = {}
    n_tracks = [1] * (n_gen + 1)
    by_child_row: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for key, kids in matings.items():
        by_child_row[gen[kids[0]]].append(key)
    for g, keys in by_child_row.items():
        keys.sort(key=lambda k: (sib_span[k][0], sib_span[k][1]))
        ends: list[float] = []  # right end of the last span on each track
        for key in keys:
            lo, hi, _ = sib_span[key]
            for t, end in enumerate(ends):
                if lo > end + 6.0:
                    tracks[key] = t
                    ends[t] = hi
                    break
            else:
                tracks[key] = len(ends)
                ends.append(hi)
        n_tracks[g] = max(1, len(ends))

    # row heights
    n_lines = [1] * n_gen
    for p in ped.ids:
        n_lines[gen[p]] = max(n_lines[gen[p]], len(labels[p]))
    row_y: dict[int, float] = {}
    y = _MARGIN + S / 2 + (n_tracks[0] - 1) * _TRACK_STEP + _BRACKET_RISE + 6.0
    for g in range(n_gen):
        if g:
            y += (S / 2 + _LABEL_TOP + n_lines[g - 1] * LINE_HEIGHT + _BELOW_LABELS
                  + (n_tracks[g] - 1) * _TRACK_STEP + _SIBSHIP_DROP + S / 2)
        row_y[g] = y
    height = y + S / 2 + _LABEL_TOP + n_lines[-1] * LINE_HEIGHT + _MARGIN
    width = max(xs[p] + half_w[p] for p in ped.ids) + _MARGIN

    diamond = S / 2 * 1.12
    people: dict[str, PersonPlacement] = {}
    for p in ped.ids:
        px, py = xs[p], row_y[gen[p]]
        h = diamond if ped.sex(p) == Sex.UNKNOWN else S / 2
        box = (px - half_w[p], py - S / 2 - 8.0, px + half_w[p],
               py + S / 2 + _LABEL_TOP + len(labels[p]) * LINE_HEIGHT)
        people[p] = PersonPlacement(p, px, py, gen[p], comp_of[p], h, box)

    segments: list[Segment] = []
    for key, kids in matings.items():
        f, m = key
        pf, pm = people[f], people[m]
        a = anchor_x[key]
        kind = kind_of[key]
        double = key in consang
        if kind == "adjacent":
            left_p, right_p = (pf, pm) if pf.x < pm.x else (pm, pf)
            y0 = left_p.y
            offsets = (-2.5, 2.5) if double else (0.0,)
            for n, off in enumerate(offsets):
                segments.append(Segment(left_p.x + left_p.half, y0 + off,
                                        right_p.x - right_p.half, y0 + off,
                                        "mating" if n == 0 else "mating2", key))
            start_y = y0 + (2.5 if double else 0.0)
        elif kind == "bracket":
            left_p, right_p = (pf, pm) if pf.x < pm.x else (pm, pf)
            yb = left_p.y - S / 2 - _BRACKET_RISE
            segments.append(Segment(left_p.x, left_p.y - left_p.half, left_p.x, yb, "mating", key))
            segments.append(Segment(right_p.x, right_p.y - right_p.half, right_p.x, yb, "mating",
                                    key))
            segments.append(Segment(left_p.x, yb, right_p.x, yb, "mating", key))
            if double:
                segments.append(Segment(left_p.x, yb - 4.0, right_p.x, yb - 4.0, "mating2", key))
            start_y = yb
        else:  # partners on different rows (a loop that cannot be levelled)
            upper_p, lower_p = (pf, pm) if pf.y < pm.y else (pm, pf)
            edge = lower_p.x - lower_p.half if a < lower_p.x else lower_p.x + lower_p.half
            # from the upper partner's side (not through their name) down to beside the lower
            ux = upper_p.x + (upper_p.half if a > upper_p.x else -upper_p.half)
            segments.append(Segment(ux, upper_p.y, a, lower_p.y, "mating", key))
            segments.append(Segment(a, lower_p.y, edge, lower_p.y, "mating", key))
            if double:  # a parallel line, 4 px away
                dx, dy = a - ux, lower_p.y - upper_p.y
                norm = (dx * dx + dy * dy) ** 0.5 or 1.0
                ox, oy = 4.0 * dy / norm * (1 if dx > 0 else -1), -4.0 * abs(dx) / norm
                segments.append(Segment(ux + ox, upper_p.y + oy, a + ox, lower_p.y + oy, "mating2",
                                        key))
                segments.append(Segment(a + ox, lower_p.y - 4.0, edge, lower_p.y - 4.0, "mating2",
                                        key))
            start_y = lower_p.y
        child_row = gen[kids[0]]
        y_sib = row_y[child_row] - S / 2 - _SIBSHIP_DROP - tracks[key] * _TRACK_STEP
        for r, x_new in route[key]:
            y_jog = row_y[r] - S / 2 - 12.0
            segments.append(Segment(a, start_y, a, y_jog, "descent", key))
            segments.append(Segment(a, y_jog, x_new, y_jog, "descent", key))
            a, start_y = x_new, y_jog
        segments.append(Segment(a, start_y, a, y_sib, "descent", key))
        lo = min([people[c].x for c in kids] + [a])
        hi = max([people[c].x for c in kids] + [a])
        if hi > lo:
            segments.append(Segment(lo, y_sib, hi, y_sib, "sibship", key))
        for c in kids:
            pc = people[c]
            segments.append(Segment(pc.x, y_sib, pc.x, pc.y - pc.half, "child", key, c))

    return PedigreeLayout(
        people=people,
        segments=tuple(segments),
        rows=row_y,
        width=width,
        height=height,
        symbol_size=S,
        consanguineous=consang,
    )


# -- SVG rendering -----------------------------------------------------------------

# Okabe-Ito colour-blind-safe palette; every colour is paired with a pattern,
# a tag or a text label.
_BLUE = "#0072B2"
_SKY = "#CDE8F7"      # light tint of sky blue #56B4E9, behind black outlines
_VERMILLION = "#D55E00"
_YELLOW = "#F0E442"
_INK = "#1A1A1A"
_GREY = "#595959"

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml(text: object) -> str:
    """Escape text for XML content and attribute values; drop characters XML forbids."""
    return escape(_INVALID_XML.sub("\ufffd", str(text)), quote=True)


def _num(v: float) -> str:
    s = f"{v:.1f}"
    return s.removesuffix(".0")


def _roman(n: int) -> str:
    out = ""
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                       (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out += sym
            n -= value
    return out


def _shape(sex: Sex, x: float, y: float, S: float, fill: str, cls: str, width: float = 1.6) -> str:
    common = f'class="{cls}" fill="{fill}" stroke="{_INK}" stroke-width="{_num(width)}"'
    if sex == Sex.MALE:
        return (f'<rect {common} x="{_num(x - S / 2)}" y="{_num(y - S / 2)}" '
                f'width="{_num(S)}" height="{_num(S)}"/>')
    if sex == Sex.FEMALE:
        return f'<circle {common} cx="{_num(x)}" cy="{_num(y)}" r="{_num(S / 2)}"/>'
    d = S / 2 * 1.12
    pts = (f"{_num(x)},{_num(y - d)} {_num(x + d)},{_num(y)} "
           f"{_num(x)},{_num(y + d)} {_num(x - d)},{_num(y)}")
    return f'<polygon {common} points="{pts}"/>'


def _sex_word(sex: Sex) -> str:
    return {Sex.MALE: "male", Sex.FEMALE: "female"}.get(sex, "sex unknown")


def _check_ids(ped: Pedigree, what: str, ids: Iterable[str]) -> None:
    for pid in ids:
        if pid not in ped:
            raise KinmatchError(f"pedigree drawing: {what} '{pid}' is not in the pedigree")


def pedigree_svg(
    pedigree: Pedigree,
    *,
    missing: Collection[str] = (),
    typed: Collection[str] = (),
    identified: Mapping[str, str] = {},
    title: str | None = None,
    deceased: Collection[str] = (),
    names: Mapping[str, str] | None = None,
    legend: bool = True,
) -> str:
    """Draw ``pedigree`` as a self-contained SVG document (a string).

    ``missing``: the missing persons (hatched, "?", "missing"); ``typed``: the
    DNA-typed reference relatives ("DNA" tag, shaded); ``identified``: missing
    person -> identified sample id, shown as "= V12"; ``deceased``: slashed
    symbols; ``names``: display names instead of the ids (the ids stay in the
    tooltips); ``title``: a heading and the accessible name of the image.
    """
    ped = pedigree
    missing, typed, deceased = set(missing), set(typed), set(deceased)
    identified = dict(identified)
    _check_ids(ped, "missing person", missing)
    _check_ids(ped, "typed person", typed)
    _check_ids(ped, "deceased person", deceased)
    _check_ids(ped, "identified missing person", identified)
    names = dict(names or {})

    def shown(pid: str) -> str:
        return _shorten(str(names.get(pid, pid)))

    labels: dict[str, list[str]] = {}
    for pid in ped.ids:
        lines = [shown(pid)]
        if pid in missing:
            lines.append("missing")
        if pid in identified:
            lines.append("= " + _shorten(str(identified[pid]), 20))
        labels[pid] = lines
    lay = layout_pedigree(ped, labels=labels)
    S = lay.symbol_size

    digest = hashlib.sha1(
        "\x1f".join([title or ""] + [f"{p.id}:{p.father}:{p.mother}" for p in ped]).encode()
    ).hexdigest()[:8]
    uid = f"kmped-{digest}"
    hatch = f"{uid}-hatch"

    heading_h = 28.0 if title else 0.0
    # legend entries: (kind, text)
    entries: list[tuple[str, str]] = []
    sexes = {ped.sex(p) for p in ped.ids}
    if Sex.MALE in sexes:
        entries.append(("male", "Male"))
    if Sex.FEMALE in sexes:
        entries.append(("female", "Female"))
    if Sex.UNKNOWN in sexes:
        entries.append(("unknown", "Sex unknown"))
    if missing:
        entries.append(("missing", "Missing person (?)"))
    if typed:
        entries.append(("typed", "DNA-typed reference relative"))
    if identified:
        entries.append(("identified", "Identified as sample"))
    if deceased:
        entries.append(("deceased", "Deceased"))
    if lay.consanguineous:
        entries.append(("consanguineous", "Mating between relatives"))
    if not legend:
        entries = []
    legend_item_w = [40.0 + _text_width(text) + 24.0 for _, text in entries]
    content_w = max(lay.width, 320.0)
    legend_rows: list[list[int]] = []
    row_w = 0.0
    for i, item_w in enumerate(legend_item_w):
        if not legend_rows or row_w + item_w > content_w - 2 * _MARGIN:
            legend_rows.append([])
            row_w = 0.0
        legend_rows[-1].append(i)
        row_w += item_w
    legend_h = (22.0 + 30.0 * len(legend_rows)) if entries else 0.0
    width = content_w
    height = heading_h + lay.height + legend_h

    title_text = title or "Pedigree"
    n_generations = len({p.generation for p in lay.people.values()})
    summary = [f"Pedigree of {len(ped)} people in {n_generations} generations."]
    if missing:
        summary.append("Missing: " + ", ".join(sorted(str(names.get(p, p)) for p in missing)) + ".")
    if typed:
        summary.append("DNA-typed: " + ", ".join(sorted(str(names.get(p, p)) for p in typed)) + ".")
    for mp, sample in sorted(identified.items()):
        summary.append(f"{names.get(mp, mp)} identified as sample {sample}.")

    out: list[str] = []
    w = out.append
    w(f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_num(width)}" '
      f'height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}" role="img" '
      f'aria-labelledby="{uid}-title {uid}-desc" font-family="Arial, Helvetica, sans-serif" '
      f'font-size="{_num(FONT_SIZE)}" class="kinmatch-pedigree">')
    w(f'<title id="{uid}-title">{_xml(title_text)}</title>')
    w(f'<desc id="{uid}-desc">{_xml(" ".join(summary))}</desc>')
    w("<defs>")
    w(f'<pattern id="{hatch}" patternUnits="userSpaceOnUse" width="7" height="7" '
      f'patternTransform="rotate(45)"><rect width="7" height="7" fill="#FFFFFF"/>'
      f'<line x1="0" y1="0" x2="0" y2="7" stroke="{_VERMILLION}" stroke-width="3"/></pattern>')
    w("</defs>")
    w(f'<rect x="0" y="0" width="{_num(width)}" height="{_num(height)}" fill="#FFFFFF"/>')
    if title:
        w(f'<text class="heading" x="{_num(_MARGIN)}" y="{_num(_MARGIN + 4)}" font-size="15" '
          f'font-weight="bold" fill="{_INK}">{_xml(title)}</text>')

    w(f'<g class="pedigree" transform="translate(0 {_num(heading_h)})">')
    # generation numerals
    w('<g class="generations">')
    for g, gy in sorted(lay.rows.items()):
        w(f'<text x="{_num(_MARGIN)}" y="{_num(gy + 5)}" font-size="13" font-weight="bold" '
          f'fill="{_GREY}"><title>Generation {g + 1}</title>{_roman(g + 1)}</text>')
    w("</g>")
    # lines
    w(f'<g class="lines" stroke="{_INK}" stroke-width="1.6" fill="none" stroke-linecap="square">')
    for seg in lay.segments:
        attrs = (f'class="{seg.kind}" data-father="{_xml(seg.mating[0])}" '
                 f'data-mother="{_xml(seg.mating[1])}"')
        if seg.child is not None:
            attrs += f' data-child="{_xml(seg.child)}"'
        w(f'<line {attrs} x1="{_num(seg.x1)}" y1="{_num(seg.y1)}" x2="{_num(seg.x2)}" '
          f'y2="{_num(seg.y2)}"/>')
    w("</g>")
    # people
    w('<g class="people">')
    for index, pid in enumerate(ped.ids):
        pl = lay.people[pid]
        sex = ped.sex(pid)
        is_missing, is_typed = pid in missing, pid in typed
        flags = []
        if is_missing:
            flags.append("missing person")
        if pid in identified:
            flags.append(f"identified as sample {identified[pid]}")
        if is_typed:
            flags.append("DNA-typed")
        if pid in deceased:
            flags.append("deceased")
        shown_name = names.get(pid, pid)
        tip = f"{shown_name} ({_sex_word(sex)})" + ("".join(", " + f for f in flags))
        if shown_name != pid:
            tip += f" [id {pid}]"
        parents = ped.parents(pid)
        if parents:
            tip += f"; child of {parents[0]} and {parents[1]}"
        data = f'data-person="{_xml(pid)}" data-sex="{_sex_word(sex).replace(" ", "-")}"'
        if is_missing:
            data += ' data-missing="true"'
        if is_typed:
            data += ' data-typed="true"'
        if pid in identified:
            data += f' data-identified="{_xml(identified[pid])}"'
        if pid in deceased:
            data += ' data-deceased="true"'
        w(f'<g class="person" id="{uid}-p{index}" {data}>')
        w(f"<title>{_xml(tip)}</title>")
        fill = f"url(#{hatch})" if is_missing else (_SKY if is_typed else "#FFFFFF")
        w(_shape(sex, pl.x, pl.y, S, fill, "symbol", 2.4 if is_missing else 1.6))
        if is_missing:
            w(f'<circle class="qmark-bg" cx="{_num(pl.x)}" cy="{_num(pl.y)}" r="9" fill="#FFFFFF" '
              f'stroke="none"/>')
            w(f'<text class="missing-mark" x="{_num(pl.x)}" y="{_num(pl.y + 6.5)}" '
              f'text-anchor="middle" font-size="18" font-weight="bold" fill="{_INK}">?</text>')
        if pid in deceased:
            lo, hi = S / 2 + 3, S / 2 + 7  # short below: the name is there
            w(f'<line class="deceased-mark" x1="{_num(pl.x - lo)}" y1="{_num(pl.y + lo)}" '
              f'x2="{_num(pl.x + hi)}" y2="{_num(pl.y - hi)}" stroke="{_INK}" stroke-width="1.6"/>')
        if is_typed:
            tx, ty = pl.x + S / 2 - 8, pl.y - S / 2 - 7
            w(f'<g class="typed-mark"><rect x="{_num(tx)}" y="{_num(ty)}" width="26" height="13" '
              f'rx="3" fill="{_BLUE}" stroke="#FFFFFF" stroke-width="1"/>'
              f'<text x="{_num(tx + 13)}" y="{_num(ty + 10)}" text-anchor="middle" font-size="9" '
              f'font-weight="bold" fill="#FFFFFF">DNA</text></g>')
        ly = pl.y + S / 2 + _LABEL_TOP + FONT_SIZE - 1
        for n, line in enumerate(labels[pid]):
            yy = ly + n * LINE_HEIGHT
            if n == 0:
                w(f'<text class="name" x="{_num(pl.x)}" y="{_num(yy)}" text-anchor="middle" '
                  f'fill="{_INK}">{_xml(line)}</text>')
            elif line == "missing" and is_missing and n == 1:
                w(f'<text class="missing-label" x="{_num(pl.x)}" y="{_num(yy)}" '
                  f'text-anchor="middle" font-style="italic" fill="{_INK}">missing</text>')
            else:
                tw = _text_width(line, bold=True) + 8
                w(f'<rect class="identified-bg" x="{_num(pl.x - tw / 2)}" '
                  f'y="{_num(yy - FONT_SIZE + 0.5)}" width="{_num(tw)}" '
                  f'height="{_num(LINE_HEIGHT)}" rx="3" fill="{_YELLOW}" '
                  f'stroke="{_INK}" stroke-width="0.8"/>')
                w(f'<text class="identified-label" x="{_num(pl.x)}" y="{_num(yy)}" '
                  f'text-anchor="middle" font-weight="bold" fill="{_INK}">{_xml(line)}</text>')
        w("</g>")
    w("</g>")
    w("</g>")

    # legend
    if entries:
        top = heading_h + lay.height
        w(f'<g class="legend" transform="translate({_num(_MARGIN)} {_num(top)})">')
        w(f'<text x="0" y="10" font-weight="bold" fill="{_INK}">Legend</text>')
        for r, items in enumerate(legend_rows):
            lx = 0.0
            cy = 22.0 + 30.0 * r + 12.0
            for i in items:
                kind, text = entries[i]
                w(_legend_symbol(kind, lx + 12, cy, hatch))
                w(f'<text x="{_num(lx + 40)}" y="{_num(cy + 4)}" fill="{_INK}">{_xml(text)}</text>')
                lx += legend_item_w[i]
        w("</g>")
    w("</svg>")
    return "\n".join(out)


def _legend_symbol(kind: str, x: float, y: float, hatch: str) -> str:
    s = 18.0
    if kind in ("male", "female", "unknown"):
        sex = {"male": Sex.MALE, "female": Sex.FEMALE}.get(kind, Sex.UNKNOWN)
        return _shape(sex, x, y, s, "#FFFFFF", "legend-symbol", 1.4)
    if kind == "missing":
        return (_shape(Sex.MALE, x, y, s, f"url(#{hatch})", "legend-symbol", 2.0)
                + f'<circle cx="{_num(x)}" cy="{_num(y)}" r="5.5" fill="#FFFFFF"/>'
                f'<text x="{_num(x)}" y="{_num(y + 4.5)}" text-anchor="middle" font-size="12" '
                f'font-weight="bold" fill="{_INK}">?</text>')
    if kind == "typed":
        return (_shape(Sex.MALE, x, y, s, _SKY, "legend-symbol", 1.4)
                + f'<rect x="{_num(x + 1)}" y="{_num(y - 15)}" width="22" height="11" rx="3" '
                f'fill="{_BLUE}"/><text x="{_num(x + 12)}" y="{_num(y - 6.5)}" '
                'text-anchor="middle" font-size="8" font-weight="bold" fill="#FFFFFF">DNA</text>')
    if kind == "identified":
        return (f'<rect x="{_num(x - 12)}" y="{_num(y - 8)}" width="26" height="15" rx="3" '
                f'fill="{_YELLOW}" stroke="{_INK}" stroke-width="0.8"/>'
                f'<text x="{_num(x + 1)}" y="{_num(y + 4)}" text-anchor="middle" font-size="10" '
                f'font-weight="bold" fill="{_INK}">= V</text>')
    if kind == "deceased":
        return (_shape(Sex.MALE, x, y, s, "#FFFFFF", "legend-symbol", 1.4)
                + f'<line x1="{_num(x - 13)}" y1="{_num(y + 13)}" x2="{_num(x + 13)}" '
                f'y2="{_num(y - 13)}" stroke="{_INK}" stroke-width="1.4"/>')
    # consanguineous: double line
    return (f'<line x1="{_num(x - 12)}" y1="{_num(y - 2.5)}" '
            f'x2="{_num(x + 12)}" y2="{_num(y - 2.5)}" stroke="{_INK}" stroke-width="1.6"/>'
            f'<line x1="{_num(x - 12)}" y1="{_num(y + 2.5)}" '
            f'x2="{_num(x + 12)}" y2="{_num(y + 2.5)}" stroke="{_INK}" stroke-width="1.6"/>')


def reference_family_svg(
    family: ReferenceFamily,
    *,
    identified: Mapping[str, str] = {},
    title: str | None = None,
    deceased: Collection[str] = (),
    names: Mapping[str, str] | None = None,
    legend: bool = True,
) -> str:
    """Draw a :class:`~kinmatch.dvi.case.ReferenceFamily`: its missing persons and
    typed relatives (those with a non-empty profile) are marked; the other
    options are those of :func:`pedigree_svg`."""
    typed = [pid for pid, prof in family.profiles.items() if prof]
    return pedigree_svg(
        family.pedigree,
        missing=family.missing,
        typed=typed,
        identified=identified,
        title=title if title is not None else f"Family {family.name}",
        deceased=deceased,
        names=names,
        legend=legend,
    )
