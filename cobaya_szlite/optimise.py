"""Bound-constrained minimisation with a Fisher matrix: projected Fisher scoring, then scipy.

`minimize_with_fisher` minimises a smooth function f(x) (for a posterior, f = -ln P)
inside a box, given f with its gradient and a positive semi-definite approximation
of its Hessian (the Fisher, or Gauss-Newton, matrix). It works in three stages:

1. projected Fisher-scoring steps x <- x - F_free^-1 grad f: coordinates on a
   bound whose gradient pushes outwards are held there, the step is cut where it
   would cross a bound and halved until f decreases; they follow curved
   degeneracies with few evaluations and land on the bounds that are active at
   the minimum;
2. with L-BFGS-B and ``whiten``, if no coordinate is on a bound, a scipy run in
   coordinates whitened by the Fisher matrix there (x = x_s + L^-T y with
   F = L L^T), the box being a wall of value 1e30 with zero gradient; it is
   accepted only if it ends strictly inside the box where the gradient in these
   coordinates is below ``gtol``;
3. if stage 2 is skipped, fails or is not accepted: a scipy run with box bounds
   in coordinates scaled by the conditional widths 1/sqrt(F_ii) (else
   ``scales``), so that the tolerances are in units of those widths; restarted
   (up to ``restarts`` times) where it reports success with a projected gradient
   above ``gtol``.

Nothing here knows about Cobaya: the functions are plain callables of a 1-d
float array, and the result is a `scipy.optimize.OptimizeResult`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from scipy import optimize

__all__ = ["METHODS", "FisherFunction", "FisherOptions", "FunAndGrad", "minimize_with_fisher"]

#: ``fun_and_grad(x) -> (f, grad f)``; f = +inf (gradient None) where f is undefined.
FunAndGrad = Callable[[np.ndarray], tuple[float, np.ndarray | None]]
#: ``fisher(x) -> F`` (n, n): positive semi-definite approximation of the Hessian of f.
FisherFunction = Callable[[np.ndarray], np.ndarray]

#: scipy methods accepted (bounded, gradient-based) and the scipy names of
#: our options ``ftol``, ``gtol``, ``max_evals`` for each.
METHODS: dict[str, dict[str, str]] = {
    "L-BFGS-B": {"ftol": "ftol", "gtol": "gtol", "max_evals": "maxfun"},
    "TNC": {"ftol": "ftol", "gtol": "gtol", "max_evals": "maxfun"},
    "SLSQP": {"ftol": "ftol", "max_evals": "maxiter"},
    "trust-constr": {"gtol": "gtol", "max_evals": "maxiter"},
}
#: Value the scipy stage sees where f is +inf or (whitened) outside the box: finite,
#: so that line searches back off from it.
_WALL = 1e30
#: Halvings of a Fisher-scoring step before it is given up.
_HALVINGS = 8
#: Methods whose box stage is restarted when it stops at a non-stationary point
#: (those with a projected-gradient tolerance that can be checked).
_RESTARTABLE = ("L-BFGS-B", "TNC")


@dataclasses.dataclass(frozen=True)
class FisherOptions:
    """Options of `minimize_with_fisher` (checked on construction).

    Parameters
    ----------
    method : str
        scipy.optimize.minimize method of stage 2-3, one of `METHODS`.
    ftol : float
        > 0. Relative decrease of f below which scipy stops; Fisher scoring stops
        once its predicted decrease grad f . F^-1 grad f / 2 is below
        ``ftol * max(|f|, 1)``.
    gtol : float
        > 0. scipy's gradient tolerance, in the scaled coordinates (units of the
        conditional widths, or of the whitened coordinates).
    max_evals : int
        >= 1. Maximum evaluations (``maxfun``, or ``maxiter`` where scipy has no
        ``maxfun``) of each scipy stage.
    fisher_steps : int
        >= 0. Maximum number of Fisher-scoring steps (0: none).
    whiten : bool
        Stage 2 (only with L-BFGS-B).
    restarts : int
        >= 0. With L-BFGS-B or TNC, how many times stage 3 starts again (rescaled,
        with a fresh quasi-Newton memory) when it reports success at a point where
        the projected gradient in its scaled coordinates exceeds ``gtol`` (it stopped
        because f no longer decreased).
    scales : tuple of float or None
        Positive widths of the coordinates, in the units of x, used in stage 3
        where F_ii is not positive; None: 1.
    scipy_options : Mapping or None
        Further ``options`` of `scipy.optimize.minimize` (they override the above).
    """

    method: str = "L-BFGS-B"
    ftol: float = 1e-12
    gtol: float = 1e-6
    max_evals: int = 1000
    fisher_steps: int = 20
    whiten: bool = True
    restarts: int = 2
    scales: tuple[float, ...] | None = None
    scipy_options: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Unknown method '{self.method}'; use one of {list(METHODS)}.")
        for name in ("ftol", "gtol"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                np.isfinite(value) and value > 0
            ):
                raise ValueError(f"'{name}' must be a finite number > 0; got {value!r}.")
            object.__setattr__(self, name, float(value))
        for name, minimum in (("max_evals", 1), ("fisher_steps", 0), ("restarts", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (
                value < minimum
            ):
                raise ValueError(f"'{name}' must be an integer >= {minimum}; got {value!r}.")
            object.__setattr__(self, name, int(value))
        if not isinstance(self.whiten, (bool, np.bool_)):
            raise TypeError(f"'whiten' must be True or False; got {self.whiten!r}.")
        if self.scales is not None:
            scales = np.asarray(self.scales, dtype=float)
            if scales.ndim != 1 or not np.all(np.isfinite(scales) & (scales > 0)):
                raise ValueError(f"'scales' must be a 1-d sequence of numbers > 0; "
                                 f"got {self.scales!r}.")
            object.__setattr__(self, "scales", tuple(scales.tolist()))
        if self.scipy_options is not None and not isinstance(self.scipy_options, Mapping):
            raise TypeError(f"'scipy_options' must be a dict of scipy options; "
                             f"got {self.scipy_options!r}.")

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any] | FisherOptions | None) -> FisherOptions:
        """`FisherOptions` from a dict (unknown keys refused), an instance, or None.

        Parameters
        ----------
        options : mapping, FisherOptions or None
            Field name -> value (the fields and their units are in the class docstring);
            an instance is returned as is; None: the defaults.

        Returns
        -------
        FisherOptions

        Raises
        ------
        ValueError
            Unknown key, or a value out of its range (the message names it).
        TypeError
            ``options`` is not a mapping, or ``whiten``/``scipy_options`` has the wrong type.
        """
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        if not isinstance(options, Mapping):
            raise TypeError(f"options must be a dict or FisherOptions; got {options!r}.")
        allowed = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise ValueError(f"Unknown option(s) {unknown}; allowed: {allowed}.")
        return cls(**options)

    def scipy(self) -> dict[str, Any]:
        """The ``options`` argument of `scipy.optimize.minimize` with ``method``.

        Returns
        -------
        dict
            ``ftol``, ``gtol`` and ``max_evals`` under the names ``method`` uses, updated
            with ``scipy_options``.
        """
        values = {"ftol": self.ftol, "gtol": self.gtol, "max_evals": self.max_evals}
        options = {scipy_name: values[ours] for ours, scipy_name in METHODS[self.method].items()}
        options.update(self.scipy_options or {})
        return options


class _Counted:
    """The user's functions, checked and counted, for one call of `minimize_with_fisher`."""

    def __init__(self, fun_and_grad: FunAndGrad, fisher: FisherFunction,
                 lower: np.ndarray, upper: np.ndarray) -> None:
        self._fun_and_grad, self._fisher = fun_and_grad, fisher
        self.lower, self.upper = lower, upper
        self.nfev = self.njev = self.nhev = 0
        self._gradients: dict[bytes, np.ndarray] = {}

    def evaluate(self, x: np.ndarray) -> tuple[float, np.ndarray | None]:
        """(f, grad f) at x inside the box; (inf, None) where f is +inf."""
        self.nfev += 1
        value, grad = self._fun_and_grad(x.copy())
        value = float(value)
        if np.isnan(value) or value == -np.inf:
            raise ValueError(f"fun_and_grad returned f = {value} at x = {x.tolist()}; it must "
                             "be finite, or +inf where the function is undefined.")
        if value == np.inf:
            return value, None
        grad = np.asarray(grad, dtype=float) if grad is not None else None
        if grad is None or grad.shape != x.shape or not np.all(np.isfinite(grad)):
            raise ValueError(f"fun_and_grad returned the gradient {grad!r} at x = {x.tolist()} "
                             f"(f = {value}); expected {x.size} finite numbers.")
        self.njev += 1
        self._gradients[x.tobytes()] = grad
        return value, grad

    def fisher(self, x: np.ndarray) -> np.ndarray:
        """F at x, checked for shape (its values may be non-finite: callers test)."""
        self.nhev += 1
        matrix = np.asarray(self._fisher(x.copy()), dtype=float)
        if matrix.shape != (x.size, x.size):
            raise ValueError(f"fisher returned shape {matrix.shape} at x = {x.tolist()}; "
                             f"expected ({x.size}, {x.size}).")
        return matrix

    def gradient_at(self, x: np.ndarray) -> np.ndarray | None:
        """grad f at x, from the evaluation there (made now if there was none);
        None where f is +inf."""
        if x.tobytes() not in self._gradients:
            self.evaluate(x)
        return self._gradients.get(x.tobytes())


def _bounds(bounds: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) arrays from None, `scipy.optimize.Bounds` or a sequence of pairs."""
    if bounds is None:
        return np.full(n, -np.inf), np.full(n, np.inf)
    if isinstance(bounds, optimize.Bounds):
        lower = np.broadcast_to(np.asarray(bounds.lb, dtype=float), (n,)).copy()
        upper = np.broadcast_to(np.asarray(bounds.ub, dtype=float), (n,)).copy()
    else:
        try:
            pairs = np.array([(-np.inf if lo is None else lo, np.inf if hi is None else hi)
                              for lo, hi in bounds], dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"bounds must be {n} (min, max) pairs, one per coordinate of "
                             f"x0; got {bounds!r}.") from None
        if pairs.shape != (n, 2):
            raise ValueError(f"bounds must be {n} (min, max) pairs, one per coordinate of x0; "
                             f"got shape {pairs.shape}.")
        lower, upper = pairs[:, 0].copy(), pairs[:, 1].copy()
    bad = np.flatnonzero(np.isnan(lower) | np.isnan(upper) | (lower >= upper))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"bounds of coordinate {i}: [{lower[i]}, {upper[i]}]; need min < max.")
    return lower, upper


def _fisher_scoring(problem: _Counted, x: np.ndarray, value: float, grad: np.ndarray,
                    options: FisherOptions) -> tuple[np.ndarray, int]:
    """Up to ``options.fisher_steps`` projected Fisher-scoring steps from x.

    Returns the last accepted point and the number of steps accepted.
    """
    lower, upper = problem.lower, problem.upper
    accepted = 0
    for _ in range(options.fisher_steps):
        held = ((x <= lower) & (grad > 0)) | ((x >= upper) & (grad < 0))
        free = ~held
        step = np.zeros_like(x)
        try:
            fisher = problem.fisher(x)
            step[free] = np.linalg.solve(fisher[np.ix_(free, free)], -grad[free])
        except np.linalg.LinAlgError:
            break
        predicted = -0.5 * (step @ grad)
        if not np.isfinite(predicted) or predicted < options.ftol * max(abs(value), 1.0):
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            room = np.where(step > 0, (upper - x) / step,
                            np.where(step < 0, (lower - x) / step, np.inf))
        step = step * min(1.0, float(np.min(room)))
        for _halving in range(_HALVINGS):
            trial = np.clip(x + step, lower, upper)
            new_value, new_grad = problem.evaluate(trial)
            if new_grad is not None and new_value < value:
                break
            step = step / 2
        else:
            break
        x, value, grad = trial, new_value, new_grad
        accepted += 1
    return x, accepted


def _scipy_stage(problem: _Counted, x0: np.ndarray, transform: np.ndarray, whitened: bool,
                 options: FisherOptions) -> tuple[optimize.OptimizeResult, np.ndarray, bool]:
    """One scipy run from x0 in coordinates y, x = x0 + transform @ y.

    Returns scipy's result, its point x (clipped to the box) and whether the
    unclipped point was inside the box.
    """
    lower, upper = problem.lower, problem.upper

    def objective(y: np.ndarray) -> tuple[float, np.ndarray]:
        x = x0 + transform @ y
        if whitened and not np.all((x >= lower) & (x <= upper)):
            return _WALL, np.zeros_like(y)
        value, grad = problem.evaluate(np.clip(x, lower, upper))
        if grad is None:
            return _WALL, np.zeros_like(y)
        return value, transform.T @ grad

    bounds = None
    if not whitened:
        scales = np.diag(transform)
        bounds = optimize.Bounds((lower - x0) / scales, (upper - x0) / scales)
    result = optimize.minimize(objective, np.zeros(len(x0)), jac=True, method=options.method,
                               bounds=bounds, options=options.scipy())
    x = x0 + transform @ result.x
    inside = bool(np.all((x >= lower) & (x <= upper)))
    return result, np.clip(x, lower, upper), inside


def _projected_gradient(problem: _Counted, x: np.ndarray, scales: np.ndarray) -> float:
    """Largest |d f / d y| (y = x / scales) over the directions not blocked by a bound."""
    grad = problem.gradient_at(x)
    if grad is None:
        return np.inf
    grad = scales * grad
    blocked = ((x <= problem.lower) & (grad > 0)) | ((x >= problem.upper) & (grad < 0))
    return float(np.max(np.abs(np.where(blocked, 0.0, grad))))


def _stage_summary(name: str, result: optimize.OptimizeResult) -> dict[str, Any]:
    return {"coordinates": name, "success": bool(result.success),
            "message": str(result.message), "fun": float(result.fun),
            "nfev": int(result.get("nfev", 0)), "nit": int(result.get("nit", 0))}


def minimize_with_fisher(
    fun_and_grad: FunAndGrad,
    fisher: FisherFunction,
    x0: Any,
    bounds: Any = None,
    options: Mapping[str, Any] | FisherOptions | None = None,
) -> optimize.OptimizeResult:
    """Minimise f(x) in a box with its gradient and a Fisher matrix (see the module docstring).

    Parameters
    ----------
    fun_and_grad : callable
        ``fun_and_grad(x) -> (f, grad)``: f (float) and its gradient (n floats) at
        x, a 1-d float array inside the bounds (it is only called there). Where f
        is undefined (e.g. zero posterior) return ``(inf, None)``: the methods back
        off from such points. NaN or -inf values and non-finite gradients are errors.
    fisher : callable
        ``fisher(x) -> F`` (n, n): symmetric positive semi-definite approximation
        of the Hessian of f at x (for f = -ln P: the Fisher matrix). Called only
        where f is finite.
    x0 : array_like
        Starting point (n,), inside the bounds, where f is finite.
    bounds : None, scipy.optimize.Bounds or sequence of (min, max)
        Box; None entries or infinite values leave a side open.
    options : dict, FisherOptions or None
        See `FisherOptions` (None: the defaults).

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x`` (n,), ``fun`` f(x), ``jac`` grad f(x), ``success``, ``status`` and
        ``message`` (of the last scipy stage), ``nfev`` and ``njev`` (calls of
        ``fun_and_grad``, and those that returned a gradient), ``nhev`` (calls of
        ``fisher``), ``nit`` (Fisher-scoring steps plus scipy iterations),
        ``fisher_steps`` (accepted Fisher-scoring steps), ``fisher`` F(x) and
        ``covariance`` F(x)^-1 (None unless F is positive definite; both None, as
        ``jac``, if f(x) is +inf), ``stages``
        (a summary dict per scipy stage), and ``transform``, ``baseline``: the last
        stage's coordinates y, x = baseline + transform @ y.

    Raises
    ------
    ValueError
        x0 not a finite 1-d array inside the bounds, f(x0) not finite, malformed
        bounds or options, a NaN or -inf value or a non-finite gradient returned by
        ``fun_and_grad``, a Fisher matrix of the wrong shape.
    """
    options = FisherOptions.from_mapping(options)
    x = np.array(x0, dtype=float)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be a non-empty 1-d array of finite numbers; got {x0!r}.")
    lower, upper = _bounds(bounds, x.size)
    outside = np.flatnonzero((x < lower) | (x > upper))
    if outside.size:
        i = int(outside[0])
        raise ValueError(f"x0[{i}] = {x[i]} is outside its bounds [{lower[i]}, {upper[i]}].")
    if options.scales is not None and len(options.scales) != x.size:
        raise ValueError(f"'scales' has {len(options.scales)} values; x0 has {x.size}.")
    problem = _Counted(fun_and_grad, fisher, lower, upper)
    value, grad = problem.evaluate(x)
    if grad is None:
        raise ValueError(f"f(x0) = {value} at x0 = {x.tolist()}: start where f is finite.")

    x, accepted = _fisher_scoring(problem, x, value, grad, options)
    stages = []
    done = False
    on_bound = bool(np.any((x <= lower) | (x >= upper)))
    if options.whiten and options.method == "L-BFGS-B" and not on_bound:
        matrix = problem.fisher(x)
        factor = None
        if np.all(np.isfinite(matrix)):
            try:
                factor = np.linalg.cholesky(matrix)
            except np.linalg.LinAlgError:
                factor = None
        if factor is not None:
            transform = np.linalg.inv(factor.T)
            result, x_new, inside = _scipy_stage(problem, x, transform, True, options)
            stages.append(_stage_summary("whitened", result))
            baseline = x
            x = x_new
            # Accepted only at a stationary point strictly inside the box: L-BFGS-B also
            # reports success when f stops decreasing, which happens against the wall
            # in a curved degeneracy that runs into a bound.
            interior = bool(inside and np.all((x > lower) & (x < upper)))
            end_grad = problem.gradient_at(x) if interior else None
            done = bool(result.success and end_grad is not None
                        and np.max(np.abs(transform.T @ end_grad)) <= options.gtol)
    for restart in range(options.restarts + 1) if not done else ():
        if problem.gradient_at(x) is None:  # stage 2 ended where f is undefined
            break
        scales = np.ones(x.size) if options.scales is None else np.array(options.scales)
        diagonal = np.diag(problem.fisher(x))
        good = np.isfinite(diagonal) & (diagonal > 0)
        scales[good] = 1 / np.sqrt(diagonal[good])
        transform, baseline = np.diag(scales), x
        result, x, _ = _scipy_stage(problem, x, transform, False, options)
        stages.append(_stage_summary("box" if restart == 0 else "box restart", result))
        # A success that is not a stationary point (f stopped decreasing) starts again,
        # rescaled at the new point with a fresh quasi-Newton memory.
        if (not result.success or options.method not in _RESTARTABLE
                or _projected_gradient(problem, x, scales) <= options.gtol):
            break

    jac = problem.gradient_at(x)
    matrix = covariance = None
    if jac is not None:
        matrix = problem.fisher(x)
        if np.all(np.isfinite(matrix)) and np.linalg.eigvalsh(matrix)[0] > 0:
            covariance = np.linalg.inv(matrix)
            covariance = 0.5 * (covariance + covariance.T)
    return optimize.OptimizeResult(
        x=x, fun=float(result.fun), jac=jac, success=bool(result.success),
        status=int(result.get("status", 0)), message=str(result.message),
        nfev=problem.nfev, njev=problem.njev, nhev=problem.nhev,
        nit=accepted + sum(stage["nit"] for stage in stages), fisher_steps=accepted,
        fisher=matrix, covariance=covariance, stages=stages,
        transform=transform, baseline=baseline,
    )
