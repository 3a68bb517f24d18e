"""Static quadrature rules (NumPy, built once per `Precision`) and a jit-safe interpolator.

The NumPy functions here only ever see static numbers (grid sizes and ranges), never
traced parameters: their results enter compiled code as constants.
"""

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import sici

__all__ = ["cubic_sinc_transform_weights", "lagrange4_interp", "lagrange4_weights", "simpson_weights",
           "sinc_transform_weights"]


def simpson_weights(n: int, dx: float) -> np.ndarray:
    """Composite Simpson weights for `n` (odd) equally spaced nodes of spacing `dx`.

    Parameters
    ----------
    n : int
        Number of nodes (odd, >= 3).
    dx : float
        Node spacing.

    Returns
    -------
    ndarray, shape (n,)
    """
    if n < 3 or n % 2 == 0:
        raise ValueError(f"Simpson's rule needs an odd number of nodes >= 3, got {n}")
    w = np.ones(n)
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    return w * dx / 3.0


def sinc_transform_weights(q: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Weights w[i, j] with sum_j w[i, j] f(x_j) = Int_{x_0}^{x_-1} f(x) sin(q_i x)/(q_i x) dx.

    Exact for f piecewise linear between the nodes `x` (Filon-type rule), so the
    oscillation of the kernel is integrated analytically at any q.

    Parameters
    ----------
    q : ndarray, shape (n_q,)
        Positive wavenumbers (in units of 1/x).
    x : ndarray, shape (n_x,)
        Increasing nodes.

    Returns
    -------
    ndarray, shape (n_q, n_x)
    """
    q = np.asarray(q, dtype=float)[:, None]
    a, b = x[None, :-1], x[None, 1:]
    h = b - a
    si_b, _ = sici(q * b)
    si_a, _ = sici(q * a)
    s = (si_b - si_a) / q
    c = 2.0 * np.sin(0.5 * q * (a + b)) * np.sin(0.5 * q * h) / q**2
    w = np.zeros((q.shape[0], x.size))
    w[:, :-1] += (b * s - c) / h
    w[:, 1:] += (c - a * s) / h
    return w


def cubic_sinc_transform_weights(q: np.ndarray, x: np.ndarray, refine: int = 8) -> np.ndarray:
    """Weights w[i, j] with sum_j w[i, j] f(x_j) = Int_0^{x_-1} f(x) sin(q_i x)/(q_i x) dx.

    f is represented by local cubic (4-point Lagrange) interpolation in ln x between the
    log-spaced nodes `x`, sampled on a grid `refine` times finer and integrated there
    with the exact piecewise-linear rule; f vanishes linearly between 0 and x_0. The
    cubic keeps the rule accurate at large q, where the kinks of a coarse piecewise-linear
    f would dominate the small oscillating integral. Each fine sample depends on four
    nodes only, so building the weights costs O(n_q n_x refine).

    Parameters
    ----------
    q : ndarray, shape (n_q,)
        Positive wavenumbers (in units of 1/x).
    x : ndarray, shape (n_x,)
        Log-spaced increasing nodes (n_x >= 4).
    refine : int
        Fine samples per node interval.

    Returns
    -------
    ndarray, shape (n_q, n_x)
    """
    n = x.size
    frac = np.arange(refine) / refine
    start = np.clip(np.arange(n - 1) - 1, 0, n - 4)
    t = (np.arange(n - 1)[:, None] + frac[None, :] - start[:, None]).ravel()
    first = np.repeat(start, refine)
    t, first = np.append(t, 3.0), np.append(first, n - 4)
    basis = np.stack([
        -(t - 1.0) * (t - 2.0) * (t - 3.0) / 6.0,
        t * (t - 2.0) * (t - 3.0) / 2.0,
        -t * (t - 1.0) * (t - 3.0) / 2.0,
        t * (t - 1.0) * (t - 2.0) / 6.0,
    ])
    ln_x = np.log(x)
    ln_fine = ln_x[first] + t * (ln_x[1] - ln_x[0])
    fine_weights = sinc_transform_weights(q, np.concatenate([[0.0], np.exp(ln_fine)]))[:, 1:]
    w = np.zeros((np.size(q), n))
    for offset in range(4):
        w += np.stack([np.bincount(first + offset, weights=row * basis[offset], minlength=n)
                       for row in fine_weights])
    return w


def lagrange4_weights(f: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Cubic Lagrange weights of the nodes at offsets -1, 0, 1, 2 from a point at fraction
    `f` (in [0, 1)) past node 0 of a uniform grid.

    Parameters
    ----------
    f : Array
        Fractional positions.

    Returns
    -------
    tuple of 4 Arrays, each shaped as `f`
        Weights of the nodes i - 1, i, i + 1, i + 2 (they sum to 1).
    """
    return (-f * (f - 1.0) * (f - 2.0) / 6.0, (f + 1.0) * (f - 1.0) * (f - 2.0) / 2.0,
            -(f + 1.0) * f * (f - 2.0) / 2.0, (f + 1.0) * f * (f - 1.0) / 6.0)


def lagrange4_interp(table: jax.Array, t: jax.Array) -> jax.Array:
    """Cubic (4-point) Lagrange interpolation of `table` along its last axis.

    Parameters
    ----------
    table : Array, shape (..., n)
        Values at integer positions 0 .. n-1.
    t : Array, shape (..., m)
        Fractional positions, clipped to [1, n-3] so the stencil stays inside;
        leading axes broadcast against those of `table`.

    Returns
    -------
    Array of shape (..., m).
    """
    n = table.shape[-1]
    t = jnp.clip(t, 1.0, n - 3.0 - 1e-9)
    i = jnp.floor(t).astype(jnp.int32)
    weights = lagrange4_weights(t - i)
    return sum(w * jnp.take_along_axis(table, i + off, axis=-1) for w, off in zip(weights, (-1, 0, 1, 2)))
