"""Log-densities for `cobaya_szlite.NUTS`: a host posterior made differentiable in JAX, and
the change of variables to the unconstrained space.

`host_logpost` wraps a Python function ``x -> (ln P, d ln P / dx)`` (e.g.
`cobaya_szlite.posterior_gradient.PosteriorGradient`, which evaluates a Cobaya model)
as a JAX function of x through `jax.pure_callback`, with the gradient supplied by a
custom VJP: one host evaluation per value-and-gradient, as a leapfrog step needs.
`unconstrained_logdensity` turns a log-posterior in x into the log-density in the
sampling coordinates u of a `cobaya_szlite.degeneracy_map.DegeneracyMap` (the
unconstrained coordinates of `cobaya_szlite.unconstrained.Bijection`, with one parameter
optionally sheared along a fitted degeneracy).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .degeneracy_map import DegeneracyMap, ShearFit

__all__ = ["host_logpost", "unconstrained_logdensity"]

HostFunction = Callable[[np.ndarray], tuple[float, np.ndarray | None]]


def host_logpost(evaluate: HostFunction, n_params: int) -> Callable[[jax.Array], jax.Array]:
    """A JAX-differentiable ln P(x) computed on the host by ``evaluate``.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(x) -> (value, gradient)`` with x a float64 numpy array (n_params,),
        value ln P (-inf, or any non-finite value, where the posterior is zero) and
        gradient d ln P / dx (n_params,), or None where value is not finite.
    n_params : int
        Dimension of x.

    Returns
    -------
    callable
        ``logpost(x) -> scalar jax.Array``, usable under `jax.jit`, `jax.grad` (the
        VJP multiplies the host gradient) and `jax.vmap` (the host is called once per
        batch member, in sequence). Non-finite values become -inf with a zero gradient.
    """
    shapes = (jax.ShapeDtypeStruct((), jnp.float64), jax.ShapeDtypeStruct((n_params,), jnp.float64))

    def host(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, grad = evaluate(np.array(x, dtype=np.float64))
        value = float(value)
        if not np.isfinite(value) or grad is None or not np.all(np.isfinite(grad)):
            return np.array(-np.inf), np.zeros(n_params)
        return np.array(value), np.asarray(grad, dtype=np.float64).reshape(n_params)

    def call(x: jax.Array) -> tuple[jax.Array, jax.Array]:
        return jax.pure_callback(host, shapes, x, vmap_method="sequential")

    @jax.custom_vjp
    def logpost(x: jax.Array) -> jax.Array:
        return call(x)[0]

    def forward(x: jax.Array) -> tuple[jax.Array, jax.Array]:
        value, grad = call(x)
        return value, grad

    def backward(grad: jax.Array, cotangent: jax.Array) -> tuple[jax.Array]:
        return (cotangent * grad,)

    logpost.defvjp(forward, backward)
    return logpost


def unconstrained_logdensity(logpost: Callable[[jax.Array], jax.Array],
                             coordinates: DegeneracyMap) -> Callable[[jax.Array, ShearFit], jax.Array]:
    """ln p(u) = ln P(x(u)) + ln |det dx/du|.

    Parameters
    ----------
    logpost : callable
        JAX function x -> ln P(x) (differentiable).
    coordinates : DegeneracyMap
        The map u -> x (with its fitted shear as the second argument).

    Returns
    -------
    callable
        JAX function (u, fit) -> ln p(u) (-inf where ln P is -inf or the pivot is outside
        its prior bounds).
    """

    def logdensity(u: jax.Array, fit: ShearFit) -> jax.Array:
        x, log_jacobian = coordinates.forward(u, fit)
        value = logpost(x)
        ok = jnp.isfinite(value) & coordinates.in_walls(x)
        return jnp.where(ok, value + log_jacobian, -jnp.inf)

    return logdensity
