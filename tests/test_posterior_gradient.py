"""PosteriorGradient's finite-difference paths on cheap analytic Cobaya models (no JAX).

Each model is a few lines of NumPy, so the references are closed-form derivatives:
the second-difference Hessian (`_hessian`), the fallbacks for a likelihood without
gradient and for parameters without an analytic gradient (an input defined as a
function of a sampled parameter; an input a likelihood's ``logp_gradient`` omits),
and priors other than uniform and Gaussian (scipy.stats ``beta``, ``lognorm``, and
an external prior).
"""

import numpy as np
import pytest
from cobaya.likelihood import Likelihood
from cobaya.model import get_model
from scipy import stats

from cobaya_szlite.posterior_gradient import HESSIAN_STEP, PosteriorGradient

#: ln L of the test likelihoods: smooth, non-quadratic, correlated.
COEFFS = {"aa": 1.0, "ab": 0.6, "bb": 2.0, "cubic": 0.3}


def loglike(a, b):
    """-(a^2 + 1.2 a b + 2 b^2)/2 - 0.3 a^3 + sin(b)."""
    c = COEFFS
    return -0.5 * (c["aa"] * a**2 + 2 * c["ab"] * a * b + c["bb"] * b**2) \
        - c["cubic"] * a**3 + np.sin(b)


def loglike_gradient(a, b):
    c = COEFFS
    return np.array([-(c["aa"] * a + c["ab"] * b) - 3 * c["cubic"] * a**2,
                     -(c["ab"] * a + c["bb"] * b) + np.cos(b)])


def loglike_hessian(a, b):
    c = COEFFS
    return np.array([[-c["aa"] - 6 * c["cubic"] * a, -c["ab"]],
                     [-c["ab"], -c["bb"] - np.sin(b)]])


class AnalyticLike(Likelihood):
    """`loglike` with ``logp_gradient``/``logp_fisher``; ``omit`` drops inputs from both."""

    params = {"a": None, "b": None}  # noqa: RUF012 (Cobaya reads class attributes)
    omit: list = []  # noqa: RUF012

    def get_gradient_requirements(self):
        return {}

    def logp(self, **params_values):
        return float(loglike(params_values["a"], params_values["b"]))

    def logp_gradient(self, **params_values):
        grad = loglike_gradient(params_values["a"], params_values["b"])
        return {p: float(g) for p, g in zip("ab", grad) if p not in self.omit}

    def logp_fisher(self, **params_values):
        names = [p for p in "ab" if p not in self.omit]
        index = ["ab".index(p) for p in names]
        hess = loglike_hessian(params_values["a"], params_values["b"])
        return names, -hess[np.ix_(index, index)]


def _model(likelihood, params, prior=None):
    info = {"likelihood": likelihood, "params": params}
    if prior:
        info["prior"] = prior
    return get_model(info)


def _uniform(lo, hi, proposal):
    return {"prior": {"min": lo, "max": hi}, "proposal": proposal}


UNIFORM_AB = {"a": _uniform(-3, 3, 0.5), "b": _uniform(-3, 3, 2.0)}
POINTS = [np.array([0.3, -0.4]), np.array([-1.1, 0.9])]


def _fd(function, x, steps):
    """4-point central differences with the given steps (error O(step^4))."""
    grad = np.zeros_like(x)
    for j in range(len(x)):
        e = np.zeros_like(x)
        e[j] = steps[j]
        grad[j] = (-function(x + 2 * e) + 8 * function(x + e) - 8 * function(x - e)
                   + function(x - 2 * e)) / (12 * steps[j])
    return grad


# ---- second differences ---------------------------------------------------------

@pytest.mark.parametrize("x", POINTS)
def test_hessian_of_a_known_function(x):
    """`_hessian` against the exact Hessian, with steps HESSIAN_STEP x scale (scales
    0.5 and 2 from the proposals). Tolerance 1e-5 absolute (Hessian entries ~1-3):
    the truncation error is step^2/12 x the fourth derivatives (<= 2^4 x 1e-6 / 12
    here) and rounding ~1e-16 / step^2 ~ 1e-10."""
    gradient = PosteriorGradient(_model({"gauss": loglike}, UNIFORM_AB))
    np.testing.assert_allclose(gradient.scales, [0.5, 2.0])
    hess = gradient._hessian(lambda y: float(loglike(*y)), x, range(2))
    np.testing.assert_allclose(hess, loglike_hessian(*x), rtol=0, atol=1e-5)
    # only the requested coordinates are filled
    partial = gradient._hessian(lambda y: float(loglike(*y)), x, [1])
    assert partial[0, 0] == partial[0, 1] == partial[1, 0] == 0.0
    assert partial[1, 1] == hess[1, 1]
    assert HESSIAN_STEP == 1e-3


# ---- a likelihood without gradient -------------------------------------------------

@pytest.mark.parametrize("x", POINTS)
def test_likelihood_without_gradient_uses_finite_differences(x):
    """A plain function likelihood: d ln L / dx by central differences of ln L with
    step fd_step x scale; the error is step^2/6 x the third derivative (step <= 2e-4,
    third derivatives <= 1.8): < 2e-8, tested at 1e-7. The Fisher matrix is then
    -Hessian by second differences (numeric=True; tolerance as for `_hessian`), and
    nothing (uniform priors) with numeric=False."""
    model = _model({"gauss": loglike}, UNIFORM_AB)
    gradient = PosteriorGradient(model)
    assert gradient.numeric == ["gauss"] and gradient.analytic == []
    value, grad = gradient(x)
    assert value == pytest.approx(float(loglike(*x)) - 2 * np.log(6.0), rel=1e-14)
    np.testing.assert_allclose(grad, loglike_gradient(*x), rtol=0, atol=1e-7)
    assert gradient.n_fd_evals == 4  # two evaluations per sampled parameter
    np.testing.assert_allclose(gradient.fisher(x), -loglike_hessian(*x), rtol=0, atol=1e-5)
    np.testing.assert_array_equal(gradient.fisher(x, numeric=False), np.zeros((2, 2)))


# ---- parameters without an analytic gradient -----------------------------------------

def test_input_defined_as_a_function_of_a_sampled_parameter():
    """a = exp(u), u sampled: d ln L / du = d ln L / da x exp(u), with d a / d u from
    the 4-point stencil of the parameterization (error ~(1e-4 x 0.2)^4, rounding
    ~1e-16/2e-5): tested to 1e-9 relative; the Fisher matrix maps with the same
    Jacobian (exact J^T F J)."""
    params = {"u": _uniform(-2, 1, 0.2), "a": {"value": "lambda u: np.exp(u)", "derived": False},
              "b": _uniform(-3, 3, 2.0)}
    model = _model({"analytic": {"external": AnalyticLike}}, params)
    gradient = PosteriorGradient(model)
    assert gradient.analytic == ["analytic"] and gradient.numeric == []
    u, b = -0.7, 0.4
    _, grad = gradient(np.array([u, b]))
    chain = np.array([np.exp(u), 1.0])
    np.testing.assert_allclose(grad, loglike_gradient(np.exp(u), b) * chain, rtol=1e-9)
    assert gradient.n_fd_evals == 0  # no likelihood evaluation for the chain rule
    fisher = gradient.fisher(np.array([u, b]))
    np.testing.assert_allclose(fisher, -loglike_hessian(np.exp(u), b) * np.outer(chain, chain),
                               rtol=1e-9)


@pytest.mark.parametrize("omit", [["b"], ["a", "b"]])
def test_input_missing_from_logp_gradient_gets_finite_differences(omit, caplog):
    """A likelihood whose ``logp_gradient`` leaves out an input it takes: that
    derivative comes from finite differences of the likelihood (error < 2e-8, tested
    at 1e-7) instead of being silently zero, and the Fisher matrix from second
    differences (numeric=True; 1e-5 as for `_hessian`)."""
    model = _model({"analytic": {"external": AnalyticLike, "omit": omit}}, UNIFORM_AB)
    gradient = PosteriorGradient(model)
    assert gradient.analytic == ["analytic"]
    x = POINTS[0]
    _, grad = gradient(x)
    np.testing.assert_allclose(grad, loglike_gradient(*x), rtol=0, atol=1e-7)
    assert gradient.n_fd_evals == 2 * len(omit)
    assert f"no analytic derivative in input(s) {omit}" in caplog.text
    np.testing.assert_allclose(gradient.fisher(x), -loglike_hessian(*x), rtol=0, atol=1e-5)


def test_complete_analytic_gradient_needs_no_model_evaluation():
    """The control case: every input covered, no finite differences at all, and the
    analytic gradient and Fisher matrix to rounding."""
    gradient = PosteriorGradient(_model({"analytic": {"external": AnalyticLike}}, UNIFORM_AB))
    x = POINTS[1]
    _, grad = gradient(x)
    np.testing.assert_allclose(grad, loglike_gradient(*x), rtol=1e-14)
    np.testing.assert_allclose(gradient.fisher(x), -loglike_hessian(*x), rtol=1e-14)
    assert gradient.n_fd_evals == 0


# ---- non-Gaussian priors --------------------------------------------------------------

#: scipy.stats priors other than uniform and norm: (Cobaya prior, frozen distribution).
BETA = ({"dist": "beta", "a": 2.5, "b": 4.0, "loc": -1.0, "scale": 3.0},
        stats.beta(2.5, 4.0, loc=-1.0, scale=3.0))
LOGNORM = ({"dist": "lognorm", "s": 0.5, "scale": 0.8}, stats.lognorm(0.5, scale=0.8))


def _dlogpdf(dist, x, order):
    """Closed-form first/second derivative of ln pdf for the two priors above."""
    name = dist.dist.name
    if name == "beta":
        a, b = dist.args
        loc, scale = dist.kwds["loc"], dist.kwds["scale"]
        t = (x - loc) / scale
        if order == 1:
            return ((a - 1) / t - (b - 1) / (1 - t)) / scale
        return (-(a - 1) / t**2 - (b - 1) / (1 - t) ** 2) / scale**2
    s, scale = dist.args[0], dist.kwds["scale"]
    # ln pdf = -ln x - (ln(x/scale))^2 / (2 s^2) + const
    mu = np.log(x / scale)
    if order == 1:
        return -1 / x - mu / (s**2 * x)
    return 1 / x**2 - (1 - mu) / (s**2 * x**2)


@pytest.mark.parametrize("prior, dist", [BETA, LOGNORM], ids=["beta", "lognorm"])
@pytest.mark.parametrize("ignore_prior", [False, True])
def test_non_gaussian_prior_gradient_and_curvature(prior, dist, ignore_prior):
    """d ln prior / dx (central differences, step 1e-4 x scale: error < 1e-7 relative
    here, tested at 1e-6) and its curvature in the Fisher matrix (second
    differences: tested at 1e-5 relative), against closed forms; the full gradient
    of ln P against 4-point differences of Cobaya's logpost (1e-6). With
    ``ignore_prior`` the prior contributes nothing."""
    params = {"a": {"prior": prior, "proposal": 0.1}, "b": _uniform(-3, 3, 2.0)}
    model = _model({"gauss": loglike}, params)
    gradient = PosteriorGradient(model, ignore_prior=ignore_prior)
    assert gradient._other_priors == [0]
    for a in (dist.ppf(0.2), dist.ppf(0.6)):
        x = np.array([a, 0.5])
        expected_prior = 0.0 if ignore_prior else _dlogpdf(dist, a, 1)
        value, grad = gradient(x)
        target = (lambda y: float(sum(model.loglikes(y, return_derived=False)))) \
            if ignore_prior else model.logpost
        assert value == pytest.approx(target(x), rel=1e-13)
        like_grad = loglike_gradient(*x)
        np.testing.assert_allclose(grad[0] - like_grad[0], expected_prior, rtol=1e-6,
                                   atol=1e-7)
        np.testing.assert_allclose(grad, _fd(target, x, 1e-4 * gradient.scales),
                                   rtol=1e-6, atol=1e-7)
        if not ignore_prior:
            np.testing.assert_allclose(gradient.prior_gradient(x)[0], _dlogpdf(dist, a, 1),
                                       rtol=1e-6)
        curvature = gradient.fisher(x)[0, 0] + loglike_hessian(*x)[0, 0]
        expected_curvature = 0.0 if ignore_prior else -_dlogpdf(dist, a, 2)
        assert curvature == pytest.approx(expected_curvature, rel=1e-5, abs=1e-5)


def test_external_prior_gradient_and_curvature():
    """An external prior ln pi = -a^2 b^2 / 2 (beside uniform ones): gradient by the
    4-point stencil (1e-8) and curvature by second differences (1e-5)."""
    model = _model({"gauss": loglike}, UNIFORM_AB,
                   prior={"coupling": "lambda a, b: -0.5 * a**2 * b**2"})
    gradient = PosteriorGradient(model)
    x = np.array([0.7, -0.6])
    a, b = x
    _, grad = gradient(x)
    np.testing.assert_allclose(grad, loglike_gradient(a, b) + [-a * b**2, -a**2 * b],
                               rtol=0, atol=1e-8)
    prior_hessian = np.array([[-b**2, -2 * a * b], [-2 * a * b, -a**2]])
    np.testing.assert_allclose(gradient.fisher(x), -loglike_hessian(a, b) - prior_hessian,
                               rtol=0, atol=1e-5)
