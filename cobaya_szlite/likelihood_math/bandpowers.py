"""ln L of a bandpower data set in JAX: foreground templates, fixed or varying covariance.

All powers in D_ell x 1e12. With d the measured bandpowers (n bins), the model is

    mu = tsz + sum_k A_k template_k          (tsz = D^1h + D^2h at the bins)

and, with r = d - mu,

    fixed covariance C:         ln L = -r^T C^-1 r / 2
    Gaussian G + trispectrum:   C = G + T / (4 pi f_sky),
                                ln L = -[r^T C^-1 r + ln det C - ln det G] / 2

(ln det G, a constant, is subtracted so that values stay comparable to chi^2). The
fixed covariance's inverse is computed once (`bandpower_set`); the varying one is
factorised by Cholesky at each point (`covariance_at`; NaN where it is not positive
definite: the adapter reports the point as zero likelihood), once per theory point in the
Cobaya adapter, so that a change of the amplitudes alone costs one matrix product.

`bandpower_fisher` is the Fisher matrix of the model linearised in the parameters
theta at the point, from autodiff: the Hessian in theta of the expected -ln L when the
data follow the model at the point. For a Gaussian this is
J^T C^-1 J + tr(C^-1 dC_a C^-1 dC_b) / 2, without either formula being coded.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np
import scipy.linalg
from jax.typing import ArrayLike

__all__ = ["BandpowerSet", "bandpower_fisher", "bandpower_ln_like", "bandpower_ln_like_at", "bandpower_set",
           "covariance_at"]


class BandpowerSet(NamedTuple):
    """A bandpower data set (a pytree of arrays, passed to the jitted functions).

    Attributes
    ----------
    data : array, shape (n,)
        Measured bandpowers [D_ell x 1e12].
    templates : array, shape (n_amplitudes, n)
        Foreground templates at unit amplitude [D_ell x 1e12].
    covariance : array, shape (n, n)
        The fixed covariance, or the Gaussian part G of a varying one [(D_ell x 1e12)^2].
    inverse : array, shape (n, n)
        Its inverse (symmetrised).
    ln_det : float
        ln det of ``covariance``.
    trispectrum_norm : float
        4 pi f_sky: a trispectrum T adds T / trispectrum_norm to the covariance.
    """

    data: jax.Array
    templates: jax.Array
    covariance: jax.Array
    inverse: jax.Array
    ln_det: jax.Array
    trispectrum_norm: jax.Array


def bandpower_set(data: ArrayLike, templates: ArrayLike, covariance: ArrayLike,
                  f_sky: float = 1.0) -> BandpowerSet:
    """Build a `BandpowerSet` (NumPy, once per data set; ``covariance`` must be positive
    definite: the loader checks it).

    Parameters
    ----------
    data : array, shape (n,)
    templates : array, shape (n_amplitudes, n)
    covariance : array, shape (n, n)
        Fixed covariance, or the Gaussian part of a varying one.
    f_sky : float
        Sky fraction of the trispectrum term (0 < f_sky <= 1).

    Returns
    -------
    BandpowerSet
    """
    covariance = np.asarray(covariance, dtype=float)
    inverse = scipy.linalg.cho_solve(scipy.linalg.cho_factor(covariance, lower=True), np.eye(len(covariance)))
    return BandpowerSet(
        data=jnp.asarray(data, dtype=float),
        templates=jnp.asarray(np.reshape(templates, (-1, len(covariance))), dtype=float),
        covariance=jnp.asarray(covariance),
        inverse=jnp.asarray(0.5 * (inverse + inverse.T)),
        ln_det=jnp.asarray(np.linalg.slogdet(covariance)[1]),
        trispectrum_norm=jnp.asarray(4.0 * np.pi * float(f_sky)),
    )


def _mean(bset: BandpowerSet, tsz: jax.Array, amplitudes: jax.Array) -> jax.Array:
    """tsz + sum_k A_k template_k (operators only: NumPy or JAX arrays alike)."""
    return tsz + amplitudes @ bset.templates


def covariance_at(bset: BandpowerSet, tll: ArrayLike) -> BandpowerSet:
    """``bset`` with its covariance at the point: G + T / (4 pi f_sky), factorised.

    Parameters
    ----------
    bset : BandpowerSet
        With the Gaussian part G as its covariance.
    tll : array, shape (n, n)
        Full-sky trispectrum at the point [(D_ell x 1e12)^2].

    Returns
    -------
    BandpowerSet
        The covariance, its inverse and ln det at the point (NaN where it is not
        positive definite).
    """
    covariance = bset.covariance + jnp.asarray(tll) / bset.trispectrum_norm
    lower = jnp.linalg.cholesky(covariance)
    inverse = jax.scipy.linalg.cho_solve((lower, True), jnp.eye(covariance.shape[0]))
    return bset._replace(covariance=covariance, inverse=inverse,
                         ln_det=2.0 * jnp.sum(jnp.log(jnp.diag(lower))))


def bandpower_ln_like_at(bset: BandpowerSet, at: BandpowerSet, tsz: ArrayLike, amplitudes: ArrayLike) -> jax.Array:
    """ln L with the covariance of ``at`` (``bset`` itself, or `covariance_at` the point):
    -[r^T C^-1 r + ln det C - ln det G] / 2 (module docstring).

    Written with array operators only, so that the same function evaluates NumPy arrays
    without JAX's dispatch (the Cobaya adapter's cheapest call, for steps that change only
    the amplitudes) and JAX arrays under jit and grad.

    Parameters
    ----------
    bset : BandpowerSet
        The data set (G its covariance).
    at : BandpowerSet
        The same data set with the covariance in use.
    tsz, amplitudes : as for `bandpower_ln_like`

    Returns
    -------
    Array, scalar
    """
    residual = bset.data - _mean(bset, tsz, amplitudes)
    return -0.5 * (residual @ at.inverse @ residual + at.ln_det - bset.ln_det)


def bandpower_ln_like(bset: BandpowerSet, tsz: ArrayLike, amplitudes: ArrayLike,
                      tll: ArrayLike | None = None) -> jax.Array:
    """ln L of the data set (module docstring).

    Parameters
    ----------
    bset : BandpowerSet
    tsz : array, shape (n,)
        D^1h + D^2h at the bins [D_ell x 1e12].
    amplitudes : array, shape (n_amplitudes,)
        Foreground amplitudes [dimensionless].
    tll : array, shape (n, n), optional
        Full-sky trispectrum at the point [(D_ell x 1e12)^2]: the varying covariance.
        None: the fixed covariance (a static choice under jit).

    Returns
    -------
    Array, scalar
        ln L; NaN where the varying covariance is not positive definite.
    """
    return bandpower_ln_like_at(bset, bset if tll is None else covariance_at(bset, tll), tsz, amplitudes)


def bandpower_fisher(bset: BandpowerSet, tsz: ArrayLike, amplitudes: ArrayLike, tsz_jacobian: ArrayLike,
                     amplitudes_jacobian: ArrayLike, tll: ArrayLike | None = None,
                     tll_jacobian: ArrayLike | None = None) -> jax.Array:
    """Fisher matrix in parameters theta at the point (module docstring).

    Parameters
    ----------
    bset, tsz, amplitudes, tll : as for `bandpower_ln_like`
    tsz_jacobian : array, shape (n, n_theta)
        d tsz / d theta.
    amplitudes_jacobian : array, shape (n_amplitudes, n_theta)
        d amplitudes / d theta (rows of the identity for amplitudes that are parameters).
    tll_jacobian : array, shape (n_theta, n, n), optional
        d tll / d theta (with ``tll``).

    Returns
    -------
    Array, shape (n_theta, n_theta)
        Per unit of each pair of parameters.
    """
    tsz_jacobian = jnp.asarray(tsz_jacobian, dtype=float)
    point = bset if tll is None else covariance_at(bset, tll)
    mean0 = _mean(bset, tsz, amplitudes)

    def expected_minus_ln_like(delta):
        """E[-ln L(theta + delta)] for data drawn from the model at theta."""
        varied = bset if tll is None else covariance_at(bset, tll + jnp.tensordot(delta, tll_jacobian, axes=1))
        shift = mean0 - _mean(bset, tsz + tsz_jacobian @ delta, amplitudes + amplitudes_jacobian @ delta)
        return 0.5 * (shift @ varied.inverse @ shift + jnp.sum(varied.inverse * point.covariance)
                      + varied.ln_det - bset.ln_det)

    # the Hessian column by column (forward over reverse, one tangent at a time: on CPU a
    # vmapped Cholesky derivative costs 100x more than the loop)
    gradient = jax.grad(expected_minus_ln_like)
    origin = jnp.zeros(tsz_jacobian.shape[1])
    return jax.lax.map(lambda tangent: jax.jvp(gradient, (origin,), (tangent,))[1], jnp.eye(origin.size))
