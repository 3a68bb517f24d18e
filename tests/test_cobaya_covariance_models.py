"""Covariance models of cobaya_szlite.bandpowers (framework-free): values against NumPy,
gradients against central finite differences, one factorisation per point.

Test problem (n = 5 bins, 2 parameters theta): model m(theta) = m0 + B theta (B fixed),
trispectrum T(theta) = T0 + theta_0 A0 + theta_1^2 A1 (A0, A1 symmetric positive
semi-definite), so dm/dtheta = B and dT/dtheta = (A0, 2 theta_1 A1) are known exactly.
"""

import numpy as np
import pytest

from cobaya_szlite.bandpowers import (
    DataFormatError,
    FixedCovariance,
    NotPositiveDefiniteError,
    VaryingCovariance,
)

N, F_SKY = 5, 0.47
RNG = np.random.default_rng(3)
_X = RNG.normal(size=(N, N))
GAUSS = np.diag(RNG.uniform(1.0, 2.0, N))
T0 = _X @ _X.T
A0 = np.outer(*(2 * [RNG.normal(size=N)]))
A1 = np.eye(N) + 0.3 * np.ones((N, N))
B = RNG.normal(size=(N, 2))
DATA = RNG.normal(size=N)
M0 = RNG.normal(size=N)


def _tll(theta):
    return T0 + theta[0] * A0 + theta[1] ** 2 * A1


def _dtll(theta):
    return np.stack([A0, 2 * theta[1] * A1])


def _residual(theta):
    return DATA - (M0 + B @ theta)


def _numpy_logp(theta):
    cov = GAUSS + _tll(theta) / (4 * np.pi * F_SKY)
    r = _residual(theta)
    return -0.5 * (r @ np.linalg.solve(cov, r) + np.linalg.slogdet(cov)[1] - np.linalg.slogdet(GAUSS)[1])


def test_fixed_and_fixed_trispectrum_against_numpy():
    r = _residual(np.array([0.3, 0.2]))
    fixed = FixedCovariance(GAUSS)
    assert fixed.logp(r) == pytest.approx(-0.5 * r @ np.linalg.solve(GAUSS, r), rel=1e-13)
    model = FixedCovariance.with_trispectrum(GAUSS, T0, F_SKY)
    cov = GAUSS + T0 / (4 * np.pi * F_SKY)
    np.testing.assert_allclose(model.covariance(), cov, rtol=1e-15)
    assert model.logp(r) == pytest.approx(-0.5 * r @ np.linalg.solve(cov, r), rel=1e-13)
    np.testing.assert_allclose(model.logp_gradient(r, B), r @ np.linalg.solve(cov, B), rtol=1e-12)
    np.testing.assert_allclose(model.fisher(B), B.T @ np.linalg.solve(cov, B), rtol=1e-12)
    with pytest.raises(DataFormatError, match="not positive definite"):
        FixedCovariance(-GAUSS)


def test_varying_value_gradient_and_fisher():
    theta = np.array([0.3, 0.7])
    model = VaryingCovariance(GAUSS, F_SKY)
    assert model.logp(_residual(theta), _tll(theta)) == pytest.approx(_numpy_logp(theta), rel=1e-12)
    grad = model.logp_gradient(_residual(theta), B, _tll(theta), _dtll(theta))
    # central differences, step 1e-5: truncation ~1e-10, rounding ~1e-11 on values O(1)
    step = 1e-5
    for k in range(2):
        e = np.eye(2)[k] * step
        numeric = (_numpy_logp(theta + e) - _numpy_logp(theta - e)) / (2 * step)
        assert grad[k] == pytest.approx(numeric, rel=1e-7, abs=1e-9)
    cov = GAUSS + _tll(theta) / (4 * np.pi * F_SKY)
    cinv = np.linalg.inv(cov)
    dcov = _dtll(theta) / (4 * np.pi * F_SKY)
    expected = B.T @ cinv @ B + 0.5 * np.array(
        [[np.trace(cinv @ dcov[a] @ cinv @ dcov[b]) for b in range(2)] for a in range(2)]
    )
    np.testing.assert_allclose(model.fisher(B, _tll(theta), _dtll(theta)), expected, rtol=1e-10)


def test_varying_factorises_once_per_point_and_refuses_non_positive_definite():
    model = VaryingCovariance(GAUSS, F_SKY)
    for k, theta in enumerate((np.array([0.3, 0.7]), np.array([0.31, 0.7]))):
        args = (_tll(theta), _dtll(theta))
        model.logp(_residual(theta), args[0])
        model.logp_gradient(_residual(theta), B, *args)
        model.fisher(B, *args)
        assert model.n_factorisations == k + 1
    with pytest.raises(NotPositiveDefiniteError, match="smallest eigenvalue"):
        model.logp(DATA, -10 * 4 * np.pi * F_SKY * GAUSS)
