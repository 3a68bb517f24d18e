"""The compiled pieces of `cobaya_szlite.NUTS`: one NUTS transition in whitened coordinates,
and Stan's window adaptation advanced one transition at a time.

Whitening: each chain samples z with u = shift + tril @ z, where u are the sampling
coordinates of `cobaya_szlite.degeneracy_map.DegeneracyMap` (those of
`cobaya_szlite.unconstrained.Bijection`, one parameter optionally sheared along a fitted
degeneracy, whose coefficients ``fit`` are an argument like ``shift`` and ``tril``),
``shift`` the chain's start and ``tril`` the Cholesky factor of the initial covariance
moved to u there (or of the warm-up samples' covariance once the shear is refitted). The posterior then
has widths of order one in every direction, as Stan's adaptation assumes: its estimate of
the inverse mass matrix is shrunk towards 1e-3 times the identity, which in raw coordinates
would swamp a parameter of width 1e-3 (omega_cdm) and force a step size ten times too
small. The maps are fixed after the warm-up, so the chains sample the posterior itself.

One transition function serves the warm-up and the sampling, so the NUTS kernel (the
engine's gradient inside BlackJAX's tree building) is compiled once per run. The
algorithm is BlackJAX's: `blackjax.nuts` for the transition, and for the warm-up its
dual averaging of the step size (`dual_averaging_adaptation`), Welford mass-matrix
estimate (`mass_matrix_adaptation`) and Stan's window schedule (`build_schedule`),
composed as `blackjax.window_adaptation` composes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["WarmupState", "adaptation", "initial_state", "transition", "warmup_schedule"]


class WarmupState(NamedTuple):
    """State of the window adaptation of one chain (BlackJAX's step-size and mass-matrix
    states, the current step size and inverse mass matrix, in z)."""

    step_size_state: tuple
    mass_matrix_state: tuple
    step_size: jax.Array
    inverse_mass_matrix: jax.Array


def _whitened(logdensity: Callable, shift: jax.Array, tril: jax.Array, fit: tuple) -> Callable:
    def logdensity_z(z):
        return logdensity(shift + tril @ z, fit)

    return logdensity_z


def initial_state(logdensity: Callable) -> Callable:
    """JAX function (z, shift, tril, fit) -> the BlackJAX HMC state at z (one gradient).

    Parameters
    ----------
    logdensity : callable
        (u, fit) -> ln p(u), JAX-differentiable in u; ``fit`` is the pytree of the
        sampling coordinates (`cobaya_szlite.degeneracy_map.ShearFit`).

    Returns
    -------
    callable
    """
    import blackjax

    def init(z, shift, tril, fit):
        return blackjax.nuts.init(z, _whitened(logdensity, shift, tril, fit))

    return init


def transition(logdensity: Callable, max_doublings: int) -> Callable:
    """JAX function (key, state, step_size, inverse_mass_matrix, shift, tril, fit) ->
    (state, (is_divergent, num_integration_steps, acceptance_rate)): one NUTS transition
    of a chain in its whitened coordinates.

    Parameters
    ----------
    logdensity : callable
        (u, fit) -> ln p(u), JAX-differentiable in u.
    max_doublings : int
        Largest tree depth (at most 2**max_doublings leapfrog steps).

    Returns
    -------
    callable
    """
    import blackjax

    def step(key, state, step_size, inverse_mass_matrix, shift, tril, fit):
        kernel = blackjax.nuts(_whitened(logdensity, shift, tril, fit), step_size=step_size,
                               inverse_mass_matrix=inverse_mass_matrix, max_num_doublings=max_doublings)
        state, info = kernel.step(key, state)
        return state, (info.is_divergent, info.num_integration_steps, info.acceptance_rate)

    return step


def warmup_schedule(n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Stan's warm-up windows for ``n_steps`` transitions.

    Returns
    -------
    slow : numpy.ndarray of bool
        True in the windows that also estimate the mass matrix.
    window_end : numpy.ndarray of bool
        True at the last transition of each such window (the mass matrix is updated
        and the step-size adaptation restarted there).
    """
    from blackjax.adaptation.staged_adaptation import build_schedule

    schedule = np.array(build_schedule(n_steps), dtype=int).reshape(-1, 2)
    return schedule[:, 0].astype(bool), schedule[:, 1].astype(bool)


def adaptation(n_dims: int, dense: bool, target_accept: float) -> tuple[Callable, Callable, Callable]:
    """Stan's window adaptation as three JAX functions of one chain.

    Parameters
    ----------
    n_dims : int
        Number of sampled parameters.
    dense : bool
        Adapt a dense inverse mass matrix (else diagonal).
    target_accept : float
        Mean acceptance probability the step size is tuned to.

    Returns
    -------
    init : callable
        (inverse_mass_matrix, step_size) -> WarmupState.
    update : callable
        (WarmupState, slow, window_end, z, acceptance_rate) -> WarmupState, after one
        transition that reached z with that acceptance rate.
    final : callable
        WarmupState -> (step size, inverse mass matrix) for the sampling.
    """
    from blackjax.adaptation.mass_matrix import mass_matrix_adaptation
    from blackjax.adaptation.step_size import dual_averaging_adaptation

    mm_init, mm_update, mm_final = mass_matrix_adaptation(is_diagonal_matrix=not dense)
    da_init, da_update, da_final = dual_averaging_adaptation(target_accept)

    def init(inverse_mass_matrix, step_size):
        return WarmupState(da_init(step_size), mm_init(n_dims, inverse_mass_matrix),
                           jnp.asarray(step_size, dtype=float), jnp.asarray(inverse_mass_matrix))

    def update(state, slow, window_end, z, acceptance_rate):
        da_state = da_update(state.step_size_state, acceptance_rate)
        mm_state = jax.lax.cond(slow, lambda m: mm_update(m, z), lambda m: m, state.mass_matrix_state)
        updated = WarmupState(da_state, mm_state, jnp.exp(da_state.log_step_size),
                              state.inverse_mass_matrix)

        def end_of_window(s):
            mm = mm_final(s.mass_matrix_state)
            da = da_init(da_final(s.step_size_state))
            return WarmupState(da, mm, jnp.exp(da.log_step_size), mm.inverse_mass_matrix)

        return jax.lax.cond(window_end, end_of_window, lambda s: s, updated)

    def final(state):
        return jnp.exp(state.step_size_state.log_step_size_avg), state.inverse_mass_matrix

    return init, update, final
