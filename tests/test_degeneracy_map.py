"""cobaya_szlite.degeneracy_map: the sheared sampling coordinates of NUTS.

Exact checks (no Monte Carlo): the map inverts to 1e-12, its log-Jacobian equals the log
of the determinant of JAX's Jacobian, and the least-squares fit recovers a polynomial
relation in the map's regressors exactly (residual at round-off). Sampling with the map is tested in
tests/test_nuts.py (the thin curved shell).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cobaya_szlite.degeneracy_map import DegeneracyMap

# x0 in [0.2, 1.2] (the pivot, positive: sampled as ln x0), x1 in [4, 16] (logit, ln x1 as
# regressor), x2 Gaussian prior (unbounded, regressor x2 itself), x3 in [-1, 5] (logit,
# regressor x3 itself as its support reaches below 0)
BOUNDS = [[0.2, 1.2], [4.0, 16.0], [-np.inf, np.inf], [-1.0, 5.0]]


def _samples(n, noise=0.0, seed=3):
    """ln x0 = 0.3 - 0.25 ln x1 + 0.1 (ln x1)^2 - 0.05 x2 x3 - 1.2 (+ noise)."""
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.uniform(4.5, 15.5, n), rng.normal(0.0, 0.5, n), rng.uniform(-0.5, 4.5, n)
    ln_x0 = 0.3 - 0.25 * np.log(x1) + 0.1 * np.log(x1) ** 2 - 0.05 * x2 * x3 - 1.2
    return np.c_[np.exp(ln_x0 + noise * rng.normal(size=n)), x1, x2, x3]


@pytest.fixture(scope="module")
def fitted():
    coordinates = DegeneracyMap.build(BOUNDS, pivot=0, degree=2)
    x = _samples(200)
    fit, summary = coordinates.fit(x)
    return coordinates, fit, summary, x


def test_fit_recovers_a_polynomial_relation(fitted):
    """A quadratic relation in (ln x1, x2, x3) is fitted exactly: residual at round-off; x3,
    whose prior reaches below zero, and x2 (Gaussian prior) enter as themselves."""
    coordinates, fit, summary, x = fitted
    assert coordinates.pivot_log and list(coordinates.feature_log) == [True, True, False, False]
    assert summary["n_terms"] == 3 + 6 and summary["n_samples"] == 200
    assert summary["residual_sd"] < 1e-12 * summary["sd"]
    # so the pivot's sampled coordinate is the same constant at every sample
    u = coordinates.to_unconstrained(x, fit)
    assert np.ptp(u[:, 0]) < 1e-12
    # beyond the fitted range the regressor saturates within one standard deviation: the
    # polynomial stays bounded (the same at x3 = 1e6 and 1e9), and it is continuous there
    shear = [float(coordinates.shear(jnp.asarray(np.r_[x[0, 1:3], x3]), fit))
             for x3 in (x[:, 3].max(), x[:, 3].max() * (1 + 1e-9), 1e6, 1e9)]
    assert shear[2] == pytest.approx(shear[3], abs=1e-12) and np.isfinite(shear[2])
    assert shear[1] == pytest.approx(shear[0], abs=1e-8)


def test_degree_lowered_with_few_samples():
    """9 samples cannot fit the 10 coefficients of degree 2 (3 per coefficient): linear only."""
    coordinates = DegeneracyMap.build(BOUNDS, pivot=0, degree=2)
    _, summary = coordinates.fit(_samples(15))
    assert summary["n_terms"] == 3
    with pytest.raises(ValueError, match="too few"):
        coordinates.fit(_samples(11))


def test_round_trip_and_log_jacobian(fitted):
    """x(u(x)) = x, batched and single; ln|det dx/du| equals JAX's Jacobian determinant."""
    coordinates, fit, _, _ = fitted
    x = _samples(5, noise=0.05, seed=4)
    u = coordinates.to_unconstrained(x, fit)
    back = np.asarray(jax.vmap(lambda v: coordinates.to_constrained(v, fit))(jnp.asarray(u)))
    np.testing.assert_allclose(back, x, rtol=1e-12)
    np.testing.assert_allclose(coordinates.to_unconstrained(x[2], fit), u[2], rtol=1e-13)
    for v in u:
        jacobian = coordinates.jacobian(v, fit)
        assert jacobian[0, 1] != 0.0  # the shear: x0 depends on the others' coordinates
        expected = np.linalg.slogdet(jacobian)[1]
        assert float(coordinates.log_jacobian(jnp.asarray(v), fit)) == pytest.approx(expected, abs=1e-11)


def test_pivot_walls_and_identity_cases():
    """The pivot keeps its bounds as walls; without a pivot the map is the Bijection; a pivot
    whose support reaches below zero is sampled as itself (no log)."""
    coordinates = DegeneracyMap.build(BOUNDS, pivot=0)
    assert bool(coordinates.in_walls(jnp.array([0.5, 8.0, 0.0, 1.0])))
    assert not bool(coordinates.in_walls(jnp.array([1.3, 8.0, 0.0, 1.0])))
    with pytest.raises(ValueError, match="strictly inside"):
        coordinates.to_unconstrained([1.2, 8.0, 0.0, 1.0], coordinates.identity_fit())
    # before any fit: u0 = ln x0
    x = np.array([0.5, 8.0, 0.3, 1.0])
    assert coordinates.to_unconstrained(x, coordinates.identity_fit())[0] == pytest.approx(np.log(0.5))
    plain = DegeneracyMap.build(BOUNDS)
    np.testing.assert_array_equal(plain.to_unconstrained(x, plain.identity_fit()),
                                  plain.bijection.to_unconstrained(x))
    linear = DegeneracyMap.build(BOUNDS, pivot=3, degree=1)
    assert not linear.pivot_log
    u = linear.to_unconstrained(x, linear.identity_fit())
    assert u[3] == pytest.approx(1.0) and float(linear.log_jacobian(jnp.asarray(u), linear.identity_fit())) == \
        pytest.approx(float(linear.bijection.log_jacobian(jnp.asarray(u))))
    with pytest.raises(ValueError, match="degree"):
        DegeneracyMap.build(BOUNDS, pivot=0, degree=4)
    with pytest.raises(ValueError, match="out of range"):
        DegeneracyMap.build(BOUNDS, pivot=4)
