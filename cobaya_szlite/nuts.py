"""Cobaya sampler `NUTS`: the No-U-Turn Sampler with exact gradients of the posterior.

Use it as ``sampler: {cobaya_szlite.NUTS: {...}}`` (options and defaults in
``NUTS.yaml``). The algorithm is BlackJAX's (``blackjax.nuts`` after
``blackjax.window_adaptation``, Stan's warm-up of the step size and mass matrix);
this class builds the target density, runs the chains, writes them and decides
when to stop.

Target: the log-posterior of the Cobaya model in the unconstrained coordinates of
`cobaya_szlite.unconstrained.Bijection` (bounded priors through logit / log maps with
their log-Jacobian, unbounded ones such as Gaussian priors kept; with
``transform_bounded: False``, in the parameters themselves, the prior bounds acting as
walls of zero posterior). Two paths give it:

- generic: ln P and its gradient from the Cobaya model and
  `cobaya_szlite.posterior_gradient.PosteriorGradient` (analytic where the
  likelihoods provide it, finite differences otherwise), called from JAX through a
  host callback (`cobaya_szlite.nuts_target.host_logpost`); chains advance one
  after the other;
- fast: when `cobaya_szlite.jax_posterior.pure_jax_logpost` can write the whole
  posterior as one JAX function, no callback: the chains of a process advance
  together (vmapped) in compiled code.

Outputs, at the run's prefix: ``<prefix>.<i>.txt`` per chain (Cobaya's sample
format: weight, minuslogpost, sampled and derived params, minuslogprior, chi2; each
sample evaluated once more by the model for its derived parameters), the state of
each chain (``<prefix>.<i>.nuts.npz``: position, step size, mass matrix, random key)
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

from .convergence import effective_sample_size, rminus1, rminus1_cl
from .nuts_target import host_logpost, unconstrained_logdensity
from .posterior_gradient import PosteriorGradient, parameter_scales
from .unconstrained import Bijection

__all__ = ["NUTS"]

_STATE_EXTENSION = ".nuts.npz"


class _Trace(NamedTuple):
    """What one block of NUTS steps returns per chain (numpy arrays over the steps): the
    positions u (n_steps, n_params), divergent flags, leapfrog steps and acceptance rates."""

    position: np.ndarray
    divergent: np.ndarray
    steps: np.ndarray
    acceptance: np.ndarray


def _nuts_block(logdensity: Callable, max_doublings: int, n_steps: int) -> Callable:
    """JAX function (key, state, step_size, inverse_mass_matrix) -> (state, per-step info)
    running ``n_steps`` NUTS transitions."""
    import blackjax

    def run(key, state, step_size, inverse_mass_matrix):
        kernel = blackjax.nuts(logdensity, step_size=step_size, inverse_mass_matrix=inverse_mass_matrix,
                               max_num_doublings=max_doublings)

        def one(state, step_key):
            state, info = kernel.step(step_key, state)
            return state, (state.position, info.is_divergent, info.num_integration_steps,
                           info.acceptance_rate)

        return jax.lax.scan(one, state, jax.random.split(key, n_steps))

    return run


class NUTS(CovmatSampler):
    """No-U-Turn Sampler with Stan-style warm-up (see the module docstring)."""

    # options that may change when resuming (the chains stay valid)
    _at_resume_prefer_new = ["max_samples", "Rminus1_stop", "Rminus1_cl_stop", "Rminus1_cl_level",
                             "output_every", "max_tries", "fast_path", "fd_step"]

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
    transform_bounded: bool
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
        bounds = np.array(self.model.prior.bounds(), dtype=float)
        if not self.transform_bounded:
            bounds[:, 0], bounds[:, 1] = -np.inf, np.inf  # sample x itself; the prior is the wall
        try:
            self.bijection = Bijection.from_bounds(bounds)
        except ValueError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
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
        if not isinstance(self.transform_bounded, bool):
            raise LoggedError(self.log, "Option 'transform_bounded' must be True or False; got %r.",
                              self.transform_bounded)
        if self.fast_path not in (None, True, False):
            raise LoggedError(self.log, "Option 'fast_path' must be null, True or False; got %r.",
                              self.fast_path)

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
        self.vectorised = logpost is not None
        if self.vectorised:
            self.log.info("Fast path: the whole posterior is one jitted JAX function; %d local "
                          "chain(s) advance together.", len(self.local))
        else:
            self.log.info("Generic path (%s): ln P and its gradient from the Cobaya model through "
                          "a host callback.", reason)
            logpost = host_logpost(self.gradient, len(self.names))
        self.logpost_x = logpost
        self.logdensity = unconstrained_logdensity(logpost, self.bijection)

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
                self.log.info("Chain %d: resuming after %d samples.", chain + 1, len(collection))
            elif len(collection):
                collection.reset()
            self.collections[chain] = collection
            self.samples_x[chain] = (collection[self.names].to_numpy(dtype=float)
                                     if len(collection) else np.zeros((0, len(self.names))))
        self.starts = {chain: self._starting_point(chain) for chain in self.local
                       if chain not in self.states}

    def _starting_point(self, chain: int) -> np.ndarray:
        """A draw from the reference pdf with finite posterior, strictly inside the bounds."""
        x = None
        for _ in range(int(self.max_tries)):
            x = np.asarray(self.model.prior.reference(random_state=self._rng), dtype=float)
            try:
                u = self.bijection.to_unconstrained(x)
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

    def _initial_inverse_mass(self, u: np.ndarray) -> np.ndarray:
        """The initial covariance moved to u at the start point (diagonal: its diagonal)."""
        inv_jac = 1.0 / self.bijection.jacobian_diagonal(u)
        matrix = self.initial_covmat * np.outer(inv_jac, inv_jac)
        return matrix if self.dense_mass else np.diag(matrix).copy()

    def _keys(self, n: int) -> jax.Array:
        return jax.random.split(jax.random.key(int(self._rng.integers(2**62))), n)

    def _warmup(self) -> None:
        """Window adaptation of the chains without a saved state."""
        import blackjax
        from blackjax.adaptation.base import get_filter_adapt_info_fn

        chains = [c for c in self.local if c not in self.states]
        if not chains:
            return
        n_steps = int(self.warmup)

        def run(key, u0, imm0):
            adaptation = blackjax.window_adaptation(
                blackjax.nuts, self.logdensity, is_mass_matrix_diagonal=not self.dense_mass,
                initial_inverse_mass_matrix=imm0, target_acceptance_rate=float(self.target_accept),
                max_num_doublings=int(self.max_tree_depth),
                adaptation_info_fn=get_filter_adapt_info_fn(info_keys={"is_divergent"}),
            )
            return adaptation.run(key, u0, num_steps=n_steps)

        starts = np.array([self.starts[c] for c in chains])
        imms = np.array([self._initial_inverse_mass(u) for u in starts])
        keys = self._keys(len(chains))
        self.log.info("Warm-up: %d adaptation steps for chain(s) %s.", n_steps,
                      [c + 1 for c in chains])
        start = time.time()
        if n_steps == 0:
            results = [self._no_warmup(u, imm) for u, imm in zip(starts, imms)]
        elif self.vectorised:
            (states, params), info = jax.jit(jax.vmap(run))(keys, jnp.asarray(starts), jnp.asarray(imms))
            results = [(jax.tree.map(lambda a, i=i: a[i], states), float(params["step_size"][i]),
                        np.asarray(params["inverse_mass_matrix"][i]),
                        int(np.sum(info.info.is_divergent[i]))) for i in range(len(chains))]
        else:
            jitted = jax.jit(run)
            results = []
            for key, u0, imm0 in zip(keys, starts, imms):
                (state, params), info = jitted(key, jnp.asarray(u0), jnp.asarray(imm0))
                results.append((state, float(params["step_size"]), np.asarray(params["inverse_mass_matrix"]),
                                int(np.sum(info.info.is_divergent))))
        for chain, (state, step_size, imm, divergent) in zip(chains, results):
            if not (np.isfinite(step_size) and step_size > 0):
                raise LoggedError(self.log, "Chain %d: the warm-up failed (step size %r); the "
                                  "posterior may be improper or zero almost everywhere.", chain + 1,
                                  step_size)
            self.states[chain] = {"position": np.asarray(state.position), "step_size": step_size,
                                  "inverse_mass_matrix": imm, "n_samples": 0,
                                  "key": np.asarray(jax.random.key_data(self._keys(1)[0]))}
            self.log.info("Chain %d warmed up: step size %.4g, %d divergent warm-up transition(s).",
                          chain + 1, step_size, divergent)
        self.log.info("Warm-up done in %.1f s.", time.time() - start)

    def _no_warmup(self, u: np.ndarray, imm: np.ndarray) -> tuple:
        import blackjax

        state = blackjax.nuts(self.logdensity, step_size=1.0, inverse_mass_matrix=imm).init(jnp.asarray(u))
        return state, 0.1, imm, 0

    def _advance(self, n_steps: int) -> dict[int, _Trace]:
        """n_steps NUTS transitions of every local chain; updates the saved states."""
        import blackjax

        block = _nuts_block(self.logdensity, int(self.max_tree_depth), n_steps)
        chains = list(self.local)
        if not hasattr(self, "_compiled_blocks"):
            self._compiled_blocks = {}
        if n_steps not in self._compiled_blocks:
            self._compiled_blocks[n_steps] = jax.jit(jax.vmap(block) if self.vectorised else block)
        run = self._compiled_blocks[n_steps]

        def init(chain):
            s = self.states[chain]
            return blackjax.nuts(self.logdensity, step_size=float(s["step_size"]),
                                 inverse_mass_matrix=jnp.asarray(s["inverse_mass_matrix"])).init(
                jnp.asarray(s["position"]))

        keys = {c: jax.random.wrap_key_data(jnp.asarray(self.states[c]["key"])) for c in chains}
        split = {c: jax.random.split(keys[c]) for c in chains}
        if self.vectorised:
            states = jax.tree.map(lambda *a: jnp.stack(a), *[init(c) for c in chains])
            final, (pos, div, steps, acc) = run(
                jnp.stack([split[c][0] for c in chains]), states,
                jnp.asarray([float(self.states[c]["step_size"]) for c in chains]),
                jnp.stack([jnp.asarray(self.states[c]["inverse_mass_matrix"]) for c in chains]))
            out = {c: (np.asarray(final.position[i]), np.asarray(pos[i]), np.asarray(div[i]),
                       np.asarray(steps[i]), np.asarray(acc[i])) for i, c in enumerate(chains)}
        else:
            out = {}
            for c in chains:
                final, (pos, div, steps, acc) = run(
                    split[c][0], init(c), float(self.states[c]["step_size"]),
                    jnp.asarray(self.states[c]["inverse_mass_matrix"]))
                out[c] = (np.asarray(final.position), np.asarray(pos), np.asarray(div),
                          np.asarray(steps), np.asarray(acc))
        traces = {}
        for c in chains:
            last, pos, div, steps, acc = out[c]
            self.states[c]["position"] = last
            self.states[c]["key"] = np.asarray(jax.random.key_data(split[c][1]))
            traces[c] = _Trace(pos, div, steps, acc)
        return traces

    def _record(self, chain: int, trace: _Trace) -> None:
        """Evaluate the model at the new samples (derived params, chi2) and add them."""
        collection = self.collections[chain]
        xs = np.asarray(jax.vmap(self.bijection.to_constrained)(jnp.asarray(trace.position)))
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
