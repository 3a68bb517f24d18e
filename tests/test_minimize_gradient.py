"""PosteriorGradient: d ln P / d(sampled params) against finite differences; bad input."""

import numpy as np
import pytest
from cobaya.log import LoggedError
from cobaya.model import get_model
from cobaya.run import run

from cobaya_szlite.posterior_gradient import PosteriorGradient

from cobaya_fixtures import LIKE, simple_info

#: A likelihood without gradients (finite-difference fallback), on two theory inputs.
EXTRA_LIKE = "lambda sigma8, omega_cdm: -0.5 * ((sigma8 - 0.8) / 0.05) ** 2 - np.log(omega_cdm) ** 2"


def _params():
    """Renamed param (s8x -> sigma8), a lambda (B = 1/(1-b_hse)), a Gaussian prior, an alias."""
    return {
        "s8x": {"prior": {"min": 0.6, "max": 1.0}, "ref": 0.81, "proposal": 0.005,
                "drop": True, "latex": "s_8"},
        "sigma8": {"value": "lambda s8x: s8x", "latex": r"\sigma_8"},
        "b_hse": {"prior": {"min": 0.0, "max": 0.5}, "ref": 0.2, "proposal": 0.005,
                  "drop": True, "latex": "b"},
        "B": {"value": "lambda b_hse: 1 / (1 - b_hse)", "derived": False},
        "omega_cdm": {"prior": {"dist": "norm", "loc": 0.11933, "scale": 0.0012},
                      "ref": 0.1193, "proposal": 0.001, "renames": ["omch2"]},
    }


@pytest.fixture(scope="module")
def model():
    info = simple_info(params=_params())
    info["likelihood"][LIKE]["bandpowers_file"] = "bandpowers.txt"
    info["likelihood"]["extra"] = EXTRA_LIKE
    return get_model(info)


def _fd_gradient(function, x, scales, rel_step=1e-4):
    """4-point central differences."""
    grad = np.zeros_like(x)
    for j in range(len(x)):
        e = np.zeros_like(x)
        e[j] = rel_step * scales[j]
        grad[j] = (-function(x + 2 * e) + 8 * function(x + e) - 8 * function(x - e)
                   + function(x - 2 * e)) / (12 * e[j])
    return grad


POINTS = [
    {"s8x": 0.8102, "b_hse": 0.2, "omega_cdm": 0.11933},
    {"s8x": 0.83, "b_hse": 0.22, "omega_cdm": 0.1210},
    {"s8x": 0.79, "b_hse": 0.15, "omega_cdm": 0.1170},
]


@pytest.mark.parametrize("ignore_prior", [False, True])
@pytest.mark.slow
def test_gradient_matches_finite_differences(model, ignore_prior):
    gradient = PosteriorGradient(model, ignore_prior=ignore_prior)
    assert gradient.analytic == [LIKE] and gradient.numeric == ["extra"]
    target = (lambda y: float(np.sum(model.loglikes(y, return_derived=False)))) if ignore_prior \
        else model.logpost
    for point in POINTS:
        x = np.array([point[p] for p in gradient.names])
        value, grad = gradient(x)
        assert value == pytest.approx(target(x), rel=1e-12)
        reference = _fd_gradient(target, x, gradient.scales)
        np.testing.assert_allclose(grad, reference, rtol=1e-6, atol=1e-6 * np.abs(reference).max())
        assert isinstance(value, float) and grad.dtype == np.float64


@pytest.mark.slow
def test_likelihood_gradient_methods(model):
    """TSZBandpowers.logp_gradient / logp_fisher: Python floats for every varying input.

    PosteriorGradient requests Cl_sz_grad only in the theory inputs that vary with the
    sampled params (sigma8, omega_cdm, and B through the lambda), not in the fixed ones.
    """
    PosteriorGradient(model)  # adds the Cl_sz_grad requirement
    like = model.likelihood[LIKE]
    model.logposterior([0.81, 0.2, 0.1193])
    gradient = like.logp_gradient()
    assert set(gradient) == {"sigma8", "omega_cdm", "B"}
    assert model.provider.get_Cl_sz_grad()["1h"].shape[1] == 3
    assert all(isinstance(v, float) for v in gradient.values())
    names, fisher = like.logp_fisher()
    assert names == list(gradient) and fisher.shape == (len(names), len(names))
    np.testing.assert_allclose(fisher, fisher.T)


def test_unused_sampled_param_is_refused():
    info = simple_info()
    info["params"]["xx"] = {"prior": {"min": 0, "max": 1}, "drop": True}
    info["prior"] = {"pxx": "lambda xx: -xx ** 2"}
    with pytest.raises(LoggedError, match="no likelihood depends"):
        PosteriorGradient(get_model(info))


@pytest.mark.parametrize(
    "options, message",
    [
        ({"no_such_option": 1}, "no_such_option"),
        ({"start_from": "/nonexistent/chains/run"}, "start_from"),
        ({"method": "bobyqa"}, "Unknown method"),
        ({"best_of": 0}, "best_of"),
        ({"ftol": -1}, "'ftol' must be a finite number > 0"),
        ({"fisher_steps": -1}, "'fisher_steps' must be an integer >= 0"),
        ({"override_scipy": [1]}, "'scipy_options' must be a dict"),
        ({"fd_step": 0}, "'fd_step' must be a number > 0"),
    ],
)
def test_bad_sampler_options(options, message, caplog):
    info = simple_info()
    info["sampler"] = {"cobaya_szlite.GradMinimize": options}
    with pytest.raises(LoggedError):
        run(info)
    assert message in caplog.text


@pytest.mark.slow
def test_cl_sz_grad_restricted_to_requested_params():
    """Cl_sz_grad: {params: [...]} gives those columns of the full Jacobian (input
    order: here the class_sz names of DEFAULT_LAYOUT), the union over requests; unknown
    names are refused."""
    from cobaya_szlite.parameters import DEFAULT_LAYOUT

    model = get_model(simple_info())
    model.add_requirements({"Cl_sz_grad": {"params": ["B", "sigma8"]}})
    model.add_requirements({"Cl_sz_grad": {"params": ["H0"]}})
    model.logposterior([0.8])
    grad = model.provider.get_Cl_sz_grad()
    assert grad["params"] == ["H0", "sigma8", "B"]
    full_model = get_model(simple_info())
    full_model.add_requirements({"Cl_sz_grad": None})
    full_model.logposterior([0.8])
    full = full_model.provider.get_Cl_sz_grad()
    assert full["params"] == list(DEFAULT_LAYOUT.names)
    columns = [list(DEFAULT_LAYOUT.names).index(p) for p in grad["params"]]
    np.testing.assert_allclose(grad["1h"], full["1h"][:, columns], rtol=1e-10, atol=0)
    np.testing.assert_allclose(grad["2h"], full["2h"][:, columns], rtol=1e-10, atol=0)
    with pytest.raises(LoggedError, match="Cl_sz_grad"):
        get_model(simple_info()).add_requirements({"Cl_sz_grad": {"params": ["not_an_input"]}})
