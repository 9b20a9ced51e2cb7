"""The contraction engine (kinmatch.contraction) against numpy.einsum."""

from __future__ import annotations

import gc

import numpy as np
import opt_einsum as oe
import pytest

from kinmatch.likelihood import contraction
from kinmatch.likelihood.contraction import (
    ContractionPlanner,
    compile_matmul_plan,
    contract,
    contraction_path,
    einsum_subscripts,
    elimination_path,
    opt_einsum_path,
    path_cost,
)
from kinmatch.likelihood.network import PeelingContext
from kinmatch.likelihood.peeling import genotype_distribution, markers_loglik
from kinmatch.markers import Marker
from kinmatch.pedigree import pedigree_from_records


def _random_network(rng, n_markers=5):
    """Factors over a few variables of random sizes, all with the marker axis
    first, like a pedigree network (a chain with side branches and a loop)."""
    sizes = [int(rng.integers(2, 6)) for _ in range(7)]
    variables = [(0,), (0, 1), (1, 2), (2, 3, 4), (1, 4), (4, 5), (5, 6), (3,), (6, 0)]
    arrays = [rng.random((n_markers, *(sizes[v] for v in vs))) for vs in variables]
    return variables, arrays


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("output", [(), (3,), (5, 1)])
def test_matmul_plan_equals_einsum(seed, output):
    rng = np.random.default_rng(seed)
    variables, arrays = _random_network(rng)
    subs = einsum_subscripts(variables, output)
    want = np.einsum(subs, *arrays)
    got = contract(subs, arrays)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # the elimination order gives the same sum
    shapes = tuple(a.shape for a in arrays)
    plan = compile_matmul_plan(subs, shapes, elimination_path(subs, shapes))
    np.testing.assert_allclose(plan(*arrays), want, rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_networks_of_more_than_12_factors_take_the_greedy_path(seed):
    """Beyond 12 factors the first path is cotengrust's greedy search
    (greedy_path): a ladder of 18 factors over 10 variables contracts to the
    same sum as opt_einsum's own contraction."""
    rng = np.random.default_rng(40 + seed)
    sizes = [int(rng.integers(2, 6)) for _ in range(10)]
    variables = [(v,) for v in range(0, 10, 3)]
    variables += [(v, v + 1) for v in range(9)] + [(v, v + 2) for v in range(0, 8, 2)]
    variables += [(9, 0)]
    arrays = [rng.random((4, *(sizes[v] for v in vs))) for vs in variables]
    assert len(arrays) > 12
    subs = einsum_subscripts(variables, (5,))
    shapes = tuple(a.shape for a in arrays)
    path = contraction.greedy_path(subs, shapes)
    assert contraction_path(subs, shapes) == path  # cheap: no second search
    want = oe.contract(subs, *arrays)
    np.testing.assert_allclose(compile_matmul_plan(subs, shapes, path)(*arrays), want,
                               rtol=1e-12)
    np.testing.assert_allclose(contract(subs, arrays), want, rtol=1e-12)


def test_chunks_over_markers_give_the_same_result(monkeypatch):
    rng = np.random.default_rng(11)
    variables, arrays = _random_network(rng, n_markers=37)
    subs = einsum_subscripts(variables, (2,))
    shapes = tuple(a.shape for a in arrays)
    plan = compile_matmul_plan(subs, shapes, contraction_path(subs, shapes))
    whole = plan(*arrays)
    monkeypatch.setattr(contraction, "CHUNK_BYTES", 8 * plan.largest_per_marker * 5)
    chunked = plan(*arrays)  # 8 chunks of at most 5 markers
    np.testing.assert_allclose(chunked, whole, rtol=1e-14)
    np.testing.assert_allclose(whole, np.einsum(subs, *arrays), rtol=1e-12)


def test_repeated_index_falls_back_to_opt_einsum():
    rng = np.random.default_rng(3)
    a, b = rng.random((4, 3, 3)), rng.random((4, 3))
    assert compile_matmul_plan("abb,ab->a", (a.shape, b.shape), [(0, 1)]) is None
    np.testing.assert_allclose(contract("abb,ab->a", [a, b]), np.einsum("abb,ab->a", a, b),
                               rtol=1e-12)


def test_deep_pedigree_gets_a_path_without_huge_intermediates(monkeypatch):
    """A missing man, his untyped parents and brother, the brother's wife
    and three children (each with a spouse and a typed child), the missing
    man's wife, child and typed grandchild: at a stepwise marker of 32
    alleles (no lumping) min-size elimination and opt_einsum's greedy
    search make a 32^5-entry intermediate (268 MB per marker, ~0.5 s);
    the randomised searches find a path whose intermediates stay within
    2 * 32^4."""
    rows = [("F", None, None, 1), ("M", None, None, 2), ("K", "F", "M", 1), ("B", "F", "M", 1),
            ("BW", None, None, 2), ("KW", None, None, 2), ("KC", "K", "KW", 2),
            ("KCH", None, None, 1), ("KCC", "KCH", "KC", 2)]
    for i in range(3):
        rows += [(f"B{i}", "B", "BW", 2), (f"B{i}H", None, None, 1),
                 (f"B{i}C", f"B{i}H", f"B{i}", 2)]
    ped = pedigree_from_records([{"id": i, "father": f, "mother": m, "sex": s}
                                 for i, f, m, s in rows])
    n = 32
    marker = Marker.create("STR", [str(8 + i) for i in range(n)], np.full(n, 1.0 / n),
                           mutation={"model": "stepwise", "rate": 0.002, "range": 0.1,
                                     "rate2": 1e-6})
    data = {"KCC": (3, 4), "B0C": (4, 5), "B1C": (5, 6), "B2C": (3, 7)}
    plans = []
    original = contraction.compile_matmul_plan

    def spy(subscripts, shapes, path):
        plan = original(subscripts, shapes, path)
        plans.append((subscripts, shapes, plan))
        return plan

    monkeypatch.setattr(contraction, "compile_matmul_plan", spy)
    # a fresh context: every path is searched and every plan compiled here
    loglik, dist = genotype_distribution(ped, marker, data, "K", context=PeelingContext())
    assert np.isfinite(loglik) and dist.sum() == pytest.approx(1.0, rel=1e-12)
    subscripts, shapes, plan = max(plans, key=lambda p: p[2].largest_per_marker)
    assert plan.largest_per_marker <= 2 * n**4
    # min-size elimination alone (the path before the randomised search)
    _, info = oe.contract_path(subscripts, *shapes, shapes=True,
                               optimize=elimination_path(subscripts, shapes))
    assert info.largest_intermediate / shapes[0][0] >= n**5


def test_random_greedy_path_is_reproducible_and_exact():
    rng = np.random.default_rng(8)
    variables, arrays = _random_network(rng)
    subs = einsum_subscripts(variables, (2,))
    shapes = tuple(a.shape for a in arrays)
    path = contraction.random_greedy_path(subs, shapes)
    assert path == contraction.random_greedy_path(subs, shapes)
    plan = compile_matmul_plan(subs, shapes, path)
    np.testing.assert_allclose(plan(*arrays), np.einsum(subs, *arrays), rtol=1e-12)


def test_planner_keeps_one_path_per_structure_within_its_bounds():
    """Paths are kept by structure (not by the number of markers); executors
    by exact shapes, the most recently used within the bound."""
    rng = np.random.default_rng(5)
    planner = ContractionPlanner(max_paths=1, max_executors=2)
    variables, arrays = _random_network(rng, n_markers=3)
    subs = einsum_subscripts(variables, ())
    for n in (3, 4, 5):
        resized = [np.resize(a, (n, *a.shape[1:])) for a in arrays]
        np.testing.assert_allclose(planner.contract(subs, resized), np.einsum(subs, *resized),
                                   rtol=1e-12)
    assert planner.n_paths == 1  # one structure
    assert planner.n_executors == 2  # three shapes, the latest two kept
    other = einsum_subscripts(variables, (1,))
    np.testing.assert_allclose(planner.contract(other, arrays), np.einsum(other, *arrays),
                               rtol=1e-12)
    assert planner.n_paths == 1  # full: the new structure's path is not kept


@pytest.mark.parametrize("seed", range(6))
def test_path_search_and_cost_are_opt_einsums_own(seed):
    """opt_einsum_path and path_cost work out what oe.contract_path returns (its
    path, and its opt_cost plus WRITE_WEIGHT times the sum of its size_list)."""
    rng = np.random.default_rng(seed)
    variables, arrays = _random_network(rng, n_markers=int(rng.integers(1, 9)))
    subs = einsum_subscripts(variables, (2,) if seed % 2 else ())
    shapes = tuple(a.shape for a in arrays)
    for optimize in ("greedy", "auto-hq"):
        want, info = oe.contract_path(subs, *shapes, shapes=True, optimize=optimize)
        got = opt_einsum_path(subs, shapes, optimize)
        assert got == [tuple(step) for step in want]
    for path in (got, elimination_path(subs, shapes), contraction.random_greedy_path(subs, shapes)):
        _, info = oe.contract_path(subs, *shapes, shapes=True, optimize=path)
        assert path_cost(subs, shapes, path) == (
            float(info.opt_cost) + contraction.WRITE_WEIGHT * float(sum(info.size_list)))


def test_a_cheap_batch_keeps_opt_einsums_path_until_a_larger_batch_asks_for_it(monkeypatch):
    """A ring of six 16-allele variables with chords costs 2.0e6 per marker on
    opt_einsum's path: above SEARCH_HARDER_COST, so the randomised searches
    apply, but for one marker the whole batch costs less than SEARCH_BUDGET
    and the path is kept as it is; 60 markers of the same structure cost
    1.2e8, and the planner searches again (once)."""
    calls = []
    original = contraction.random_greedy_path

    def spy(subscripts, shapes):
        calls.append(shapes[0][0])
        return original(subscripts, shapes)

    monkeypatch.setattr(contraction, "random_greedy_path", spy)
    variables = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3), (1, 4), (2, 5), (0,),
                 (3,)]
    subs = einsum_subscripts(variables, ())
    rng = np.random.default_rng(2)
    planner = ContractionPlanner()
    for markers, searched in ((1, []), (1, []), (60, [60]), (1, [60]), (90, [60])):
        arrays = [rng.random((markers, *(16 for _ in vs))) for vs in variables]
        shapes = tuple(a.shape for a in arrays)
        cost = path_cost(subs, shapes, opt_einsum_path(subs, shapes, "auto-hq"))
        assert cost / markers > contraction.SEARCH_HARDER_COST
        assert (cost > contraction.SEARCH_BUDGET) == (markers > 1)
        np.testing.assert_allclose(planner.contract(subs, arrays),
                                   oe.contract(subs, *arrays), rtol=1e-12)
        assert calls == searched
    assert planner.n_paths == 1


def test_peeling_context_keeps_a_markers_alphabets_while_the_marker_lives():
    """Alphabets are kept by marker (not by id, which a new marker may
    reuse): they are found again on the next call and go with the marker."""
    ped = pedigree_from_records([{"id": "F", "sex": 1}, {"id": "M", "sex": 2},
                                 {"id": "C", "father": "F", "mother": "M", "sex": 1}])
    context = PeelingContext()
    marker = Marker.create("STR", ["8", "9", "10", "11"], [0.1, 0.2, 0.3, 0.4],
                           mutation={"model": "equal", "rate": 0.01})
    data = [{"F": (0, 1), "C": (1, 2)}]
    first = markers_loglik(ped, [marker], data, context=context)
    assert context.n_markers == 1 and context.planner.n_paths >= 1
    alphabets = context.alphabets(marker)
    kept = len(alphabets)
    np.testing.assert_array_equal(markers_loglik(ped, [marker], data, context=context), first)
    assert context.alphabets(marker) is alphabets and len(alphabets) == kept
    assert context.mutation_free(marker) is context.mutation_free(marker)
    assert context.mutation_free(marker).mutation is None
    del marker, alphabets
    gc.collect()
    assert context.n_markers == 0
