"""Sampling coordinates that straighten one curved degeneracy, for `cobaya_szlite.NUTS`.

When the data fix one parameter (the *pivot*, e.g. sigma8 in a tSZ run) tightly as a
nonlinear function of the others (the amplitude F_sz ~ sigma8^8 P0^2 B^-3.5 ... with the
profile shape), the posterior is a thin curved shell: no mass matrix fits it, and NUTS
needs a step size set by the shell's thickness and trajectories spanning its length.
These coordinates sample the pivot as its residual from a polynomial of the others:

    u_p = g(x_p) - f(phi),   t_j = (h_j(x_j) - mean_j) / scale_j,

for j != p, with g = ln for a pivot of non-negative prior support (identity otherwise),
h_j = ln for parameters whose prior lower bound is above zero (identity otherwise: a
parameter that may approach 0, such as a foreground amplitude, would have a ln reaching far
outside the fitted range), mean_j and scale_j the samples' mean and standard deviation of
h_j, and f a polynomial of degree 1 to 3 with coefficients fitted by least squares to samples
(`DegeneracyMap.fit`, from the warm-up). phi_j = t_j within the range [lo_j, hi_j] of the
fitted samples; beyond it phi_j = hi_j + tanh(t_j - hi_j) (or lo_j + tanh(t_j - lo_j)), so
the polynomial, never fitted there, stays bounded instead of bending the coordinates
without limit (continuous with its first derivative). Every other parameter keeps its
`cobaya_szlite.unconstrained.Bijection` coordinate (logit, log or identity). The map is
triangular, so its log-Jacobian is the others' plus ln |dx_p / du_p| = g(x_p) for a log
pivot, 0 otherwise: the sampled density is the same posterior for any coefficients. The
pivot is not mapped to the real line: its prior bounds act as walls of zero posterior.

This is a one-component triangular transport map used as an MCMC preconditioner
(Parno & Marzouk 2018, SIAM/ASA J. Uncertainty Quantification 6, 645).
"""

from __future__ import annotations

from itertools import combinations_with_replacement
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from .unconstrained import Bijection

__all__ = ["DegeneracyMap", "ShearFit"]

#: Standardised regressor range of the map before any fit (no saturation).
_UNBOUNDED = 1e6


class ShearFit(NamedTuple):
    """Fitted part of the map (a JAX pytree, an argument of the compiled NUTS transition).

    mean, scale : arrays (n - 1,)
        Standardisation of h(x_j) for the non-pivot parameters (dimensionless after it).
    lo, hi : arrays (n - 1,)
        Range of the standardised regressors over the fitted samples.
    coef : array (n_terms + 1,)
        Intercept, then the coefficients of the monomials of `DegeneracyMap.terms` (in
        the units of g(x_p)); all zero before the first fit.
    """

    mean: jax.Array
    scale: jax.Array
    lo: jax.Array
    hi: jax.Array
    coef: jax.Array


class DegeneracyMap(NamedTuple):
    """x(u) with the pivot sheared along a polynomial of the others (module docstring).

    Attributes
    ----------
    bijection : Bijection
        Coordinates of the non-pivot parameters; the pivot's entry is the identity.
    pivot : int or None
        Index of the pivot among the sampled parameters (None: plain `bijection`).
    pivot_log : bool
        Sample ln x_p (positive prior support) rather than x_p.
    feature_log : numpy.ndarray of bool, shape (n,)
        Use ln x_j as the regressor of parameter j (prior lower bound above zero).
    lower, upper : numpy.ndarray, shape (n,)
        Prior bounds (the pivot's act as walls).
    terms : tuple of numpy.ndarray
        Monomials of f: for each degree d, an (n_d, d) array of indices into phi.
    """

    bijection: Bijection
    pivot: int | None
    pivot_log: bool
    feature_log: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    terms: tuple

    @classmethod
    def build(cls, bounds: ArrayLike, pivot: int | None = None, degree: int = 2,
              transform_bounded: bool = True) -> DegeneracyMap:
        """Coordinates for a prior box, with a pivot (or none).

        Parameters
        ----------
        bounds : array, shape (n, 2)
            Prior support (lower, upper) per sampled parameter, +-inf where unbounded.
        pivot : int, optional
            Index of the parameter to shear (None: the plain bijection).
        degree : int
            Degree of the polynomial f, 1 to 3.
        transform_bounded : bool
            Map the other bounded parameters to the real line (else sample them as they
            are, the bounds acting as walls).

        Returns
        -------
        DegeneracyMap

        Raises
        ------
        ValueError
            Bad bounds, pivot index or degree.
        """
        bounds = np.asarray(bounds, dtype=float).reshape(-1, 2)
        n = len(bounds)
        if pivot is not None and not 0 <= pivot < n:
            raise ValueError(f"pivot index {pivot} out of range for {n} parameters")
        if pivot is not None and n < 2:
            raise ValueError("a degeneracy map needs at least two sampled parameters")
        if degree not in (1, 2, 3):
            raise ValueError(f"degree must be 1, 2 or 3; got {degree!r}")
        mapped = bounds.copy()
        if not transform_bounded:
            mapped[:] = (-np.inf, np.inf)
        if pivot is not None:
            mapped[pivot] = (-np.inf, np.inf)
        n_features = n - 1 if pivot is not None else 0
        terms = tuple(np.array(list(combinations_with_replacement(range(n_features), d)), dtype=int)
                      .reshape(-1, d) for d in range(1, degree + 1))
        return cls(Bijection.from_bounds(mapped), pivot, bool(pivot is not None and bounds[pivot, 0] >= 0),
                   bounds[:, 0] > 0, bounds[:, 0].copy(), bounds[:, 1].copy(), terms)

    # ---- the fitted part ------------------------------------------------------

    @property
    def n_terms(self) -> int:
        """Number of monomials of f (without the intercept)."""
        return int(sum(len(t) for t in self.terms))

    def identity_fit(self) -> ShearFit:
        """Coefficients before any fit: u_p = g(x_p)."""
        m = max(len(self.lower) - 1, 0) if self.pivot is not None else 0
        return ShearFit(jnp.zeros(m), jnp.ones(m), jnp.full(m, -_UNBOUNDED), jnp.full(m, _UNBOUNDED),
                        jnp.zeros(self.n_terms + 1 if m else 0))

    def _others(self) -> np.ndarray:
        return np.delete(np.arange(len(self.lower)), self.pivot)

    def _h(self, x_others: jax.Array) -> jax.Array:
        log = self.feature_log[self._others()]
        return jnp.where(log, jnp.log(jnp.where(log, x_others, 1.0)), x_others)

    @staticmethod
    def _phi(t: jax.Array, lo: ArrayLike, hi: ArrayLike) -> jax.Array:
        """Standardised regressors t, saturated outside [lo, hi] (dimensionless)."""
        return jnp.where(t > hi, hi + jnp.tanh(t - hi), jnp.where(t < lo, lo + jnp.tanh(t - lo), t))

    def _monomials(self, phi: jax.Array, n_terms: int) -> jax.Array:
        """Monomials of phi (..., n - 1), the first n_terms of them."""
        columns = [jnp.prod(phi[..., t], axis=-1) for t in self.terms]
        return jnp.concatenate(columns, axis=-1)[..., :n_terms]

    def shear(self, x_others: jax.Array, fit: ShearFit) -> jax.Array:
        """f(phi(x_others)) (units of g(x_p)); x_others has shape (..., n - 1)."""
        phi = self._phi((self._h(x_others) - fit.mean) / fit.scale, fit.lo, fit.hi)
        return fit.coef[0] + self._monomials(phi, self.n_terms) @ fit.coef[1:]

    def fit(self, x: ArrayLike, min_samples_per_term: int = 3) -> tuple[ShearFit, dict]:
        """Least-squares fit of g(x_p) on the monomials of the other parameters.

        The degree is lowered until there are ``min_samples_per_term`` samples per
        coefficient (monomials of a lower degree come first in `terms`; the higher ones
        get zero coefficients).

        Parameters
        ----------
        x : array, shape (N, n)
            Samples of the sampled parameters (in their units).

        Returns
        -------
        fit : ShearFit
        summary : dict
            ``n_samples``, ``n_terms`` (fitted monomials), ``residual_sd`` and ``sd`` of
            g(x_p) (units of g(x_p)).

        Raises
        ------
        ValueError
            Without a pivot, or with fewer samples than needed for the linear terms.
        """
        if self.pivot is None:
            raise ValueError("no pivot: nothing to fit")
        x = np.asarray(x, dtype=float)
        others = self._others()
        h = np.asarray(self._h(jnp.asarray(x[:, others])))
        y = np.log(x[:, self.pivot]) if self.pivot_log else x[:, self.pivot]
        usable = 0
        for t in self.terms:
            if len(x) >= min_samples_per_term * (usable + len(t) + 1):
                usable += len(t)
            else:
                break
        if usable == 0:
            raise ValueError(f"{len(x)} samples are too few to fit {len(others)} linear terms")
        mean, scale = h.mean(axis=0), h.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        t = (h - mean) / scale
        design = np.c_[np.ones(len(x)), np.asarray(self._monomials(jnp.asarray(t), usable))]
        coef = np.linalg.lstsq(design, y, rcond=None)[0]
        residual = y - design @ coef
        coef = np.r_[coef, np.zeros(self.n_terms - usable)]
        fit = ShearFit(jnp.asarray(mean), jnp.asarray(scale), jnp.asarray(t.min(axis=0)),
                       jnp.asarray(t.max(axis=0)), jnp.asarray(coef))
        return fit, {"n_samples": len(x), "n_terms": usable, "residual_sd": float(residual.std()),
                     "sd": float(y.std())}

    # ---- the map ----------------------------------------------------------------

    def forward(self, u: jax.Array, fit: ShearFit) -> tuple[jax.Array, jax.Array]:
        """x(u) and ln |det dx/du| in one pass (JAX): the log-density needs both.

        Parameters
        ----------
        u : array, shape (n,)
        fit : ShearFit

        Returns
        -------
        x : jax.Array, shape (n,)
            The parameters in their units; the pivot may lie outside its bounds.
        log_jacobian : jax.Array, scalar
            Dimensionless.
        """
        x = self.bijection.to_constrained(u)
        log_jacobian = self.bijection.log_jacobian(u)
        if self.pivot is None:
            return x, log_jacobian
        g = u[self.pivot] + self.shear(x[self._others()], fit)
        if not self.pivot_log:
            return x.at[self.pivot].set(g), log_jacobian
        return x.at[self.pivot].set(jnp.exp(g)), log_jacobian + g

    def to_constrained(self, u: jax.Array, fit: ShearFit) -> jax.Array:
        """x(u) (JAX), as `forward`."""
        return self.forward(u, fit)[0]

    def log_jacobian(self, u: jax.Array, fit: ShearFit) -> jax.Array:
        """ln |det dx/du| (dimensionless, JAX), as `forward`."""
        return self.forward(u, fit)[1]

    def in_walls(self, x: jax.Array) -> jax.Array:
        """True where the pivot lies inside its prior bounds (always True without pivot)."""
        if self.pivot is None:
            return jnp.asarray(True)
        return (x[self.pivot] > self.lower[self.pivot]) & (x[self.pivot] < self.upper[self.pivot])

    def to_unconstrained(self, x: ArrayLike, fit: ShearFit) -> np.ndarray:
        """u(x), the inverse of `to_constrained` (NumPy).

        Parameters
        ----------
        x : array, shape (n,) or (N, n)
            Strictly inside the prior bounds.
        fit : ShearFit

        Returns
        -------
        numpy.ndarray, the shape of x

        Raises
        ------
        ValueError
            If a parameter is on or outside a bound.
        """
        x = np.asarray(x, dtype=float)
        if self.pivot is None:
            return self.bijection.to_unconstrained(x)
        p = self.pivot
        if not np.all((x[..., p] > self.lower[p]) & (x[..., p] < self.upper[p])):
            raise ValueError(f"the pivot (index {p}) is not strictly inside its prior bounds "
                             f"[{self.lower[p]}, {self.upper[p]}]: x = {x[..., p].tolist()}")
        u = self.bijection.to_unconstrained(x)
        g = np.log(x[..., p]) if self.pivot_log else x[..., p]
        u[..., p] = g - np.asarray(self.shear(jnp.asarray(x[..., self._others()]), fit))
        return u

    def jacobian(self, u: ArrayLike, fit: ShearFit) -> np.ndarray:
        """dx/du (n, n) at u (NumPy), for moving covariances between x and u."""
        return np.asarray(jax.jacfwd(lambda v: self.to_constrained(v, fit))(jnp.asarray(u, dtype=float)))
