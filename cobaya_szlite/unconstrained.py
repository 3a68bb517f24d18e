"""Map a Cobaya prior box to the real line, for samplers that need an unconstrained space.

Each sampled parameter x with prior support [a, b] is written as a function of an
unconstrained u in R:

- a, b finite (uniform or any other bounded prior): x = a + (b - a) sigmoid(u)
  (the logit transform), ln |dx/du| = ln(b - a) + ln sigmoid(u) + ln sigmoid(-u);
- only a finite: x = a + exp(u), ln |dx/du| = u;  only b finite: x = b - exp(u);
- unbounded (Gaussian priors, kept as they are): x = u, ln |dx/du| = 0.

A density p(x) becomes p(x(u)) |dx/du| in u; `Bijection.log_jacobian` is that
ln |dx/du| summed over the parameters. The forward map and the Jacobian are JAX
(jit- and grad-safe); the inverse is NumPy (used for starting points only).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Bijection"]

_IDENTITY, _INTERVAL, _LOWER, _UPPER = 0, 1, 2, 3


class Bijection(NamedTuple):
    """x(u) for a box of bounds (see the module docstring).

    Parameters
    ----------
    lower, upper : numpy.ndarray, shape (n,)
        Prior support of each parameter, in its own units (+-inf where unbounded).
    """

    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def from_bounds(cls, bounds: ArrayLike) -> Bijection:
        """Build from Cobaya's ``model.prior.bounds()``.

        Parameters
        ----------
        bounds : array, shape (n, 2)
            (lower, upper) per sampled parameter, +-inf where unbounded.

        Returns
        -------
        Bijection

        Raises
        ------
        ValueError
            If a lower bound is not below its upper bound.
        """
        bounds = np.asarray(bounds, dtype=float).reshape(-1, 2)
        if not np.all(bounds[:, 0] < bounds[:, 1]):
            raise ValueError(f"prior bounds need lower < upper; got {bounds.tolist()}")
        return cls(bounds[:, 0].copy(), bounds[:, 1].copy())

    @property
    def kinds(self) -> np.ndarray:
        """Per parameter: 0 unbounded, 1 interval, 2 lower bound only, 3 upper bound only."""
        lo, up = np.isfinite(self.lower), np.isfinite(self.upper)
        return np.where(lo & up, _INTERVAL, np.where(lo, _LOWER, np.where(up, _UPPER, _IDENTITY)))

    def _finite(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds with the infinite ones replaced by 0 (never used where infinite)."""
        return (np.where(np.isfinite(self.lower), self.lower, 0.0),
                np.where(np.isfinite(self.upper), self.upper, 0.0))

    def to_constrained(self, u: jax.Array) -> jax.Array:
        """x(u).

        Parameters
        ----------
        u : array, shape (n,)
            Unconstrained coordinates (dimensionless).

        Returns
        -------
        jax.Array, shape (n,)
            The parameters, in their own units, inside the prior support.
        """
        kinds = self.kinds
        a, b = self._finite()
        u = jnp.asarray(u)
        interval = a + (b - a) * jax.nn.sigmoid(u)
        exp_u = jnp.exp(jnp.where(kinds >= _LOWER, u, 0.0))
        return jnp.select(
            [kinds == _INTERVAL, kinds == _LOWER, kinds == _UPPER], [interval, a + exp_u, b - exp_u], u
        )

    def log_jacobian(self, u: jax.Array) -> jax.Array:
        """sum_i ln |dx_i / du_i| (dimensionless; the densities' units cancel).

        Parameters
        ----------
        u : array, shape (n,)

        Returns
        -------
        jax.Array, scalar
        """
        kinds = self.kinds
        a, b = self._finite()
        u = jnp.asarray(u)
        width = np.where(kinds == _INTERVAL, b - a, 1.0)
        interval = jnp.log(width) + jax.nn.log_sigmoid(u) + jax.nn.log_sigmoid(-u)
        terms = jnp.select([kinds == _INTERVAL, kinds >= _LOWER], [interval, u], jnp.zeros_like(u))
        return jnp.sum(terms)

    def jacobian_diagonal(self, u: ArrayLike) -> np.ndarray:
        """dx_i / du_i (the map is diagonal), for moving covariances between x and u.

        Parameters
        ----------
        u : array, shape (n,)

        Returns
        -------
        numpy.ndarray, shape (n,)
            In the units of each parameter.
        """
        kinds = self.kinds
        a, b = self._finite()
        u = np.asarray(u, dtype=float)
        s = 1.0 / (1.0 + np.exp(-u))
        return np.select([kinds == _INTERVAL, kinds == _LOWER, kinds == _UPPER],
                         [(b - a) * s * (1.0 - s), np.exp(u), -np.exp(u)], np.ones_like(u))

    def to_unconstrained(self, x: ArrayLike) -> np.ndarray:
        """u(x), the inverse of `to_constrained`.

        Parameters
        ----------
        x : array, shape (n,)
            Parameters strictly inside the prior support.

        Returns
        -------
        numpy.ndarray, shape (n,)

        Raises
        ------
        ValueError
            If a parameter is on or outside a bound (u would be infinite).
        """
        kinds = self.kinds
        a, b = self._finite()
        x = np.asarray(x, dtype=float)
        lo_ok = ~np.isfinite(self.lower) | (x > self.lower)
        up_ok = ~np.isfinite(self.upper) | (x < self.upper)
        if not np.all(lo_ok & up_ok):
            bad = np.flatnonzero(~(lo_ok & up_ok)).tolist()
            raise ValueError(f"parameter(s) at indices {bad} are not strictly inside their prior "
                             f"bounds: x = {x[bad].tolist()}")
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (x - a) / np.where(kinds == _INTERVAL, b - a, 1.0)
            return np.select([kinds == _INTERVAL, kinds == _LOWER, kinds == _UPPER],
                             [np.log(t) - np.log1p(-t), np.log(x - a), np.log(b - x)], x)
