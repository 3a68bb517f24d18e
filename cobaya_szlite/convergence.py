"""Convergence diagnostics across chains: Gelman-Rubin R-1 of the means and of the bounds,
and the effective sample size.

The definitions follow Cobaya's ``mcmc`` (so that ``Rminus1_stop`` and
``Rminus1_cl_stop`` mean the same for both samplers):

- R-1 of the means: the largest eigenvalue of W^-1 B, with W the mean of the chains'
  covariance matrices and B the covariance of the chains' means (Gelman & Rubin 1992;
  Brooks & Gelman 1998, multivariate form);
- R-1 of the bounds: for each parameter and each end of the central ``level`` interval,
  the standard deviation across chains of the chains' quantiles divided by the
  parameter's pooled standard deviation; the largest of them.

With a single chain, its four consecutive quarters play the role of the chains
(as ``mcmc`` does for a single process). The effective sample size is BlackJAX's estimator
(Geyer's initial monotone sequence on the chains' autocorrelations, as Stan), written in
NumPy: BlackJAX's JAX version, run eagerly on chains whose length changes at every check,
compiles its operations anew each time (1.2 s per call on two cores, whatever the length;
0.01 s here), and tests/test_nuts.py checks both agree to 1e-10.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["effective_sample_size", "rminus1", "rminus1_cl", "split_for_rminus1"]


def split_for_rminus1(chains: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The chains to compare: the chains themselves, or a single chain's four quarters.

    Parameters
    ----------
    chains : sequence of numpy.ndarray, each (n_samples_i, n_params)

    Returns
    -------
    list of numpy.ndarray
    """
    chains = [np.atleast_2d(np.asarray(c, dtype=float)) for c in chains]
    if len(chains) == 1:
        return [part for part in np.array_split(chains[0], 4) if len(part)]
    return chains


def rminus1(chains: Sequence[np.ndarray]) -> float:
    """Gelman-Rubin R-1 of the means (largest eigenvalue of W^-1 B).

    Parameters
    ----------
    chains : sequence of numpy.ndarray, each (n_samples_i, n_params)
        Equally weighted samples (a single chain is split, see `split_for_rminus1`).

    Returns
    -------
    float
        Dimensionless; inf if there are fewer than two chains with at least two samples
        each, or W is singular.
    """
    chains = [c for c in split_for_rminus1(chains) if len(c) >= 2]
    if len(chains) < 2:
        return np.inf
    means = np.array([c.mean(axis=0) for c in chains])
    within = np.mean([np.atleast_2d(np.cov(c, rowvar=False)) for c in chains], axis=0)
    between = np.atleast_2d(np.cov(means, rowvar=False))
    try:
        lower = np.linalg.cholesky(within)
    except np.linalg.LinAlgError:
        return np.inf
    inv = np.linalg.inv(lower)
    return float(np.max(np.abs(np.linalg.eigvalsh(inv @ between @ inv.T))))


def rminus1_cl(chains: Sequence[np.ndarray], level: float = 0.95) -> float:
    """Gelman-Rubin-like R-1 of the bounds of the central ``level`` interval.

    Parameters
    ----------
    chains : sequence of numpy.ndarray, each (n_samples_i, n_params)
    level : float
        Probability content of the central interval, in (0, 1).

    Returns
    -------
    float
        Dimensionless; inf with fewer than two chains of at least two samples.
    """
    chains = [c for c in split_for_rminus1(chains) if len(c) >= 2]
    if len(chains) < 2:
        return np.inf
    tails = [(1 - level) / 2, (1 + level) / 2]
    bounds = np.array([np.quantile(c, tails, axis=0) for c in chains])  # (chains, 2, params)
    pooled = np.concatenate(chains).std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = bounds.std(axis=0, ddof=1) / pooled
    return float(np.nanmax(np.where(pooled > 0, ratio, np.inf)))


def effective_sample_size(chains: Sequence[np.ndarray]) -> np.ndarray:
    """Effective sample size of each parameter over all chains.

    Parameters
    ----------
    chains : sequence of numpy.ndarray, each (n_samples_i, n_params)
        Cut to the shortest chain's length (the estimator needs equal lengths).

    Returns
    -------
    numpy.ndarray, shape (n_params,)
        Number of independent samples with the same variance of the mean (0 with fewer
        than four samples per chain, or for a parameter that does not vary; NaN for one
        with a NaN sample).
    """
    chains = [np.atleast_2d(np.asarray(c, dtype=float)) for c in chains]
    n = min(len(c) for c in chains)
    if n < 4:
        return np.zeros(chains[0].shape[1])
    x = np.stack([c[-n:] for c in chains])
    m, p = x.shape[0], x.shape[2]
    varies = np.any(x != x[:, :1], axis=(0, 1))
    means = x.mean(axis=1)
    size = int(2 ** np.ceil(np.log2(2 * n)))
    transform = np.fft.rfft(x - means[:, None, :], n=size, axis=1)
    autocov = np.fft.irfft(transform * np.conjugate(transform), n=size, axis=1)[:, :n] / n
    mean_autocov = autocov.mean(axis=0)
    var0 = mean_autocov[0] * n / (n - 1.0)
    degenerate = np.isfinite(var0) & (~varies | (var0 <= 0.0))
    weighted = var0 * (n - 1.0) / n + (means.var(axis=0, ddof=1) if m > 1 else 0.0)
    weighted = np.where(degenerate, 1.0, weighted)
    n_even = n - n % 2
    with np.errstate(invalid="ignore"):
        rho = np.concatenate([np.ones((1, p)), 1.0 - (var0 - mean_autocov[1:n_even]) / weighted])
    even, odd = rho[0::2], rho[1::2]
    # Geyer's initial positive sequence: pairs up to the first non-positive sum
    positive = np.logical_and.accumulate((even + odd) > 0.0, axis=0)
    last = np.where(positive.any(axis=0), positive.sum(axis=0) - 1, 0)
    columns = np.arange(p)
    odd = np.where(positive, odd, 0.0)
    # the even term after the last positive pair counts if positive (BlackJAX's refinement;
    # past the end of the sequence the last term stands in, as JAX clamps the index)
    after = np.minimum(last + 1, len(even) - 1)
    keep_even = positive.copy()
    inside = last + 1 < len(even)
    keep_even[after[inside], columns[inside]] = even[after[inside], columns[inside]] > 0.0
    even = np.where(keep_even, even, 0.0)
    # initial monotone sequence: the pair sums made non-increasing
    pairs = even + odd
    running_min = np.minimum.accumulate(pairs, axis=0)
    lowered = pairs > np.concatenate([pairs[:1], running_min[:-1]])
    even = np.where(lowered, running_min / 2.0, even)
    odd = np.where(lowered, running_min / 2.0, odd)
    tau = -1.0 + 2.0 * np.sum(even + odd, axis=0) - even[after, columns]
    tau = np.maximum(tau, 1.0 / np.log10(m * n))
    ess = np.where(degenerate, 0.0, m * n / tau)
    return np.where(np.isnan(x).any(axis=(0, 1)), np.nan, ess)
