"""cobaya_szlite.NUTS on the tSZ models: the fast path's ln P and gradient against the
Cobaya model's (mock, Planck 2015 with a fixed and a varying covariance, the 10-parameter
yaml/planck2015_nuts.yaml), and the posterior of yaml/nuts_mock.yaml as shipped against a
long mcmc run. Monte Carlo tolerances as in tests/test_nuts.py: N_SIGMA standard errors."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from cobaya.model import get_model
from cobaya.run import run
from cobaya.yaml import yaml_load_file

from cobaya_szlite.convergence import effective_sample_size

from cobaya_fixtures import needs_planck_data

SAMPLER = "cobaya_szlite.NUTS"
TESTS = os.path.dirname(os.path.abspath(__file__))
N_SIGMA = 4.5


#: Posterior of yaml/nuts_mock.yaml (the packaged noiseless mock) from a long Cobaya mcmc run,
#: `python benchmarks/mock_posterior_reference.py --rminus1 0.0005`: mean, sd. Its Monte
#: Carlo error (ESS about 1e4: 0.01 sigma) is negligible next to that of the short NUTS run here.
MOCK_MCMC = {"sigma8": (0.857014, 0.057347), "omega_cdm": (0.119332, 0.0011988),
             "B": (1.48387, 0.27965)}


@pytest.mark.slow
def test_mock_posterior_agrees_with_mcmc(tmp_path):
    """NUTS on yaml/nuts_mock.yaml, as shipped (fast path, chains one after the other on
    CPU) but shorter: each mean within N_SIGMA of its Monte Carlo error (sd / sqrt(ESS), ESS
    of this run) of the long mcmc run's, each sd within N_SIGMA sqrt(1 / (2 ESS)) relative.
    The long runs of docs/nuts.md (benchmarks/bench_sampler.py) agree to 0.1 sigma and 5%."""
    info = yaml_load_file(os.path.join(os.path.dirname(TESTS), "yaml", "nuts_mock.yaml"))
    info["sampler"][SAMPLER].update(chains=2, warmup=300, max_samples=400, output_every=400, seed=3,
                                    Rminus1_stop=1e-9)
    info["output"] = str(tmp_path / "mock")
    _, sampler = run(info)
    assert sampler.fast
    names = list(MOCK_MCMC)
    chains = [c[names].to_numpy(dtype=float) for c in sampler.products()["sample"]]
    ess = effective_sample_size(chains)
    pooled = np.concatenate(chains)
    for i, name in enumerate(names):
        mean, sd = MOCK_MCMC[name]
        assert abs(pooled[:, i].mean() - mean) < N_SIGMA * sd / np.sqrt(ess[i]), (name, pooled[:, i].mean(), ess[i])
        assert abs(pooled[:, i].std(ddof=1) / sd - 1) < N_SIGMA * np.sqrt(1 / (2 * ess[i])), (
            name, pooled[:, i].std(ddof=1), ess[i])


# ---- fast path ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mock_model():
    from cobaya_fixtures import load_yaml

    info = load_yaml("mcmc_mock.yaml")
    info.pop("sampler")
    return get_model(info)


def _compare_paths(model, points):
    """The pure-JAX ln P equals the Cobaya model's to 1e-10 (same engine, same covariance
    algebra) at ``points``; its gradient equals PosteriorGradient's (both exact derivatives of
    the same D_ell, forward mode there, reverse mode here: agreement to rounding, 1e-7
    relative allows for the covariance algebra's conditioning)."""
    from cobaya_szlite.jax_posterior import pure_jax_logpost
    from cobaya_szlite.posterior_gradient import PosteriorGradient

    gradient = PosteriorGradient(model)
    logpost, reason = pure_jax_logpost(model)
    assert logpost is not None, reason
    jitted = jax.jit(jax.value_and_grad(logpost))
    for point in points:
        value, grad = jitted(jnp.asarray(point))
        expected, expected_grad = gradient(np.array(point))
        assert float(value) == pytest.approx(expected, abs=1e-10)
        np.testing.assert_allclose(np.asarray(grad), expected_grad, rtol=1e-7, atol=1e-9)
    return jitted


@pytest.mark.slow
def test_fast_path_logpost_equals_cobaya(mock_model):
    """Mock (TSZBandpowers, fixed covariance, uniform + Gaussian priors); -inf with a zero
    gradient outside the prior."""
    jitted = _compare_paths(mock_model, ([0.81, 0.11933, 1.25], [0.75, 0.121, 1.6], [0.9, 0.117, 1.05]))
    value, grad = jitted(jnp.asarray([0.81, 0.11933, 2.5]))  # B outside its prior
    assert float(value) == -np.inf and np.all(np.asarray(grad) == 0)


@needs_planck_data
@pytest.mark.slow
@pytest.mark.parametrize("trispectrum", ["reference", "varying"])
def test_fast_path_planck_equals_cobaya(trispectrum):
    """Planck 2015 (foreground templates, A_CN fixed and three amplitudes sampled, B with a
    Gaussian prior; fixed and parameter-dependent covariance)."""
    from cobaya_fixtures import PLANCK_FOLDER, TEST_PRECISION

    info = yaml_load_file(os.path.join(os.path.dirname(TESTS), "yaml", "planck2015_mcmc.yaml"))
    for key in ("sampler", "output"):
        info.pop(key)
    info["theory"]["cobaya_szlite.SZTheory"]["precision"] = {**TEST_PRECISION, "z_min": 1e-5, "z_max": 4.0}
    info["likelihood"]["cobaya_szlite.Planck2015TSZ"].update(data_folder=PLANCK_FOLDER, trispectrum=trispectrum)
    info["params"]["B"] = {"prior": {"dist": "norm", "loc": 1.25, "scale": 0.1}}
    model = get_model(info)
    names = list(model.parameterization.sampled_params())
    assert {"A_CIB", "A_RS", "A_IR", "B"} <= set(names)
    base = {"sigma8": 0.78, "omega_cdm": 0.12, "H0": 68.0, "B": 1.25, "A_CIB": 0.66, "A_RS": 0.2, "A_IR": 2.04}
    moved = {**base, "sigma8": 0.82, "H0": 71.0, "B": 1.4, "A_IR": 1.5}
    _compare_paths(model, [[p[n] for n in names] for p in (base, moved)])


@needs_planck_data
@pytest.mark.slow
def test_planck_nuts_yaml_takes_the_fast_path():
    """yaml/planck2015_nuts.yaml (10 parameters: cosmology, foregrounds, B with a Gaussian prior,
    P0, c500, beta): its model has a pure-JAX posterior equal to Cobaya's, gradient included."""
    from cobaya_fixtures import PLANCK_FOLDER, TEST_PRECISION

    info = yaml_load_file(os.path.join(os.path.dirname(TESTS), "yaml", "planck2015_nuts.yaml"))
    assert list(info["sampler"]) == [SAMPLER]
    for key in ("sampler", "output"):
        info.pop(key)
    info["theory"]["cobaya_szlite.SZTheory"]["precision"].update(TEST_PRECISION)
    info["likelihood"]["cobaya_szlite.Planck2015TSZ"]["data_folder"] = PLANCK_FOLDER
    model = get_model(info)
    names = list(model.parameterization.sampled_params())
    assert len(names) == 10 and {"P0GNFW", "c500", "betaGNFW", "B"} <= set(names)
    centre = [model.prior.pdf[i].mean() if model.prior.pdf[i].dist.name == "norm" else
              float(np.mean(model.prior.bounds()[i])) for i in range(len(names))]
    reference = [float(v) for v in model.prior.reference(random_state=1)]
    _compare_paths(model, [reference, centre])
