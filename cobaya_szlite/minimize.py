"""Cobaya sampler `GradMinimize`: gradient-based best fit and exact Fisher covariance.

Use it as ``sampler: {cobaya_szlite.GradMinimize: {...}}`` (options and their
defaults in ``GradMinimize.yaml``). It maximises the log-posterior (or, with
``ignore_prior``, the log-likelihood within the prior bounds) with a bounded
quasi-Newton method from `scipy.optimize.minimize` (L-BFGS-B by default),
fed with the exact gradient in the sampled parameters assembled by
`cobaya_szlite.posterior_gradient.PosteriorGradient`. It works in coordinates
whitened by the Fisher matrix at the start (``whiten``), falling back to the
prior box with the parameters divided by their conditional widths, so the
tolerances are in units of those widths.

Outputs, at the run's own ``output`` prefix (as Cobaya's ``minimize``):
``<prefix>.minimum.txt`` (Cobaya sample format) and ``<prefix>.minimum``
(getdist format; ``.bestfit[.txt]`` with ``ignore_prior``), plus
``<prefix>.covmat``: the inverse Fisher matrix at the minimum in the sampled
parameters, usable as ``covmat:`` of Cobaya's ``mcmc``. To start from the best
point of an existing chain, give its prefix in ``start_from``.
"""

import glob
import os
import re

import numpy as np
from cobaya import mpi
from cobaya.collection import OnePoint
from cobaya.log import LoggedError
from cobaya.sampler import Minimizer
from cobaya.samplers.minimize import Minimize
from cobaya.tools import read_dnumber
from scipy import optimize

from .posterior_gradient import PosteriorGradient

__all__ = ["GradMinimize", "chain_best_points"]

#: scipy methods accepted (bounded, gradient-based) and how our tolerances map to their options.
METHOD_OPTIONS = {
    "L-BFGS-B": {"ftol": "ftol", "gtol": "gtol", "max_evals": "maxfun"},
    "TNC": {"ftol": "ftol", "gtol": "gtol", "max_evals": "maxfun"},
    "SLSQP": {"ftol": "ftol", "max_evals": "maxiter"},
    "trust-constr": {"gtol": "gtol", "max_evals": "maxiter"},
}
#: ln P treated as the value at points with zero posterior (finite, for the optimizer).
_ZERO_POSTERIOR = -1e30
_EXTENSION = {True: ".bestfit", False: ".minimum"}


def chain_best_points(prefix, names, ignore_prior=False):
    """Best point of each Cobaya chain file ``<prefix>[.N].txt``, best first.

    Returns a list of (value, x): value -ln P (or chi^2/2 with ``ignore_prior``)
    recorded in the chain, x the values of ``names``. Raises ValueError if no
    chain file exists or a name is missing from a chain.
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
    override_scipy: dict | None

    def initialize(self):
        """Check options, set up the gradient and choose the starting points."""
        if self.method not in METHOD_OPTIONS:
            raise LoggedError(
                self.log, "Unknown method '%s'; use one of %s.", self.method, list(METHOD_OPTIONS)
            )
        if not (isinstance(self.best_of, int) and self.best_of > 0):
            raise LoggedError(self.log, "'best_of' must be a positive integer; got %r.",
                              self.best_of)
        try:
            self.max_iter = int(read_dnumber(self.max_evals, self.model.prior.d()))
            tolerances = [float(self.ftol), float(self.gtol), float(self.fd_step)]
        except (TypeError, ValueError) as excpt:
            raise LoggedError(self.log, "Invalid numerical option: %s", excpt) from None
        if self.max_iter < 1 or min(tolerances) <= 0:
            raise LoggedError(self.log, "'max_evals', 'ftol', 'gtol', 'fd_step' must be > 0.")
        if self.override_scipy is not None and not isinstance(self.override_scipy, dict):
            raise LoggedError(self.log, "'override_scipy' must be a dict of scipy options.")
        self.gradient = PosteriorGradient(
            self.model, ignore_prior=self.ignore_prior, fd_step=self.fd_step, log=self.log
        )
        self.names = self.gradient.names
        bounds = self.model.prior.bounds()
        self._lower, self._upper = bounds[:, 0], bounds[:, 1]
        self.initial_points = self._starting_points()
        self.result = self.minimum = self.full_set_of_mins = None
        self.fisher = self.covmat = None
        self._transform = self._baseline = None
        self._whitened = False

    # ---- starting points ----------------------------------------------------

    def _starting_points(self):
        n_local = int(np.ceil(self.best_of / mpi.size()))
        first = mpi.rank() * n_local
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
                x = np.clip(chain_points[index][1], self._lower, self._upper)
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

    def _random_start(self):
        for _ in range(self.max_iter // 10 + 5):
            x = self.model.prior.reference(random_state=self._rng)
            if np.isfinite(self.model.logpost(x)):
                return np.asarray(x, dtype=float)
        raise LoggedError(self.log, "Could not find a starting point with finite posterior.")

    # ---- minimisation -------------------------------------------------------

    def _objective(self, y):
        """-ln P and its gradient in the minimizer's coordinates y: x = baseline + M y.

        Outside the prior box (reachable only in whitened coordinates) the
        posterior is zero: a huge finite value the line search backs off from.
        """
        x = self._baseline + self._transform @ y
        if self._whitened and not np.all((x >= self._lower) & (x <= self._upper)):
            return -_ZERO_POSTERIOR, np.zeros_like(y)
        value, grad = self.gradient(np.clip(x, self._lower, self._upper))
        if grad is None:
            return -_ZERO_POSTERIOR, np.zeros_like(y)
        return -value, -(self._transform.T @ grad)

    def _scipy_options(self):
        names = METHOD_OPTIONS[self.method]
        values = {"ftol": float(self.ftol), "gtol": float(self.gtol), "max_evals": self.max_iter}
        options = {scipy_name: values[ours] for ours, scipy_name in names.items()}
        options.update(self.override_scipy or {})
        return options

    def _phase(self, x0, transform, whitened):
        """One scipy run from x0 in coordinates x = x0 + transform @ y."""
        self._baseline = np.asarray(x0, dtype=float)
        self._transform, self._whitened = transform, whitened
        bounds = None
        if not whitened:
            scales = np.diag(transform)
            bounds = optimize.Bounds((self._lower - x0) / scales, (self._upper - x0) / scales)
        result = optimize.minimize(
            self._objective, np.zeros(len(x0)), jac=True, method=self.method,
            bounds=bounds, options=self._scipy_options(),
        )
        x = self._baseline + transform @ result.x
        inside = bool(np.all((x >= self._lower) & (x <= self._upper)))
        return result, np.clip(x, self._lower, self._upper), inside

    def _fisher_steps(self, x):
        """Up to ``fisher_steps`` projected Fisher-scoring (Gauss-Newton) steps.

        Parameters on a prior bound whose gradient points outwards are held there;
        the others move by F_free^-1 grad ln P, cut where they would cross a bound
        and halved until ln P increases. Returns the last accepted point.
        """
        value, grad = self.gradient(x)
        for _ in range(int(self.fisher_steps)):
            free = ~(((x <= self._lower) & (grad < 0)) | ((x >= self._upper) & (grad > 0)))
            step = np.zeros_like(x)
            try:
                fisher = self.gradient.fisher(x, numeric=False)
                step[free] = np.linalg.solve(fisher[np.ix_(free, free)], grad[free])
            except np.linalg.LinAlgError:
                break
            if 0.5 * step @ grad < float(self.ftol) * max(abs(value), 1.0):
                break
            with np.errstate(divide="ignore", invalid="ignore"):
                room = np.where(step > 0, (self._upper - x) / step,
                                np.where(step < 0, (self._lower - x) / step, np.inf))
            step = step * min(1.0, float(np.min(room)))
            for _halving in range(8):
                trial = np.clip(x + step, self._lower, self._upper)
                new_value, new_grad = self.gradient(trial)
                if new_grad is not None and new_value > value:
                    break
                step = step / 2
            else:
                break
            x, value, grad = trial, new_value, new_grad
        return x

    def _minimize_from(self, x0):
        """Fisher-scoring steps, then L-BFGS-B whitened by the Fisher matrix there; if
        that fails or ends on a prior bound, box-bounded with diagonal scaling."""
        x = np.asarray(x0, dtype=float)
        evals, grads = self.gradient.n_evals, self.gradient.n_grads
        x = self._fisher_steps(x)
        fisher = self.gradient.fisher(x, numeric=False)
        done = False
        on_bound = np.any((x <= self._lower) | (x >= self._upper))
        if self.whiten and self.method == "L-BFGS-B" and not on_bound:
            try:
                factor = np.linalg.cholesky(fisher)
            except np.linalg.LinAlgError:
                factor = None
            if factor is not None:
                result, x_new, inside = self._phase(x, np.linalg.inv(factor.T), True)
                done = bool(result.success and inside
                            and np.all((x_new > self._lower) & (x_new < self._upper)))
                if not done:
                    self.log.info("Whitened run stopped (%s); continuing within the prior "
                                  "bounds.", result.message)
                x = x_new
        if not done:
            scales = self.gradient.scales.copy()
            diagonal = np.diag(self.gradient.fisher(x, numeric=False))
            good = np.isfinite(diagonal) & (diagonal > 0)
            scales[good] = 1 / np.sqrt(diagonal[good])
            result, x, _ = self._phase(x, np.diag(scales), False)
        return {
            "x": x,
            "minuslogp": float(result.fun),
            "success": bool(result.success),
            "message": str(result.message),
            "n_evals": self.gradient.n_evals - evals,
            "n_grad_evals": self.gradient.n_grads - grads,
            "transform": self._transform,
            "baseline": self._baseline,
            "result": result,
        }

    def run(self):
        """Minimise from every starting point; keep the best over starts and MPI ranks."""
        local = []
        for i, x0 in enumerate(self.initial_points):
            self.log.info("Starting run %d/%d.", i + 1, len(self.initial_points))
            outcome = self._minimize_from(x0)
            log = self.log.info if outcome["success"] else self.log.warning
            log("Run %d/%d: -log(%s) = %.8g after %d evaluations (%s).", i + 1,
                len(self.initial_points), "like" if self.ignore_prior else "post",
                outcome["minuslogp"], outcome["n_evals"], outcome["message"])
            local.append(outcome)
        for outcome in local:
            outcome.pop("result")  # keep MPI messages small and picklable
        results = [r for rank_results in mpi.allgather(local) for r in rank_results]
        self._process_results(results, local)

    def _process_results(self, results, local):
        successes = [r for r in results if r["success"]]
        if not successes:
            raise LoggedError(
                self.log, "Minimization failed from every start: %s",
                [r["message"] for r in results],
            )
        if len(successes) < len(results):
            self.log.warning("Some minimizations failed: %s",
                             [r["message"] for r in results if not r["success"]])
        best = min(successes, key=lambda r: r["minuslogp"])
        self.result = best
        self._transform, self._baseline = best["transform"], best["baseline"]
        self.n_evals = sum(r["n_evals"] for r in results)
        self.n_grad_evals = sum(r["n_grad_evals"] for r in results)
        if len(results) > 1:
            self.full_set_of_mins = {
                str(i): (r["minuslogp"], r["success"]) for i, r in enumerate(results)
            }
            self.log.info("Full set of minima: %s", self.full_set_of_mins)
        if mpi.is_main_process():
            self._write_outputs(best["x"])
        self.minimum, self.fisher, self.covmat = mpi.share_mpi(
            (self.minimum, self.fisher, self.covmat)
        )

    def _write_outputs(self, x_min):
        point = self.model.logposterior(x_min, cached=False)
        target = float(sum(point.loglikes)) if self.ignore_prior else float(point.logpost)
        if not np.isclose(-target, self.result["minuslogp"], rtol=0, atol=1e-2):
            raise LoggedError(
                self.log, "Cannot reproduce the minimum to 0.01: %g, was %g at %r",
                -target, self.result["minuslogp"], x_min,
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

    def _write_covmat(self, x_min):
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

    def products(self):
        """``minimum`` (OnePoint), ``result_object`` (dict: x, minuslogp, success,
        message, evaluation counts), ``full_set_of_mins``, ``fisher`` and ``covmat``
        (sampled params, ``covmat_params`` order), ``n_evals``, ``n_grad_evals``,
        and ``M``/``X0`` (x = M y + X0 maps the minimizer's coordinates y)."""
        return {
            "minimum": self.minimum,
            "result_object": self.result,
            "full_set_of_mins": self.full_set_of_mins,
            "fisher": self.fisher,
            "covmat": self.covmat,
            "covmat_params": list(self.names),
            "n_evals": getattr(self, "n_evals", 0),
            "n_grad_evals": getattr(self, "n_grad_evals", 0),
            "M": self._transform,
            "X0": self._baseline,
        }

    @classmethod
    def output_files_regexps(cls, output, info=None, minimal=False):
        """Files this sampler writes at the prefix (deleted with ``--force``)."""
        ext = _EXTENSION[bool((info or {}).get("ignore_prior", False))]
        return [
            (re.compile(output.prefix_regexp_str + re.escape(e.lstrip(".")) + "$"), None)
            for e in (ext + ".txt", ext, ".covmat")
        ]

    @classmethod
    def check_force_resume(cls, output, info=None):
        """A minimizer does not resume: existing outputs need ``--force``."""
        if output.is_resuming() and mpi.is_main_process():
            raise LoggedError(output.log, "GradMinimize does not support resuming. To start "
                              "over, force ('-f', '--force', 'force: True').")
        super().check_force_resume(output, info=info)
