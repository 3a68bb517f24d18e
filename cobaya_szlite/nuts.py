"""Cobaya sampler `NUTS`: the No-U-Turn Sampler with exact gradients of the posterior.

Use it as ``sampler: {cobaya_szlite.NUTS: {...}}`` (options and defaults in
``NUTS.yaml``). The algorithm is BlackJAX's (``blackjax.nuts`` after Stan's warm-up
of the step size and mass matrix, composed from BlackJAX's adaptation pieces in
`cobaya_szlite.nuts_kernel`, where each chain is also whitened by the initial
covariance); this class builds the target density, runs the chains, writes them and
decides when to stop.

Target: the log-posterior of the Cobaya model in the unconstrained coordinates of
`cobaya_szlite.unconstrained.Bijection` (bounded priors through logit / log maps with
their log-Jacobian, unbounded ones such as Gaussian priors kept; with
``transform_bounded: False``, in the parameters themselves, the prior bounds acting as
walls of zero posterior). With ``degeneracy_param``, that parameter is sampled as its
residual from a polynomial of the others fitted during the warm-up
(`cobaya_szlite.degeneracy_map`), which straightens a curved degeneracy. Two paths give
it:

- generic: ln P and its gradient from the Cobaya model and
  `cobaya_szlite.posterior_gradient.PosteriorGradient` (analytic where the
  likelihoods provide it, finite differences otherwise), called from JAX through a
  host callback (`cobaya_szlite.nuts_target.host_logpost`); chains advance one
  after the other;
- fast: when `cobaya_szlite.jax_posterior.pure_jax_logpost` can write the whole
  posterior as one JAX function, no callback: each transition is compiled code, and
  the chains of a process advance together (vmapped) or one after the other
  (``vectorize_chains``).

Outputs, at the run's prefix: ``<prefix>.<i>.txt`` per chain (Cobaya's sample
format: weight, minuslogpost, sampled and derived params, minuslogprior, chi2; each
sample evaluated once more by the model for its derived parameters), the state of
each chain (``<prefix>.<i>.nuts.npz``: position, whitening, step size, mass matrix,
random key, fitted degeneracy map)
for ``--resume``, ``<prefix>.checkpoint`` (converged or not) and at the end
``<prefix>.covmat`` (the posterior covariance of the samples, usable as a covmat of
``mcmc`` or of this sampler). Stopping: Gelman-Rubin R-1 across chains as in
``mcmc`` (`cobaya_szlite.convergence`), or ``max_samples``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from cobaya import mpi
from cobaya.collection import SampleCollection
from cobaya.log import LoggedError
from cobaya.sampler import CovmatSampler
from cobaya.yaml import yaml_dump_file

from . import nuts_kernel
from .convergence import effective_sample_size, rminus1, rminus1_cl
from .degeneracy_map import DegeneracyMap, ShearFit
from .nuts_target import host_logpost, unconstrained_logdensity
from .posterior_gradient import PosteriorGradient, parameter_scales

__all__ = ["NUTS"]

_STATE_EXTENSION = ".nuts.npz"
#: Warm-up steps between refits of the degeneracy map in the initial fast window.
_REFIT_EVERY = 25


class _Trace(NamedTuple):
    """What one block of NUTS steps returns per chain (numpy arrays over the steps): the
    positions u (n_steps, n_params), divergent flags, leapfrog steps and acceptance rates."""

    position: np.ndarray
    divergent: np.ndarray
    steps: np.ndarray
    acceptance: np.ndarray


class NUTS(CovmatSampler):
    """No-U-Turn Sampler with Stan-style warm-up (see the module docstring)."""

    # options that may change when resuming (the chains stay valid)
    _at_resume_prefer_new = ["max_samples", "Rminus1_stop", "Rminus1_cl_stop", "Rminus1_cl_level",
                             "output_every", "max_tries", "fast_path", "vectorize_chains", "fd_step"]

    # Options (defaults and comments in NUTS.yaml)
    chains: int
    warmup: int
    target_accept: float
    max_tree_depth: int
    dense_mass: bool
    covmat: Any
    covmat_params: list[str] | None
    Rminus1_stop: float
    Rminus1_cl_stop: float | None
    Rminus1_cl_level: float
    max_samples: float
    output_every: int
    max_tries: int
    fast_path: bool | None
    vectorize_chains: bool | None
    transform_bounded: bool
    degeneracy_param: str | None
    degeneracy_degree: int
    finite_differences: bool
    fd_step: float

    # ---- set-up -------------------------------------------------------------

    def initialize(self) -> None:
        """Check the options, build the target density and the chains (or resume them)."""
        self._check_options()
        try:
            import blackjax  # noqa: F401
        except ImportError:
            raise LoggedError(self.log, "cobaya_szlite.NUTS needs BlackJAX: pip install "
                              "'cobaya_szlite[nuts]' (or pip install blackjax).") from None
        jax.config.update("jax_enable_x64", True)
        self.names = list(self.model.parameterization.sampled_params())
        self.gradient = PosteriorGradient(self.model, fd_step=float(self.fd_step), log=self.log)
        if not self.gradient.analytic and not self.finite_differences:
            raise LoggedError(
                self.log,
                "No likelihood of this model provides an analytic gradient (logp_gradient and "
                "get_gradient_requirements): %s. NUTS needs d ln P / d params; set "
                "'finite_differences: True' to use finite differences (2 model evaluations "
                "per parameter and gradient).", list(self.model.likelihood),
            )
        pivot = None
        if self.degeneracy_param is not None:
            if self.degeneracy_param not in self.names:
                raise LoggedError(self.log, "Option 'degeneracy_param' must be one of the sampled "
                                  "parameters %s; got %r.", self.names, self.degeneracy_param)
            pivot = self.names.index(self.degeneracy_param)
        try:
            self.coordinates = DegeneracyMap.build(self.model.prior.bounds(), pivot,
                                                   int(self.degeneracy_degree), self.transform_bounded)
        except ValueError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
        self.fit = self.coordinates.identity_fit()
        self.n_chains = max(int(self.chains), mpi.size())
        if self.n_chains > int(self.chains):
            self.log.info("%d MPI processes: running %d chains (one per process at least).",
                          mpi.size(), self.n_chains)
        self.local = list(range(mpi.rank(), self.n_chains, mpi.size()))
        self._build_target()
        self.initial_covmat = self._initial_covmat()
        self.converged = bool(getattr(self, "converged", False))
        self.progress: list[dict] = []
        self._setup_chains()

    def _check_options(self) -> None:
        def positive_int(name: str, value: Any, minimum: int = 1) -> None:
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise LoggedError(self.log, "Option '%s' must be an integer >= %d; got %r.",
                                  name, minimum, value)

        positive_int("chains", self.chains)
        positive_int("warmup", self.warmup, 0)
        positive_int("max_tree_depth", self.max_tree_depth)
        positive_int("output_every", self.output_every)
        positive_int("max_tries", self.max_tries)
        for name, value, low, high in [("target_accept", self.target_accept, 0, 1),
                                       ("Rminus1_cl_level", self.Rminus1_cl_level, 0, 1)]:
            if not (isinstance(value, (int, float)) and low < float(value) < high):
                raise LoggedError(self.log, "Option '%s' must be a number in (%g, %g); got %r.",
                                  name, low, high, value)
        for name in ("Rminus1_stop", "max_samples", "fd_step"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and float(value) > 0):
                raise LoggedError(self.log, "Option '%s' must be a number > 0; got %r.", name, value)
        if self.Rminus1_cl_stop is not None and not (
                isinstance(self.Rminus1_cl_stop, (int, float)) and self.Rminus1_cl_stop > 0):
            raise LoggedError(self.log, "Option 'Rminus1_cl_stop' must be a number > 0 or null; "
                              "got %r.", self.Rminus1_cl_stop)
        if self.degeneracy_degree not in (1, 2, 3) or isinstance(self.degeneracy_degree, bool):
            raise LoggedError(self.log, "Option 'degeneracy_degree' must be 1, 2 or 3; got %r.",
                              self.degeneracy_degree)
        if self.degeneracy_param is not None and not isinstance(self.degeneracy_param, str):
            raise LoggedError(self.log, "Option 'degeneracy_param' must be a parameter name or "
                              "null; got %r.", self.degeneracy_param)
        if not isinstance(self.transform_bounded, bool):
            raise LoggedError(self.log, "Option 'transform_bounded' must be True or False; got %r.",
                              self.transform_bounded)
        for name in ("fast_path", "vectorize_chains"):
            if getattr(self, name) not in (None, True, False):
                raise LoggedError(self.log, "Option '%s' must be null, True or False; got %r.",
                                  name, getattr(self, name))

    def _build_target(self) -> None:
        """The log-density in u: the fast pure-JAX one if possible (and allowed), else the
        host callback."""
        from .jax_posterior import pure_jax_logpost

        logpost, reason = (None, "disabled by 'fast_path: False'")
        if self.fast_path is not False:
            logpost, reason = pure_jax_logpost(self.model)
        if logpost is None and self.fast_path:
            raise LoggedError(self.log, "'fast_path: True', but the posterior is not pure JAX: %s.",
                              reason)
        self.fast = logpost is not None
        self.vectorised = self.fast and (self.vectorize_chains if self.vectorize_chains is not None
                                         else jax.default_backend() != "cpu")
        if self.fast:
            self.log.info("Fast path: the whole posterior is one jitted JAX function; %d local "
                          "chain(s) advance %s.", len(self.local),
                          "together (vmapped)" if self.vectorised else "one after the other")
        else:
            self.log.info("Generic path (%s): ln P and its gradient from the Cobaya model through "
                          "a host callback.", reason)
            logpost = host_logpost(self.gradient, len(self.names))
        self.logpost_x = logpost
        self.logdensity = unconstrained_logdensity(logpost, self.coordinates)

    def _initial_covmat(self) -> np.ndarray:
        """Initial covariance of the sampled params (covmat option, else proposal/ref/prior
        widths), checked positive definite."""
        covmat, _ = self.initial_proposal_covmat()
        covmat = np.array(covmat, dtype=float)
        scales = parameter_scales(self.model)
        diag = np.diag(covmat).copy()
        bad = ~(np.isfinite(diag) & (diag > 0))
        if np.any(bad) and self.covmat is None:
            covmat[bad, :] = covmat[:, bad] = 0.0
            covmat[bad, bad] = scales[bad] ** 2
        try:
            np.linalg.cholesky(covmat)
        except np.linalg.LinAlgError:
            raise LoggedError(
                self.log,
                "The initial covariance matrix (covmat %s, params %s) is not positive definite "
                "(eigenvalues %s): give a valid covmat, or none.",
                self.covmat if isinstance(self.covmat, str) else "given as a matrix", self.names,
                np.linalg.eigvalsh(0.5 * (covmat + covmat.T)).tolist(),
            ) from None
        return covmat

    def _state_path(self, chain: int) -> str | None:
        if not self.output:
            return None
        return os.path.join(self.output.folder, f"{self.output.prefix}.{chain + 1}{_STATE_EXTENSION}")

    def _setup_chains(self) -> None:
        """Collections (loaded when resuming) and, for chains without a saved state, their
        starting points."""
        resuming = bool(self.output) and self.output.is_resuming()
        self.collections, self.samples_x, self.states = {}, {}, {}
        for chain in self.local:
            collection = SampleCollection(self.model, self.output, name=str(chain + 1),
                                          resuming=resuming)
            path = self._state_path(chain)
            if resuming and path and os.path.exists(path):
                self.states[chain] = dict(np.load(path))
                saved = int(self.states[chain]["n_samples"])
                if len(collection) != saved:
                    self.log.warning("Chain %d: the file has %d samples, its saved state %d "
                                     "(interrupted while writing); continuing from the state.",
                                     chain + 1, len(collection), saved)
                if "fit_coef" in self.states[chain]:
                    self.fit = ShearFit(*(jnp.asarray(self.states[chain][f"fit_{k}"])
                                          for k in ShearFit._fields))
                self.log.info("Chain %d: resuming after %d samples.", chain + 1, len(collection))
            elif len(collection):
                collection.reset()
            self.collections[chain] = collection
            self.samples_x[chain] = (collection[self.names].to_numpy(dtype=float)
                                     if len(collection) else np.zeros((0, len(self.names))))
        # every process samples in the coordinates of the resumed chains, if any
        resumed = [f for f in mpi.allgather(self.fit if self.states else None) if f is not None]
        if resumed:
            self.fit = ShearFit(*(jnp.asarray(a) for a in resumed[0]))
        self.starts = {chain: self._starting_point(chain) for chain in self.local
                       if chain not in self.states}

    def _starting_point(self, chain: int) -> np.ndarray:
        """A draw from the reference pdf with finite posterior, strictly inside the bounds."""
        x = None
        for _ in range(int(self.max_tries)):
            x = np.asarray(self.model.prior.reference(random_state=self._rng), dtype=float)
            try:
                u = self.coordinates.to_unconstrained(x, self.fit)
            except ValueError:
                continue
            if np.isfinite(self.model.logpost(x)):
                self.log.info("Chain %d starts at %s.", chain + 1, dict(zip(self.names, x.tolist())))
                return u
        raise LoggedError(
            self.log,
            "Chain %d: no starting point with non-zero posterior in %d draws from the "
            "reference pdf (`ref`) of %s (last: %s; the reason for zero posterior is logged "
            "above where a component gives it). Set `ref` to points of non-zero posterior "
            "strictly inside the prior bounds.",
            chain + 1, int(self.max_tries), self.names,
            None if x is None else dict(zip(self.names, x.tolist())),
        )

    # ---- warm-up and sampling -----------------------------------------------

    def _whitening(self, u: np.ndarray) -> np.ndarray:
        """Cholesky factor of the initial covariance moved to u at a chain's start."""
        inverse = np.linalg.inv(self.coordinates.jacobian(u, self.fit))
        covmat = inverse @ self.initial_covmat @ inverse.T
        return np.linalg.cholesky(0.5 * (covmat + covmat.T))

    def _keys(self, n: int) -> jax.Array:
        return jax.random.split(jax.random.key(int(self._rng.integers(2**62))), n)

    def _compile(self) -> None:
        """The jitted transition and state initialisation (vmapped over the local chains when
        they advance together) and adaptation (always vmapped); built once per run."""
        if hasattr(self, "_fns"):
            return
        n = len(self.names)
        vectorise = jax.vmap if self.vectorised else (lambda f: f)
        adapt_init, adapt_update, adapt_final = nuts_kernel.adaptation(n, bool(self.dense_mass),
                                                                        float(self.target_accept))
        coordinates = self.coordinates
        self._fns = {
            "to_x": jax.jit(jax.vmap(lambda z, shift, tril, fit: coordinates.to_constrained(shift + tril @ z, fit))),
            "init": jax.jit(vectorise(nuts_kernel.initial_state(self.logdensity))),
            "step": jax.jit(vectorise(nuts_kernel.transition(self.logdensity, int(self.max_tree_depth)))),
            "adapt_init": jax.jit(jax.vmap(adapt_init)),
            "adapt_update": jax.jit(jax.vmap(adapt_update, in_axes=(0, None, None, 0, 0))),
            "adapt_final": jax.jit(jax.vmap(adapt_final)),
        }

    def _load_chains(self, chains: list[int]) -> None:
        """Device-side state of ``chains`` from their saved states (position in u)."""
        states = [self.states[c] for c in chains]
        n = len(self.names)
        # states saved before the whitening was introduced sampled u itself
        shift = np.array([s.get("shift", np.zeros(n)) for s in states])
        tril = np.array([s.get("tril", np.eye(n)) for s in states])
        z = np.array([np.linalg.solve(t, s["position"] - m) for s, m, t in zip(states, shift, tril)])
        self._chain_arrays = {
            "shift": jnp.asarray(shift), "tril": jnp.asarray(tril),
            "fit": jax.tree.map(lambda a: jnp.stack([jnp.asarray(a)] * len(chains)), self.fit),
            "step_size": jnp.asarray([float(s["step_size"]) for s in states]),
            "inverse_mass_matrix": jnp.asarray(np.array([s["inverse_mass_matrix"] for s in states])),
        }
        self._hmc = self._map(self._fns["init"], jnp.asarray(z), self._chain_arrays["shift"],
                              self._chain_arrays["tril"], self._chain_arrays["fit"])

    def _map(self, function: Callable, *args: Any) -> Any:
        """``function`` over the local chains: once, vmapped, when they advance together;
        otherwise chain by chain (arguments sliced, results stacked)."""
        if self.vectorised:
            return function(*args)
        results = []
        for i in range(len(jax.tree.leaves(args[0])[0])):
            results.append(function(*(jax.tree.map(lambda a, i=i: a[i], arg) for arg in args)))
        return jax.tree.map(lambda *a: jnp.stack(a), *results)

    def _step(self, keys: jax.Array, step_size: jax.Array, inverse_mass_matrix: jax.Array) -> tuple:
        """One NUTS transition of every local chain; returns (is_divergent, steps,
        acceptance), each (n_local,)."""
        arrays = self._chain_arrays
        self._hmc, info = self._map(self._fns["step"], keys, self._hmc, step_size, inverse_mass_matrix,
                                    arrays["shift"], arrays["tril"], arrays["fit"])
        return info

    def _warmup(self) -> None:
        """Window adaptation (Stan's schedule) of the chains without a saved state, one
        transition at a time with the run's single compiled NUTS kernel."""
        chains = [c for c in self.local if c not in self.states]
        self._compile()
        self.warmup_seconds = 0.0
        if not chains:
            self._load_chains(self.local)
            return
        n_steps, n = int(self.warmup), len(self.names)
        for c in chains:
            self.states[c] = {"position": self.starts[c], "shift": self.starts[c],
                              "tril": self._whitening(self.starts[c]), "step_size": 1.0,
                              "inverse_mass_matrix": np.eye(n) if self.dense_mass else np.ones(n),
                              "n_samples": 0}
        # the warm-up runs on these chains only; the resumed ones wait for the sampling
        self._load_chains(chains)
        keys = self._keys(len(chains))
        self.log.info("Warm-up: %d adaptation steps for chain(s) %s.", n_steps, [c + 1 for c in chains])
        start = time.time()
        divergent = np.zeros(len(chains), dtype=int)
        if n_steps:
            arrays = self._chain_arrays
            adapt = self._fns["adapt_init"](arrays["inverse_mass_matrix"], arrays["step_size"])
            slow, window_end = nuts_kernel.warmup_schedule(n_steps)
            # the degeneracy map is refitted every 25 steps of the initial fast window and
            # at the end of each slow window, unless the run resumes chains that sample in
            # the coordinates already fitted
            refit = self.coordinates.pivot is not None and not any(
                mpi.allgather(len(chains) < len(self.local)))
            first_slow = int(np.argmax(slow)) if np.any(slow) else n_steps
            refit_at = window_end | ((np.arange(n_steps) < first_slow)
                                     & ((np.arange(n_steps) + 1) % _REFIT_EVERY == 0))
            window_x, fit_samples = [], []
            steps = []
            for i in range(n_steps):
                split = jax.vmap(jax.random.split)(keys)
                keys = split[:, 0]
                div, n_leapfrog, acceptance = self._step(split[:, 1], adapt.step_size,
                                                         adapt.inverse_mass_matrix)
                adapt = self._fns["adapt_update"](adapt, slow[i], window_end[i], self._hmc.position,
                                                  acceptance)
                divergent += np.asarray(div, dtype=int)
                steps.append(np.asarray(n_leapfrog))
                if refit:
                    window_x.append(np.asarray(self._fns["to_x"](self._hmc.position, arrays["shift"],
                                                                 arrays["tril"], arrays["fit"])))
                if refit and refit_at[i]:
                    if self._refit(chains, window_x, fit_samples):
                        arrays = self._chain_arrays
                        adapt = self._fns["adapt_init"](arrays["inverse_mass_matrix"], adapt.step_size)
                    window_x = []
                if window_end[i] or i == n_steps - 1:
                    self.log.info("Warm-up step %d/%d (%.0f s): step size %s, %.1f leapfrog steps "
                                  "per transition, %d divergent so far.", i + 1, n_steps,
                                  time.time() - start, np.round(np.asarray(adapt.step_size), 4).tolist(),
                                  float(np.mean(steps)), int(divergent.sum()))
                    steps = []
            step_size, imm = self._fns["adapt_final"](adapt)
        else:
            step_size, imm = jnp.full(len(chains), 0.1), self._chain_arrays["inverse_mass_matrix"]
        for i, chain in enumerate(chains):
            size = float(step_size[i])
            if not (np.isfinite(size) and size > 0):
                raise LoggedError(self.log, "Chain %d: the warm-up failed (step size %r); the "
                                  "posterior may be improper or zero almost everywhere.", chain + 1, size)
            state = self.states[chain]
            state.update(step_size=size, inverse_mass_matrix=np.asarray(imm[i]),
                         position=state["shift"] + state["tril"] @ np.asarray(self._hmc.position[i]),
                         key=np.asarray(jax.random.key_data(keys[i])),
                         **{f"fit_{k}": np.asarray(a) for k, a in zip(ShearFit._fields, self.fit)})
            self.log.info("Chain %d warmed up: step size %.4g, %d divergent warm-up transition(s).",
                          chain + 1, size, divergent[i])
        self.warmup_seconds = time.time() - start
        self.log.info("Warm-up done in %.1f s.", self.warmup_seconds)
        self._load_chains(self.local)

    def _refit(self, chains: list[int], window_x: list[np.ndarray],
               fit_samples: list[np.ndarray]) -> bool:
        """At the end of a warm-up window: refit the degeneracy map to the warm-up samples so
        far (all chains, all processes), move the chains to the new coordinates and whiten
        them with the covariance of this window's samples there (shrunk towards its
        diagonal, as Stan's estimate). Returns False (nothing changed) if there are too few
        samples yet (or a sample at a bound, which no map can hold)."""
        window = np.concatenate([part.reshape(-1, len(self.names))
                                 for part in mpi.allgather(np.concatenate(window_x, axis=0))])
        fit_samples.append(window)
        arrays = self._chain_arrays
        current = np.asarray(self._fns["to_x"](self._hmc.position, arrays["shift"], arrays["tril"],
                                               arrays["fit"]))
        try:
            fit, summary = self.coordinates.fit(np.concatenate(fit_samples))
            u_window = self.coordinates.to_unconstrained(window, fit)
            u_current = self.coordinates.to_unconstrained(current, fit)
        except ValueError:
            return False
        self.fit = fit
        n = len(u_window)
        covmat = np.atleast_2d(np.cov(u_window, rowvar=False))
        covmat = (n * covmat + 5.0 * np.diag(np.diag(covmat))) / (n + 5.0)
        try:
            tril = np.linalg.cholesky(covmat)
        except np.linalg.LinAlgError:
            tril = None
        for c, u in zip(chains, u_current):
            self.states[c].update(position=u, shift=u,
                                  tril=self._whitening(u) if tril is None else tril)
        self._load_chains(chains)
        self.log.info("Degeneracy map of %s refitted to %d warm-up samples (%d terms): residual "
                      "sd %.3g of %.3g in %s; chains whitened by this window's %d samples.",
                      self.degeneracy_param, summary["n_samples"], summary["n_terms"],
                      summary["residual_sd"], summary["sd"],
                      f"ln {self.degeneracy_param}" if self.coordinates.pivot_log
                      else self.degeneracy_param, n)
        return True

    def _advance(self, n_steps: int) -> dict[int, _Trace]:
        """n_steps NUTS transitions of every local chain; updates the saved states."""
        chains = list(self.local)
        keys = jnp.stack([jax.random.wrap_key_data(jnp.asarray(self.states[c]["key"])) for c in chains])
        arrays = self._chain_arrays
        record = {"z": [], "div": [], "steps": [], "acc": []}
        for _ in range(n_steps):
            split = jax.vmap(jax.random.split)(keys)
            keys = split[:, 0]
            div, steps, acc = self._step(split[:, 1], arrays["step_size"], arrays["inverse_mass_matrix"])
            for name, value in zip(record, (self._hmc.position, div, steps, acc)):
                record[name].append(value)
        z, div, steps, acc = (np.asarray(jnp.stack(record[k], axis=1)) for k in record)
        shift, tril = np.asarray(arrays["shift"]), np.asarray(arrays["tril"])
        traces = {}
        for i, c in enumerate(chains):
            u = shift[i] + z[i] @ tril[i].T
            self.states[c]["position"] = u[-1]
            self.states[c]["key"] = np.asarray(jax.random.key_data(keys[i]))
            traces[c] = _Trace(u, div[i], steps[i], acc[i])
        return traces

    def _record(self, chain: int, trace: _Trace) -> None:
        """Evaluate the model at the new samples (derived params, chi2) and add them."""
        collection = self.collections[chain]
        xs = np.asarray(jax.vmap(lambda u: self.coordinates.to_constrained(u, self.fit))(
            jnp.asarray(trace.position)))
        for x in xs:
            point = self.model.logposterior(x)
            collection.add(x, logpost=point)
        self.samples_x[chain] = np.concatenate([self.samples_x[chain], xs])
        self.states[chain]["n_samples"] = len(collection)

    def _write(self) -> None:
        for chain in self.local:
            path = self._state_path(chain)
            if path:
                tmp = path + ".tmp.npz"
                np.savez(tmp, **self.states[chain])
                os.replace(tmp, path)
            self.collections[chain].out_update()
        if self.output and mpi.is_main_process():
            yaml_dump_file(self.checkpoint_filename(),
                           {"sampler": {self.get_name(): {"converged": bool(self.converged)}}},
                           error_if_exists=False)

    # ---- the run ------------------------------------------------------------

    def run(self) -> None:
        """Warm up, then sample in blocks of ``output_every`` until R-1 or max_samples stops."""
        if self.converged:
            self.log.info("The chains had already converged: nothing to do (delete the "
                          "checkpoint or use --force to start again).")
            return
        self._warmup()
        start = time.time()
        evaluations = 0
        while True:
            done = min(len(self.collections[c]) for c in self.local)
            done = min(mpi.allgather(done))
            if done >= self.max_samples:
                self.log.info("Reached max_samples = %g per chain: stopping (not converged).",
                              self.max_samples)
                break
            n_steps = int(min(self.output_every, self.max_samples - done))
            traces = self._advance(n_steps)
            for chain, trace in traces.items():
                self._record(chain, trace)
                evaluations += int(np.sum(trace.steps))
            self.converged = self._check_convergence(traces, time.time() - start, evaluations)
            self._write()
            if self.converged:
                break
        self._finish()

    def _check_convergence(self, traces: dict[int, _Trace], elapsed: float, evaluations: int) -> bool:
        """R-1 and ESS over all chains (gathered from every process); logs a progress line."""
        local = [(c, self.samples_x[c], int(np.sum(t.divergent)), float(np.mean(t.acceptance)),
                  float(np.mean(t.steps))) for c, t in traces.items()]
        gathered = sorted((item for part in mpi.allgather(local) for item in part), key=lambda i: i[0])
        samples = [item[1] for item in gathered]
        r1 = rminus1(samples)
        r1_cl = rminus1_cl(samples, float(self.Rminus1_cl_level)) if self.Rminus1_cl_stop else np.nan
        ess = effective_sample_size(samples)
        info = {"n_per_chain": min(len(s) for s in samples), "Rminus1": r1, "Rminus1_cl": r1_cl,
                "min_ess": float(np.min(ess)), "ess": dict(zip(self.names, ess.tolist())),
                "divergent": sum(i[2] for i in gathered),
                "acceptance": float(np.mean([i[3] for i in gathered])),
                "leapfrog_per_sample": float(np.mean([i[4] for i in gathered])),
                "seconds": elapsed, "gradient_evaluations": evaluations}
        self.progress.append(info)
        self.mpi_info(
            "Progress: %d samples per chain, R-1 = %.4g, R-1(cl) = %.4g, min ESS = %.1f (%s), "
            "divergent in this block: %d, acceptance %.2f, %.1f leapfrog steps per sample, %.1f s.",
            info["n_per_chain"], r1, r1_cl, info["min_ess"], self.names[int(np.argmin(ess))],
            info["divergent"], info["acceptance"], info["leapfrog_per_sample"], elapsed,
        )
        return bool(r1 < self.Rminus1_stop and (not self.Rminus1_cl_stop or r1_cl < self.Rminus1_cl_stop))

    def _finish(self) -> None:
        samples = [x for part in mpi.allgather([self.samples_x[c] for c in self.local]) for x in part]
        pooled = np.concatenate(samples)
        self.covmat_samples = np.atleast_2d(np.cov(pooled, rowvar=False)) if len(pooled) > 1 else None
        if self.converged:
            self.log.info("Converged: R-1 = %.4g < %g.", self.progress[-1]["Rminus1"] if self.progress
                          else np.nan, self.Rminus1_stop)
        if self.output and mpi.is_main_process() and self.covmat_samples is not None:
            self.dump_covmat(self.covmat_samples)

    # ---- Cobaya interface ---------------------------------------------------

    def products(self) -> dict:
        """The results of the run.

        Returns
        -------
        dict
            ``sample``: the SampleCollection of each chain of this process (list);
            ``chains``: their chain numbers (0-based); ``progress``: one dict per check
            (samples per chain, R-1, R-1 of the bounds, ESS per parameter, divergent
            transitions, acceptance, leapfrog steps per sample, seconds); ``converged``;
            ``covmat``: covariance of the samples of all chains (sampled params, in
            their order) or None.
        """
        return {"sample": [self.collections[c] for c in self.local], "chains": list(self.local),
                "progress": self.progress, "converged": self.converged,
                "covmat": getattr(self, "covmat_samples", None), "covmat_params": list(self.names)}

    @classmethod
    def output_files_regexps(cls, output: Any, info: dict | None = None,
                             minimal: bool = False) -> list[tuple[re.Pattern, None]]:
        """Files this sampler writes at the prefix (deleted with ``--force``).

        Parameters
        ----------
        output : cobaya.output.Output
        info : dict, optional
            This sampler's options (unused).
        minimal : bool
            Only the chain files (whose presence means there is a run to resume).

        Returns
        -------
        list of (re.Pattern, None)
        """
        chains = (re.compile(output.prefix_regexp_str + r"\d+\.txt$"), None)
        if minimal:
            return [chains]
        return [chains] + [
            (re.compile(output.prefix_regexp_str + pattern), None)
            for pattern in (r"\d+" + re.escape(_STATE_EXTENSION) + "$", r"checkpoint$", r"covmat$")
        ]
