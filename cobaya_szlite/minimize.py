"""Cobaya sampler `GradMinimize`: gradient-based best fit and exact Fisher covariance.

Use it as ``sampler: {cobaya_szlite.GradMinimize: {...}}`` (options and their
defaults in ``GradMinimize.yaml``). It maximises the log-posterior (or, with
``ignore_prior``, the log-likelihood within the prior bounds): the algorithm is
`cobaya_szlite.optimise.minimize_with_fisher` (projected Fisher scoring, then a
bounded quasi-Newton method from `scipy.optimize.minimize`, L-BFGS-B by default),
fed with -ln P, its exact gradient in the sampled parameters and the Fisher matrix
assembled by `cobaya_szlite.posterior_gradient.PosteriorGradient`. This class only
chooses the starting points, splits them over MPI ranks, keeps the best minimum
and writes the outputs.

Outputs, at the run's own ``output`` prefix (as Cobaya's ``minimize``):
``<prefix>.minimum.txt`` (Cobaya sample format) and ``<prefix>.minimum``
(getdist format; ``.bestfit[.txt]`` with ``ignore_prior``), plus
``<prefix>.covmat``: the inverse Fisher matrix at the minimum in the sampled
parameters, usable as ``covmat:`` of Cobaya's ``mcmc``. To start from the best
point of an existing chain, give its prefix in ``start_from``.
"""

import dataclasses
import glob
import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from cobaya import mpi
from cobaya.collection import OnePoint
from cobaya.log import LoggedError
from cobaya.sampler import Minimizer
from cobaya.samplers.minimize import Minimize
from cobaya.tools import read_dnumber
from scipy.optimize import OptimizeResult

from .optimise import FisherOptions, minimize_with_fisher
from .posterior_gradient import PosteriorGradient

__all__ = ["GradMinimize", "chain_best_points"]

_EXTENSION = {True: ".bestfit", False: ".minimum"}


def chain_best_points(prefix: str | os.PathLike, names: Sequence[str],
                      ignore_prior: bool = False) -> list[tuple[float, np.ndarray]]:
    """Best point of each Cobaya chain file ``<prefix>[.N].txt``, best first.

    Parameters
    ----------
    prefix : str or path
        Output prefix of the chain (``~`` expanded).
    names : sequence of str
        The parameters whose values are returned (columns of the chain).
    ignore_prior : bool
        Rank by chi^2 / 2 (the ``chi2`` column halved) instead of ``minuslogpost``.

    Returns
    -------
    list of (float, numpy.ndarray)
        (value, x) per chain file with samples: value -ln P (or chi^2/2) recorded in
        the chain (dimensionless), x the values of ``names`` (their own units).

    Raises
    ------
    ValueError
        If no chain file exists, none has samples, or a name is missing from a chain.
    """
    prefix = os.path.abspath(os.path.expanduser(str(prefix)))
    pattern = re.compile(re.escape(os.path.basename(prefix)) + r"(\.\d+)?\.txt$")
    files = sorted(
        f for f in glob.glob(glob.escape(prefix) + "*.txt")
        if pattern.fullmatch(os.path.basename(f))
    )
    if not files:
        raise ValueError(f"no chain file '{prefix}.txt' or '{prefix}.<N>.txt'")
    points = []
    for path in files:
        with open(path, encoding="utf-8") as stream:
            columns = stream.readline().lstrip("#").split()
        missing = [p for p in names if p not in columns]
        column = "chi2" if ignore_prior else "minuslogpost"
        if missing or column not in columns:
            raise ValueError(f"chain '{path}' has no column(s) {missing or [column]}")
        table = np.loadtxt(path, ndmin=2)
        if not len(table):
            continue
        values = table[:, columns.index(column)] * (0.5 if ignore_prior else 1.0)
        best = int(np.argmin(values))
        points.append((float(values[best]), table[best, [columns.index(p) for p in names]]))
    if not points:
        raise ValueError(f"the chain files {files} have no samples")
    return sorted(points, key=lambda point: point[0])


class GradMinimize(Minimizer):
    """Gradient-based maximum a posteriori / best fit with an exact Fisher covmat."""

    # Options (defaults and comments in GradMinimize.yaml)
    method: str
    ignore_prior: bool
    best_of: int
    start_from: str | None
    ftol: float
    gtol: float
    max_evals: int | str
    fd_step: float
    fisher_covmat: bool
    whiten: bool
    fisher_steps: int
    restarts: int
    override_scipy: dict | None

    def initialize(self) -> None:
        """Check options, set up the gradient and choose the starting points."""
        if not (isinstance(self.best_of, int) and self.best_of > 0):
            raise LoggedError(self.log, "'best_of' must be a positive integer; got %r.",
                              self.best_of)
        try:
            max_evals = int(read_dnumber(self.max_evals, self.model.prior.d()))
            fd_step = float(self.fd_step)
            options = FisherOptions(
                method=self.method, ftol=float(self.ftol), gtol=float(self.gtol),
                max_evals=max_evals, fisher_steps=int(self.fisher_steps), whiten=self.whiten,
                restarts=int(self.restarts),
                scipy_options=self.override_scipy,
            )
        except (TypeError, ValueError) as excpt:
            raise LoggedError(self.log, "Invalid option: %s", excpt) from None
        if not (np.isfinite(fd_step) and fd_step > 0):
            raise LoggedError(self.log, "'fd_step' must be a number > 0; got %r.", self.fd_step)
        self.gradient = PosteriorGradient(
            self.model, ignore_prior=self.ignore_prior, fd_step=fd_step, log=self.log
        )
        self.names = self.gradient.names
        self.options = dataclasses.replace(options, scales=self.gradient.scales)
        self.initial_points = self._starting_points()
        self.result = self.minimum = self.full_set_of_mins = None
        self.fisher = self.covmat = None
        self.n_evals = self.n_grad_evals = 0

    # ---- starting points ----------------------------------------------------

    def _starting_points(self) -> list[np.ndarray]:
        n_local = int(np.ceil(self.best_of / mpi.size()))
        first = mpi.rank() * n_local
        bounds = self.model.prior.bounds()
        chain_points = []
        if self.start_from:
            try:
                chain_points = chain_best_points(self.start_from, self.names, self.ignore_prior)
            except ValueError as excpt:
                raise LoggedError(
                    self.log, "start_from: '%s': %s.", self.start_from, excpt
                ) from None
        points = []
        for index in range(first, first + n_local):
            if index < len(chain_points):
                x = np.clip(chain_points[index][1], bounds[:, 0], bounds[:, 1])
                if not np.isfinite(self.model.logpost(x)):
                    raise LoggedError(
                        self.log, "start_from: the best point of chain %d of '%s' has zero "
                        "posterior in this model: %r", index + 1, self.start_from, x
                    )
                self.log.info("Start %d from the best point of chain '%s' (%d).",
                              index + 1, self.start_from, index + 1)
            else:
                x = self._random_start()
                self.log.info("Start %d from a random point of the reference pdf.", index + 1)
            self.log.info("%s", dict(zip(self.names, x.tolist())))
            points.append(x)
        return points

    def _random_start(self) -> np.ndarray:
        for _ in range(self.options.max_evals // 10 + 5):
            x = self.model.prior.reference(random_state=self._rng)
            if np.isfinite(self.model.logpost(x)):
                return np.asarray(x, dtype=float)
        raise LoggedError(self.log, "Could not find a starting point with finite posterior.")

    # ---- minimisation -------------------------------------------------------

    def _minus_logp(self, x: np.ndarray) -> tuple[float, np.ndarray | None]:
        """-ln P (or -ln L) and its gradient; (inf, None) where the posterior is zero."""
        value, grad = self.gradient(x)
        if grad is None:
            return np.inf, None
        return -value, -grad

    def _fisher(self, x: np.ndarray) -> np.ndarray:
        """Fisher matrix of -ln P without finite-difference Hessians (cheap, for steps)."""
        return self.gradient.fisher(x, numeric=False)

    def _minimize_from(self, x0: np.ndarray) -> OptimizeResult:
        bounds = self.model.prior.bounds()
        try:
            result = minimize_with_fisher(self._minus_logp, self._fisher, x0,
                                          bounds=bounds, options=self.options)
        except ValueError as excpt:
            raise LoggedError(self.log, "Minimization from %r failed: %s",
                              dict(zip(self.names, np.asarray(x0).tolist())), excpt) from None
        if len(result.stages) > 1:
            self.log.info("Whitened run stopped (%s); continued within the prior bounds.",
                          result.stages[0]["message"])
        return result

    def run(self) -> None:
        """Minimise from every starting point; keep the best over starts and MPI ranks."""
        local = []
        for i, x0 in enumerate(self.initial_points):
            self.log.info("Starting run %d/%d.", i + 1, len(self.initial_points))
            result = self._minimize_from(x0)
            log = self.log.info if result.success else self.log.warning
            log("Run %d/%d: -log(%s) = %.8g after %d evaluations (%s).", i + 1,
                len(self.initial_points), "like" if self.ignore_prior else "post",
                result.fun, result.nfev, result.message)
            local.append(result)
        results = [r for rank_results in mpi.allgather(local) for r in rank_results]
        self._process_results(results)

    def _process_results(self, results: list[OptimizeResult]) -> None:
        successes = [r for r in results if r.success]
        if not successes:
            raise LoggedError(
                self.log, "Minimization failed from every start: %s",
                [r.message for r in results],
            )
        if len(successes) < len(results):
            self.log.warning("Some minimizations failed: %s",
                             [r.message for r in results if not r.success])
        self.result = min(successes, key=lambda r: r.fun)
        self.n_evals = sum(r.nfev for r in results)
        self.n_grad_evals = sum(r.njev for r in results)
        if len(results) > 1:
            self.full_set_of_mins = {str(i): (r.fun, r.success) for i, r in enumerate(results)}
            self.log.info("Full set of minima: %s", self.full_set_of_mins)
        if mpi.is_main_process():
            self._write_outputs(self.result.x)
        self.minimum, self.fisher, self.covmat = mpi.share_mpi(
            (self.minimum, self.fisher, self.covmat)
        )

    def _write_outputs(self, x_min: np.ndarray) -> None:
        point = self.model.logposterior(x_min, cached=False)
        target = float(sum(point.loglikes)) if self.ignore_prior else float(point.logpost)
        if not np.isclose(-target, self.result.fun, rtol=0, atol=1e-2):
            raise LoggedError(
                self.log, "Cannot reproduce the minimum to 0.01: %g, was %g at %r",
                -target, self.result.fun, x_min,
            )
        self.log.info("-log(%s) minimized to %.10g",
                      "likelihood" if self.ignore_prior else "posterior", -target)
        self.minimum = OnePoint(
            self.model, self.output, name="", extension=_EXTENSION[self.ignore_prior] + ".txt"
        )
        self.minimum.add(x_min, derived=point.derived, logpost=point.logpost,
                         logpriors=point.logpriors, loglikes=point.loglikes)
        self.log.info("Parameter values at minimum:\n%s", self.minimum.data.to_string())
        self.minimum.out_update()
        if self.output:
            text = Minimize.getdist_point_text(
                self, self.minimum, minuslogpost=self.minimum["minuslogpost"]
            )
            path = os.path.join(self.output.folder,
                                self.output.prefix + _EXTENSION[self.ignore_prior])
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(text)
        if self.fisher_covmat:
            self._write_covmat(x_min)

    def _write_covmat(self, x_min: np.ndarray) -> None:
        self.fisher = self.gradient.fisher(x_min)
        eigenvalues = np.linalg.eigvalsh(self.fisher)
        if not eigenvalues[0] > 0:
            self.log.warning("Fisher matrix at the minimum is not positive definite "
                             "(eigenvalues %s): no covmat written.", eigenvalues)
            return
        self.covmat = np.linalg.inv(self.fisher)
        self.covmat = 0.5 * (self.covmat + self.covmat.T)
        if self.output:
            path = os.path.join(self.output.folder, self.output.prefix + ".covmat")
            np.savetxt(path, self.covmat, header=" ".join(self.names))
            self.log.info("Fisher covariance matrix written to '%s'.", path)

    # ---- Cobaya interface ---------------------------------------------------

    def products(self) -> dict:
        """The results of the run (None before it).

        Returns
        -------
        dict
            ``minimum`` (OnePoint), ``result_object`` (the `scipy.optimize.OptimizeResult`
            of `minimize_with_fisher` for the best start), ``full_set_of_mins``, ``fisher``
            and ``covmat`` (sampled params, ``covmat_params`` order, per unit of each
            param), ``n_evals``, ``n_grad_evals``, and ``M``/``X0`` (x = M y + X0 maps the
            coordinates y of the best start's last scipy stage).
        """
        return {
            "minimum": self.minimum,
            "result_object": self.result,
            "full_set_of_mins": self.full_set_of_mins,
            "fisher": self.fisher,
            "covmat": self.covmat,
            "covmat_params": list(self.names),
            "n_evals": self.n_evals,
            "n_grad_evals": self.n_grad_evals,
            "M": None if self.result is None else self.result.transform,
            "X0": None if self.result is None else self.result.baseline,
        }

    @classmethod
    def output_files_regexps(cls, output: Any, info: dict | None = None,
                             minimal: bool = False) -> list[tuple[re.Pattern, None]]:
        """Files this sampler writes at the prefix (deleted with ``--force``).

        Parameters
        ----------
        output : cobaya.output.Output
            The run's output (its prefix).
        info : dict, optional
            This sampler's options (``ignore_prior`` selects the file names).
        minimal : bool
            Cobaya's flag for the files that must not exist when not resuming (the
            same files here).

        Returns
        -------
        list of (re.Pattern, None)
            One pattern per file; None: in the output folder.
        """
        ext = _EXTENSION[bool((info or {}).get("ignore_prior", False))]
        return [
            (re.compile(output.prefix_regexp_str + re.escape(e.lstrip(".")) + "$"), None)
            for e in (ext + ".txt", ext, ".covmat")
        ]

    @classmethod
    def check_force_resume(cls, output: Any, info: dict | None = None) -> None:
        """A minimizer does not resume: existing outputs need ``--force`` (else LoggedError).

        Parameters
        ----------
        output, info : as for `output_files_regexps`
        """
        if output.is_resuming() and mpi.is_main_process():
            raise LoggedError(output.log, "GradMinimize does not support resuming. To start "
                              "over, force ('-f', '--force', 'force: True').")
        super().check_force_resume(output, info=info)
