"""The contraction engine (kinmatch.contraction) against numpy.einsum."""

from __future__ import annotations

import numpy as np
import pytest

from kinmatch import contraction
from kinmatch.contraction import (
    compile_matmul_plan,
    contract,
    contraction_path,
    einsum_subscripts,
    elimination_path,
)


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
