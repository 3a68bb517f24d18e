"""The bandpower ln L of cobaya_szlite.likelihood_math (framework-free, JAX): values against
NumPy, autodiff gradients against the closed forms and central finite differences, the
autodiff Fisher matrix against the closed form.

Test problem (n = 5 bins, 2 parameters theta, 2 foreground amplitudes): tSZ model
m(theta) = m0 + B theta (B fixed), trispectrum T(theta) = T0 + theta_0 A0 + theta_1^2 A1
(A0, A1 symmetric positive semi-definite), so dm/dtheta = B and dT/dtheta = (A0, 2 theta_1 A1)
are known exactly.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cobaya_szlite.bandpowers import DataFormatError, check_covariance
from cobaya_szlite.likelihood_math import bandpower_fisher, bandpower_ln_like, bandpower_set

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
TEMPLATES = RNG.normal(size=(2, N))
AMPLITUDES = np.array([0.4, -0.2])
THETA = np.array([0.3, 0.7])


def _tll(theta):
    return T0 + theta[0] * A0 + theta[1] ** 2 * A1


def _dtll(theta):
    return np.stack([A0, 2 * theta[1] * A1])


def _residual(theta, amplitudes=AMPLITUDES):
    return DATA - (M0 + B @ theta + amplitudes @ TEMPLATES)


def _numpy_logp(theta, amplitudes=AMPLITUDES):
    cov = GAUSS + _tll(theta) / (4 * np.pi * F_SKY)
    r = _residual(theta, amplitudes)
    return -0.5 * (r @ np.linalg.solve(cov, r) + np.linalg.slogdet(cov)[1] - np.linalg.slogdet(GAUSS)[1])


VARYING = bandpower_set(DATA, TEMPLATES, GAUSS, F_SKY)


def _jax_logp(theta, amplitudes=AMPLITUDES):
    theta = jnp.asarray(theta)
    tll = T0 + theta[0] * A0 + theta[1] ** 2 * A1
    return bandpower_ln_like(VARYING, M0 + B @ theta, amplitudes, tll)


def test_fixed_covariance_against_numpy():
    """Fixed covariance (Gaussian, or Gaussian + a fixed trispectrum): -r^T C^-1 r / 2 to
    1e-13 (rounding of an 18-term sum), its gradient r^T C^-1 J, its Fisher J^T C^-1 J."""
    r = _residual(THETA)
    for cov in (GAUSS, GAUSS + T0 / (4 * np.pi * F_SKY)):
        bset = bandpower_set(DATA, TEMPLATES, cov)
        value = bandpower_ln_like(bset, M0 + B @ THETA, AMPLITUDES)
        assert float(value) == pytest.approx(-0.5 * r @ np.linalg.solve(cov, r), rel=1e-13)
        grad = jax.grad(lambda t, b=bset: bandpower_ln_like(b, M0 + B @ t, AMPLITUDES))(THETA)
        np.testing.assert_allclose(grad, r @ np.linalg.solve(cov, B), rtol=1e-12)
        fisher = bandpower_fisher(bset, M0 + B @ THETA, AMPLITUDES, B, np.zeros((2, 2)))
        np.testing.assert_allclose(fisher, B.T @ np.linalg.solve(cov, B), rtol=1e-12)


def test_varying_value_gradient_and_fisher():
    """Varying covariance: ln L with its ln det against NumPy (1e-12); the autodiff
    gradient against the closed form r^T C^-1 J + r^T C^-1 dC C^-1 r / 2 - tr(C^-1 dC) / 2
    (1e-10) and central differences (step 1e-5: truncation ~1e-10, rounding ~1e-11 on
    values O(1)); the amplitudes' gradient r^T C^-1 template; the autodiff Fisher against
    J^T C^-1 J + tr(C^-1 dC_a C^-1 dC_b) / 2 (1e-10)."""
    assert float(_jax_logp(THETA)) == pytest.approx(_numpy_logp(THETA), rel=1e-12)
    grad = np.asarray(jax.grad(_jax_logp)(THETA))
    cov = GAUSS + _tll(THETA) / (4 * np.pi * F_SKY)
    cinv = np.linalg.inv(cov)
    dcov = _dtll(THETA) / (4 * np.pi * F_SKY)
    r = _residual(THETA)
    closed = (B.T @ cinv @ r + 0.5 * np.einsum("i,pij,j->p", cinv @ r, dcov, cinv @ r)
              - 0.5 * np.einsum("pij,ji->p", dcov, cinv))
    np.testing.assert_allclose(grad, closed, rtol=1e-10)
    step = 1e-5
    for k in range(2):
        e = np.eye(2)[k] * step
        numeric = (_numpy_logp(THETA + e) - _numpy_logp(THETA - e)) / (2 * step)
        assert grad[k] == pytest.approx(numeric, rel=1e-7, abs=1e-9)
    grad_amplitudes = jax.grad(lambda a: _jax_logp(THETA, a))(AMPLITUDES)
    np.testing.assert_allclose(grad_amplitudes, TEMPLATES @ cinv @ r, rtol=1e-10)
    fisher = bandpower_fisher(VARYING, M0 + B @ THETA, AMPLITUDES, B, np.zeros((2, 2)), _tll(THETA), _dtll(THETA))
    expected = B.T @ cinv @ B + 0.5 * np.array(
        [[np.trace(cinv @ dcov[a] @ cinv @ dcov[b]) for b in range(2)] for a in range(2)])
    np.testing.assert_allclose(fisher, expected, rtol=1e-10)


def test_fisher_with_amplitudes_as_parameters():
    """Parameters (theta_0, theta_1, A_0, A_1): the amplitudes' block is T C^-1 T^T, the
    cross block B^T C^-1 T^T (a linear model: J = [B, T^T])."""
    jac_tsz = np.hstack([B, np.zeros((N, 2))])
    jac_amp = np.hstack([np.zeros((2, 2)), np.eye(2)])
    fisher = bandpower_fisher(VARYING, M0 + B @ THETA, AMPLITUDES, jac_tsz, jac_amp, _tll(THETA),
                              np.concatenate([_dtll(THETA), np.zeros((2, N, N))]))
    cinv = np.linalg.inv(GAUSS + _tll(THETA) / (4 * np.pi * F_SKY))
    np.testing.assert_allclose(fisher[2:, 2:], TEMPLATES @ cinv @ TEMPLATES.T, rtol=1e-10)
    np.testing.assert_allclose(fisher[:2, 2:], B.T @ cinv @ TEMPLATES.T, rtol=1e-10)


def test_not_positive_definite_is_nan_and_refused_at_load():
    """A varying covariance that is not positive definite gives NaN (the adapter's -inf);
    a fixed one is refused when the data are loaded."""
    assert np.isnan(float(bandpower_ln_like(VARYING, M0, AMPLITUDES, -10 * 4 * np.pi * F_SKY * GAUSS)))
    with pytest.raises(DataFormatError, match="not positive definite"):
        check_covariance(-GAUSS)


def test_jit_and_vmap():
    """One compiled function for every point; vmap over points gives the same values."""
    thetas = np.array([[0.3, 0.7], [0.1, 0.2], [0.5, 0.9]])
    batched = jax.jit(jax.vmap(_jax_logp))(thetas)
    np.testing.assert_allclose(batched, [_numpy_logp(t) for t in thetas], rtol=1e-12)
