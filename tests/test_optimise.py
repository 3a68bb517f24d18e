"""minimize_with_fisher on analytic problems (milliseconds, no Cobaya, no JAX).

References are independent of the code under test: the exact solution of a
bound-constrained quadratic by enumerating its active sets (KKT conditions), the
known minima of Rosenbrock's function and of a curved valley, and scipy's own
L-BFGS-B from the same start.
"""

import itertools

import numpy as np
import pytest
from scipy import optimize

from cobaya_szlite.optimise import FisherOptions, minimize_with_fisher


class Counted:
    """f, grad f and a Fisher matrix, counting calls; ``wall(x)`` True marks f = +inf."""

    def __init__(self, fun, grad, fisher, wall=None):
        self._fun, self._grad, self._fisher, self._wall = fun, grad, fisher, wall
        self.calls = self.finite = self.fisher_calls = 0

    def fun_and_grad(self, x):
        self.calls += 1
        if self._wall is not None and self._wall(x):
            return np.inf, None
        self.finite += 1
        return self._fun(x), self._grad(x)

    def fisher(self, x):
        self.fisher_calls += 1
        return self._fisher(x)


def quadratic(matrix, centre, wall=None):
    """f = (x - c)^T A (x - c) / 2; its Hessian A is also its Fisher matrix."""
    return Counted(lambda x: 0.5 * (x - centre) @ matrix @ (x - centre),
                   lambda x: matrix @ (x - centre), lambda x: matrix, wall)


def box_qp_solution(matrix, centre, lower, upper):
    """Exact minimiser of the quadratic in the box: the one active set satisfying KKT.

    Each coordinate is free, at its lower or at its upper bound; the free ones solve
    A_ff (x_f - c_f) = -A_fa (x_a - c_a); the point must lie in the box with the
    gradient pointing outwards on the active bounds (non-negative multipliers).
    """
    n = len(centre)
    for state in itertools.product((0, -1, 1), repeat=n):
        state = np.array(state)
        x = np.where(state == -1, lower, np.where(state == 1, upper, 0.0))
        free = state == 0
        if free.any():
            active = ~free
            rhs = -matrix[np.ix_(free, active)] @ (x[active] - centre[active])
            x[free] = centre[free] + np.linalg.solve(matrix[np.ix_(free, free)], rhs)
        grad = matrix @ (x - centre)
        feasible = np.all((x >= lower - 1e-14) & (x <= upper + 1e-14))
        kkt = np.all(grad[state == -1] >= 0) and np.all(grad[state == 1] <= 0)
        if feasible and kkt:
            return x
    raise AssertionError("no KKT point")


def rosenbrock():
    """f = (1 - x1)^2 + 100 (x2 - x1^2)^2 = |r|^2 with r = (1 - x1, 10 (x2 - x1^2));
    Fisher (Gauss-Newton) matrix 2 J^T J."""

    def jacobian(x):
        return np.array([[-1.0, 0.0], [-20.0 * x[0], 10.0]])

    return Counted(optimize.rosen, optimize.rosen_der, lambda x: 2 * jacobian(x).T @ jacobian(x))


#: Width of the curved valley x2 = x1^2 (degenerate direction: its tangent).
VALLEY_WIDTH = 1e-3


def valley():
    """f = ((x2 - x1^2)/s)^2 / 2 + (x1 - 3)^2 / 2: a narrow parabolic valley whose
    floor descends towards x1 = 3; with x1 <= 1 the minimum is (1, 1), f = 2, on
    the bound (as a degeneracy of a posterior ending on a prior edge)."""
    s = VALLEY_WIDTH

    def residuals(x):
        return np.array([(x[1] - x[0] ** 2) / s, x[0] - 3.0])

    def jacobian(x):
        return np.array([[-2 * x[0] / s, 1 / s], [1.0, 0.0]])

    return Counted(lambda x: 0.5 * residuals(x) @ residuals(x),
                   lambda x: jacobian(x).T @ residuals(x),
                   lambda x: jacobian(x).T @ jacobian(x))


MATRIX = np.array([[2.0, 0.9], [0.9, 1.0]])
BOX = [(-1.0, 1.0), (-1.0, 1.0)]


def test_quadratic_minimum_inside():
    """Fisher scoring with the exact Hessian is Newton: one step to the centre.

    Tolerance 1e-12: the only error is rounding in one 2x2 solve.
    """
    centre = np.array([0.3, -0.2])
    problem = quadratic(MATRIX, centre)
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, [0.9, 0.8], BOX)
    assert result.success
    np.testing.assert_allclose(result.x, centre, rtol=0, atol=1e-12)
    assert result.fun == pytest.approx(0.0, abs=1e-24)
    assert result.fisher_steps == 1
    np.testing.assert_allclose(result.covariance, np.linalg.inv(MATRIX), rtol=1e-12)
    # counters are the number of calls; njev counts the finite ones
    assert (result.nfev, result.njev, result.nhev) == (
        problem.calls, problem.finite, problem.fisher_calls)


def test_quadratic_minimum_on_a_bound():
    """Centre outside the box: x1 held at its upper bound, x2 = c2 - A21/A22 (1 - c1).

    Tolerance 1e-10 (absolute): two exact projected Newton steps then scipy's
    stopping tolerances, far below.
    """
    centre = np.array([1.5, -0.2])
    problem = quadratic(MATRIX, centre)
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, [-0.5, 0.5], BOX)
    expected = np.array([1.0, centre[1] - MATRIX[1, 0] / MATRIX[1, 1] * (1.0 - centre[0])])
    assert result.success
    np.testing.assert_allclose(result.x, expected, rtol=0, atol=1e-10)
    assert result.x[0] == 1.0  # exactly on the bound, never outside
    np.testing.assert_allclose(result.jac, MATRIX @ (result.x - centre), rtol=1e-12)
    assert result.jac[0] < 0  # KKT: the gradient pushes outwards at the upper bound
    # The projected Fisher steps alone get there (scipy stopped after one evaluation):
    # the first Newton step is cut at x1 = 1, the second holds x1 and solves for x2
    # exactly (rounding only: 1e-12).
    steps_only = minimize_with_fisher(problem.fun_and_grad, problem.fisher, [-0.5, 0.5], BOX,
                                      {"max_evals": 1})
    assert steps_only.fisher_steps == 2 and steps_only.stages[-1]["nfev"] == 1
    np.testing.assert_allclose(steps_only.x, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", ["L-BFGS-B", "TNC", "SLSQP"])
def test_random_box_quadratic_matches_active_set_solution(seed, method):
    """Correlated 4-d quadratics with centres outside the box: the exact solution
    from the active-set enumeration.

    Tolerances: x to 1e-5, f to 1e-9 relative. The scipy stage stops once the
    projected gradient, in units of the conditional widths 1/sqrt(F_ii) (here
    0.3-3), is below gtol = 1e-6 (SLSQP: relative change of f below ftol), so x is
    off by up to ~gtol x width x condition number (measured: 6e-7), and f, being
    stationary, by the square of that.
    """
    rng = np.random.default_rng(seed)
    n = 4
    basis = rng.normal(size=(n, n))
    matrix = basis @ basis.T + 0.1 * np.eye(n)
    centre = rng.uniform(-2.5, 2.5, size=n)
    lower, upper = -np.ones(n), np.ones(n)
    expected = box_qp_solution(matrix, centre, lower, upper)
    problem = quadratic(matrix, centre)
    x0 = rng.uniform(-0.9, 0.9, size=n)
    options = {"method": method, "scales": np.ones(n)}
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, x0,
                                  optimize.Bounds(lower, upper), options)
    assert result.success, result.message
    assert np.all((result.x >= lower) & (result.x <= upper))
    np.testing.assert_allclose(result.x, expected, rtol=0, atol=1e-5)
    f_expected = 0.5 * (expected - centre) @ matrix @ (expected - centre)
    assert result.fun == pytest.approx(f_expected, rel=1e-9)
    assert result.fun >= f_expected - 1e-12 * f_expected  # never below the true minimum


def test_trust_constr_interior_minimum():
    """trust-constr (an interior-point method with bounds: it stays off the bounds, by
    up to 1e-2 on the problems above, so it is not tested there) on an interior
    minimum: the centre to 1e-5 (its gradient tolerance 1e-6, in coordinates scaled by
    the conditional widths ~0.7-1, times the inverse curvature <= 1/0.4 of MATRIX)."""
    centre = np.array([0.3, -0.2])
    problem = quadratic(MATRIX, centre)
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, [0.9, 0.8], BOX,
                                  {"method": "trust-constr", "fisher_steps": 0})
    assert result.success, result.message
    assert [stage["coordinates"] for stage in result.stages] == ["box"]
    np.testing.assert_allclose(result.x, centre, rtol=0, atol=1e-5)


@pytest.mark.parametrize("bounds", [None, [(-2.0, 2.0), (-2.0, 2.0)], [(None, 2.0), (-2.0, None)]])
def test_rosenbrock_reaches_one_one_with_fewer_evaluations_than_scipy(bounds):
    """The classic start (-1.2, 1): minimum (1, 1), f = 0.

    Tolerance 1e-8 on x: Gauss-Newton converges quadratically on this zero-residual
    problem. scipy's L-BFGS-B from the same start (no Fisher matrix) reaches (1, 1)
    only to 1e-4 (its default tolerances), with more evaluations (44 against 34).
    """
    problem = rosenbrock()
    x0 = np.array([-1.2, 1.0])
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, x0, bounds)
    reference = optimize.minimize(optimize.rosen, x0, jac=optimize.rosen_der,
                                  method="L-BFGS-B", bounds=bounds)
    assert result.success and reference.success
    np.testing.assert_allclose(result.x, [1.0, 1.0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(reference.x, [1.0, 1.0], rtol=0, atol=1e-4)
    assert result.fun < 1e-16 and result.fun <= reference.fun
    assert result.nfev < reference.nfev


def test_rosenbrock_valley_cut_by_a_bound():
    """x1 <= 0.5 cuts the valley x2 = x1^2: minimum (0.5, 0.25), f = 0.25, x1 on the bound."""
    problem = rosenbrock()
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, [-1.2, 1.0],
                                  [(-2.0, 0.5), (-2.0, 2.0)])
    assert result.success
    np.testing.assert_allclose(result.x, [0.5, 0.25], rtol=0, atol=1e-8)
    assert result.fun == pytest.approx(0.25, rel=1e-12)


@pytest.mark.parametrize(
    "options", [{}, {"whiten": False}, {"fisher_steps": 0}, {"fisher_steps": 0, "whiten": False}]
)
def test_degenerate_valley_ending_on_a_bound(options):
    """Every path of the algorithm reaches (1, 1) in a 1e-3-wide curved valley that
    ends on the bound x1 = 1, to 1e-7: x1 is exactly on the bound and x2 is set by
    the valley floor, whose width 1e-3 times scipy's scaled gtol 1e-6 is ~1e-9.

    The curved valley is hard for both stages: Gauss-Newton steps along its tangent
    leave the parabola and are halved many times (a few accepted), and the whitened
    L-BFGS-B stalls against the wall x1 = 1 while still 0.1-3 above the minimum in
    f, reporting a "relative reduction" convergence; such a stage is not accepted
    (its gradient is not below gtol) and the box stage finishes. Measured: 340-380
    evaluations on each path; bounded here at 500.
    """
    problem = valley()
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, [-0.5, 0.25],
                                  [(-2.0, 1.0), (-1.0, 4.0)], options)
    assert result.success, result.message
    np.testing.assert_allclose(result.x, [1.0, 1.0], rtol=0, atol=1e-7)
    assert result.x[0] == 1.0
    assert result.fun == pytest.approx(2.0, rel=1e-12)
    assert result.nfev <= 500
    assert result.stages[-1]["coordinates"] == "box"


def test_box_stage_restarts_where_it_stops_short():
    """A box stage that reports success because f stopped decreasing (here forced by a
    loose scipy ftol 1e-4 on Rosenbrock's function) while the scaled gradient is
    above gtol starts again, rescaled, up to ``restarts`` times; each restart only
    lowers f. Measured: f = 1.0e-6 without restarts, 1.8e-8 with two."""
    options = {"fisher_steps": 0, "whiten": False, "scipy_options": {"ftol": 1e-4}}
    results = {}
    for restarts in (0, 2):
        problem = rosenbrock()
        results[restarts] = minimize_with_fisher(
            problem.fun_and_grad, problem.fisher, [-1.2, 1.0], [(-2.0, 2.0), (-2.0, 2.0)],
            {**options, "restarts": restarts})
    assert [s["coordinates"] for s in results[0].stages] == ["box"]
    assert [s["coordinates"] for s in results[2].stages] == ["box"] + ["box restart"] * 2
    funs = [s["fun"] for s in results[2].stages]
    assert funs[0] == results[0].fun and funs == sorted(funs, reverse=True)
    assert results[2].fun < results[0].fun / 10


@pytest.mark.parametrize("bad", ["singular", "nan"])
def test_unusable_fisher_falls_back_to_the_scaled_box(bad):
    """A zero or NaN Fisher matrix: no Fisher steps, no whitening; the box stage in
    coordinates scaled by ``scales`` still finds the bound-constrained minimum
    (tolerance 1e-6: scipy's gtol 1e-6 on a unit-scaled, well-conditioned quadratic)."""
    centre = np.array([1.5, -0.2])
    value = 0.0 if bad == "singular" else np.nan
    problem = Counted(lambda x: 0.5 * (x - centre) @ MATRIX @ (x - centre),
                      lambda x: MATRIX @ (x - centre), lambda x: np.full((2, 2), value))
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, [0.0, 0.0], BOX,
                                  {"scales": [1.0, 1.0]})
    assert result.success and result.fisher_steps == 0
    assert [stage["coordinates"] for stage in result.stages] == ["box"]
    assert result.covariance is None
    np.testing.assert_allclose(result.x, [1.0, 0.25], rtol=0, atol=1e-6)


def test_undefined_region_is_a_wall():
    """f = +inf where x1 + x2 > 1.2 (zero posterior inside the box): the minimum
    (0.5, 0.5) lies beside that region and is found to 1e-8; the points with f = inf
    are counted in nfev but not in njev."""
    centre = np.array([0.5, 0.5])
    problem = quadratic(MATRIX, centre, wall=lambda x: x[0] + x[1] > 1.2)
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, [-0.9, 0.3], BOX,
                                  {"fisher_steps": 0})
    assert result.success
    np.testing.assert_allclose(result.x, centre, rtol=0, atol=1e-8)
    assert result.nfev == problem.calls and result.njev == problem.finite


def test_whitened_stage_and_result_fields():
    """Interior minimum without Fisher steps: the whitened stage ends there, and the
    result is self-consistent (fun = f(x), jac = grad f(x), x = baseline + transform y)."""
    centre = np.array([0.3, -0.2])
    problem = quadratic(MATRIX, centre)
    result = minimize_with_fisher(problem.fun_and_grad, problem.fisher, [0.9, 0.8], BOX,
                                  {"fisher_steps": 0})
    assert [stage["coordinates"] for stage in result.stages] == ["whitened"]
    assert result.fun == 0.5 * (result.x - centre) @ MATRIX @ (result.x - centre)
    np.testing.assert_array_equal(result.jac, MATRIX @ (result.x - centre))
    # whitened coordinates: transform^T F transform = identity
    np.testing.assert_allclose(result.transform.T @ MATRIX @ result.transform, np.eye(2),
                               atol=1e-12)
    np.testing.assert_allclose(result.x, centre, atol=1e-9)


def _quadratic_problem():
    return quadratic(MATRIX, np.array([0.3, -0.2]))


@pytest.mark.parametrize(
    "x0, bounds, options, match",
    [([0.0, 3.0], BOX, None, r"x0\[1\] = 3.0 is outside its bounds \[-1.0, 1.0\]"),
     ([0.0, np.nan], BOX, None, "x0 must be"),
     ([[0.0, 0.0]], BOX, None, "x0 must be"),
     ([0.0, 0.0], [(-1.0, 1.0)], None, "2 \\(min, max\\) pairs"),
     ([0.0, 0.0], [(-1.0, 1.0), (-1.0, 1.0, 2.0)], None, "2 \\(min, max\\) pairs"),
     ([0.0, 0.0], [(-1.0, 1.0), (1.0, -1.0)], None, "bounds of coordinate 1"),
     ([0.0, 0.0], BOX, {"method": "bobyqa"}, "Unknown method 'bobyqa'"),
     ([0.0, 0.0], BOX, {"ftol": 0.0}, "'ftol' must be"),
     ([0.0, 0.0], BOX, {"gtol": np.inf}, "'gtol' must be"),
     ([0.0, 0.0], BOX, {"max_evals": 0}, "'max_evals' must be an integer >= 1"),
     ([0.0, 0.0], BOX, {"fisher_steps": 1.5}, "'fisher_steps' must be an integer"),
     ([0.0, 0.0], BOX, {"restarts": -1}, "'restarts' must be an integer >= 0"),
     ([0.0, 0.0], BOX, {"scales": [1.0, -1.0]}, "'scales'"),
     ([0.0, 0.0], BOX, {"scales": [1.0, 1.0, 1.0]}, "'scales' has 3 values; x0 has 2"),
     ([0.0, 0.0], BOX, {"tol": 1e-3}, r"Unknown option\(s\) \['tol'\]")],
)
def test_bad_input_is_refused(x0, bounds, options, match):
    problem = _quadratic_problem()
    with pytest.raises(ValueError, match=match):
        minimize_with_fisher(problem.fun_and_grad, problem.fisher, x0, bounds, options)
    assert problem.calls == 0


@pytest.mark.parametrize("options", [{"whiten": "yes"}, {"scipy_options": 3}, "fast"])
def test_options_of_the_wrong_type_are_refused(options):
    problem = _quadratic_problem()
    with pytest.raises(TypeError, match="whiten|scipy_options|options must be"):
        minimize_with_fisher(problem.fun_and_grad, problem.fisher, [0.0, 0.0], BOX, options)


@pytest.mark.parametrize(
    "value, grad, match",
    [(np.inf, None, r"f\(x0\) = inf"),
     (np.nan, np.zeros(2), "f = nan"),
     (-np.inf, np.zeros(2), "f = -inf"),
     (1.0, np.array([1.0, np.nan]), "gradient"),
     (1.0, np.zeros(3), "gradient"),
     (1.0, None, "gradient")],
)
def test_non_finite_function_values_at_the_start(value, grad, match):
    with pytest.raises(ValueError, match=match):
        minimize_with_fisher(lambda x: (value, grad), lambda x: np.eye(2), [0.0, 0.0], BOX)


def test_nan_during_the_run_names_the_point():
    """A NaN appearing after the start stops the run with the offending point."""
    centre = np.array([0.3, -0.2])
    problem = quadratic(MATRIX, centre)

    def fun_and_grad(x):
        if x[0] > 0.0:
            return np.nan, np.zeros(2)
        return problem.fun_and_grad(x)

    with pytest.raises(ValueError, match=r"f = nan at x = \["):
        minimize_with_fisher(fun_and_grad, problem.fisher, [-0.9, 0.0], BOX)


def test_fisher_of_the_wrong_shape():
    problem = _quadratic_problem()
    with pytest.raises(ValueError, match=r"fisher returned shape \(3, 3\)"):
        minimize_with_fisher(problem.fun_and_grad, lambda x: np.eye(3), [0.9, 0.8], BOX)


def test_options_object_and_scipy_mapping():
    """FisherOptions maps our tolerances to each scipy method's names; extra scipy
    options override them."""
    assert FisherOptions().scipy() == {"ftol": 1e-12, "gtol": 1e-6, "maxfun": 1000}
    assert FisherOptions().restarts == 2
    assert FisherOptions(method="SLSQP", max_evals=50).scipy() == {"ftol": 1e-12, "maxiter": 50}
    options = FisherOptions(scipy_options={"maxfun": 7, "maxls": 30})
    assert options.scipy() == {"ftol": 1e-12, "gtol": 1e-6, "maxfun": 7, "maxls": 30}
    assert FisherOptions.from_mapping(options) is options
    assert FisherOptions.from_mapping(None) == FisherOptions()
