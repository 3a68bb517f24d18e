"""cobaya_szlite.NUTS: the unconstrained map, the convergence diagnostics, the sampled
distributions of analytic posteriors (a correlated 10-d Gaussian, a banana) against their
exact moments, the chain files (getdist, resume, MPI), and bad input. The tSZ models (the
fast path, the shipped mock against mcmc): tests/test_nuts_tsz.py.

Monte Carlo tolerances: a sample mean is within 4.5 standard errors of the truth, the error
std / sqrt(ESS) with the ESS from the run itself (the chance that one of the 10 + 5 checks
fails by chance is below 1e-4); for the Gaussian a sample variance within 4.5 sqrt(2 / ESS)
relative, and the whitened covariance within 4.5 sqrt(2 / ESS) of the identity.
"""

import math
import os
import shutil
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from cobaya.log import LoggedError
from cobaya.run import run

from cobaya_szlite.convergence import effective_sample_size, rminus1, rminus1_cl
from cobaya_szlite.unconstrained import Bijection

import nuts_likelihoods as nl

SAMPLER = "cobaya_szlite.NUTS"
TESTS = os.path.dirname(os.path.abspath(__file__))
N_SIGMA = 4.5


def _options(**options):
    return {"chains": 2, "warmup": 200, "output_every": 200, "seed": 7, "Rminus1_stop": 1e-9, **options}


def _gauss_info(prefix=None, **options):
    params = nl.gaussian_params()
    params["gsum"] = {"derived": "lambda g0, g1: g0 + g1"}
    info = {"likelihood": {"gauss": nl.Gaussian10}, "params": params,
            "sampler": {SAMPLER: _options(**options)}, "stop_at_error": True}
    if prefix is not None:
        info["output"] = str(prefix)
    return info


def _banana_info(**options):
    return {"likelihood": {"banana": nl.Banana},
            "params": {"x": {"prior": {"min": -8, "max": 8}, "ref": {"dist": "norm", "loc": 0, "scale": 0.3}},
                       "y": {"prior": {"min": -10, "max": 40}, "ref": {"dist": "norm", "loc": 0, "scale": 0.3}}},
            "sampler": {SAMPLER: _options(**options)}, "stop_at_error": True}


def _chains(sampler, names):
    return [c[names].to_numpy(dtype=float) for c in sampler.products()["sample"]]


@pytest.fixture(scope="module")
def gauss_run(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("nuts_gauss") / "gauss"
    _, sampler = run(_gauss_info(prefix, max_samples=600, output_every=300))
    return prefix, sampler


# ---- building blocks ------------------------------------------------------------------


def test_bijection_round_trip_and_log_jacobian():
    """x(u(x)) = x; ln|dx/du| equals the log-derivative of x(u) from JAX autodiff."""
    bij = Bijection.from_bounds([[-2.0, 3.0], [1.0, np.inf], [-np.inf, 5.0], [-np.inf, np.inf]])
    x = np.array([2.9, 1.5, -7.0, 0.3])
    u = bij.to_unconstrained(x)
    np.testing.assert_allclose(np.asarray(bij.to_constrained(jnp.asarray(u))), x, rtol=1e-13)
    derivative = np.diag(np.asarray(jax.jacfwd(bij.to_constrained)(jnp.asarray(u))))
    np.testing.assert_allclose(bij.jacobian_diagonal(u), derivative, rtol=1e-12)
    assert float(bij.log_jacobian(jnp.asarray(u))) == pytest.approx(np.sum(np.log(np.abs(derivative))), abs=1e-12)
    with pytest.raises(ValueError, match="strictly inside"):
        bij.to_unconstrained([3.0, 1.5, 0.0, 0.0])
    with pytest.raises(ValueError, match="lower < upper"):
        Bijection.from_bounds([[1.0, 1.0]])


def test_rminus1_analytic():
    """Two chains of unit variance with means +-m: W = 1, B = 2 m^2, so R-1 = 2 m^2; the bounds'
    R-1 is the std of the two chains' quantiles, sqrt(2) m, over the pooled std sqrt(1 + m^2)."""
    base = np.random.default_rng(0).normal(size=(20000, 1))
    base = (base - base.mean()) / base.std(ddof=1)
    m = 0.1
    chains = [base + m, base - m]
    assert rminus1(chains) == pytest.approx(2 * m**2, rel=1e-3)
    assert rminus1_cl(chains) == pytest.approx(math.sqrt(2) * m / math.sqrt(1 + m**2), rel=1e-3)
    # identical chains: zero; a single chain is split in quarters
    assert rminus1([base, base]) == pytest.approx(0, abs=1e-12)
    assert rminus1([np.concatenate([base[:1000] + 1, base[:1000] - 1, base[:2000]])]) > 0.2
    # independent draws: ESS close to the number of samples
    ess = effective_sample_size([base[:5000], base[5000:10000]])
    assert 8000 < ess[0] < 12000


def test_effective_sample_size_is_blackjax_estimator():
    """The NumPy effective sample size equals BlackJAX's (Stan's estimator) to 1e-10 on AR(1)
    chains (1 to 3 chains, odd and even lengths, a constant parameter: 0, a NaN: NaN)."""
    from blackjax.diagnostics import effective_sample_size as blackjax_ess

    rng = np.random.default_rng(5)
    for m, n in [(1, 301), (2, 1000), (3, 57)]:
        phi = np.array([0.0, 0.5, 0.9, -0.3, 0.0])
        x = rng.normal(size=(m, n, 5))
        for t in range(1, n):
            x[:, t] += phi * x[:, t - 1]
        x[..., 4] = 2.0
        expected = np.asarray(blackjax_ess(x, chain_axis=0, sample_axis=1))
        np.testing.assert_allclose(effective_sample_size(list(x)), expected, rtol=1e-10)
        assert effective_sample_size(list(x))[4] == 0.0
    x[0, 3, 1] = np.nan
    assert np.isnan(effective_sample_size(list(x))[1]) and np.isfinite(effective_sample_size(list(x))[0])


# ---- sampling analytic posteriors -------------------------------------------------------


def test_gaussian_moments(gauss_run):
    """Means and covariance of the correlated 10-d Gaussian within Monte Carlo error."""
    _, sampler = gauss_run
    x = np.concatenate(_chains(sampler, nl.GAUSS_NAMES))
    assert len(x) == 1200
    ess = effective_sample_size(_chains(sampler, nl.GAUSS_NAMES))
    sigma = np.sqrt(np.diag(nl.GAUSS_COV))
    assert np.all(np.abs(x.mean(axis=0) - nl.GAUSS_MEAN) < N_SIGMA * sigma / np.sqrt(ess))
    np.testing.assert_allclose(x.var(axis=0, ddof=1), sigma**2, rtol=N_SIGMA * np.sqrt(2 / ess.min()))
    # whole covariance: whitened by the truth it is the identity, to ~ 1/sqrt(ESS) per entry
    white = np.linalg.inv(np.linalg.cholesky(nl.GAUSS_COV))
    whitened = white @ np.cov(x, rowvar=False) @ white.T
    assert np.max(np.abs(whitened - np.eye(10))) < N_SIGMA * np.sqrt(2 / ess.min())
    progress = sampler.products()["progress"]
    assert [p["n_per_chain"] for p in progress] == [300, 600]
    assert progress[-1]["divergent"] == 0


def _mc_agrees(chains, statistic, truth):
    """|mean of statistic(samples) - truth| < N_SIGMA Monte Carlo errors, the error from the
    statistic's own sample std and effective sample size."""
    values = [statistic(c)[:, None] for c in chains]
    ess = float(effective_sample_size(values)[0])
    pooled = np.concatenate(values)[:, 0]
    error = pooled.std(ddof=1) / math.sqrt(ess)
    assert ess > 100 and abs(pooled.mean() - truth) < N_SIGMA * error, (pooled.mean(), truth, error, ess)


def test_banana_moments():
    """Curved 2-d posterior: E[x] = E[y] = 0, E[x^2] = 1, E[y^2] = 2 B^2 + S^2, E[x^2 y] = 2 B."""
    _, sampler = run(_banana_info(warmup=300, max_samples=2000, output_every=2000))
    chains = _chains(sampler, ["x", "y"])
    for statistic, truth in [(lambda c: c[:, 0], 0.0), (lambda c: c[:, 1], 0.0), (lambda c: c[:, 0] ** 2, 1.0),
                             (lambda c: c[:, 1] ** 2, 2 * nl.BANANA_B**2 + nl.BANANA_S**2),
                             (lambda c: c[:, 0] ** 2 * c[:, 1], 2 * nl.BANANA_B)]:
        _mc_agrees(chains, statistic, truth)


def test_degeneracy_map_samples_a_thin_curved_shell(tmp_path):
    """`degeneracy_param: s` on a shell 100 times thinner than long (tests/nuts_likelihoods.py,
    ThinShell): the marginal moments of p and ln s and the shell's thickness match the exact
    ones (quadrature of exp(shell_mean(ln p)) over the prior of p) within Monte Carlo error;
    with the fitted map the trajectories are short (below 20 leapfrog steps per sample; 4.3
    measured, against 52 and a minimum ESS of 2 in these 2000 samples without the map); the
    fit is saved with each chain's state."""
    p_grid = np.linspace(0.5, 8.0, 200001)
    weight = np.exp(nl.shell_mean(np.log(p_grid)))
    mean_p = np.trapezoid(p_grid * weight, p_grid) / np.trapezoid(weight, p_grid)
    mean_ln_s = (np.trapezoid(nl.shell_mean(np.log(p_grid)) * weight, p_grid) / np.trapezoid(weight, p_grid)
                 + nl.SHELL_SIGMA**2)
    info = {"likelihood": {"shell": nl.ThinShell},
            "params": {"p": {"prior": {"min": 0.5, "max": 8.0}, "ref": {"dist": "norm", "loc": 2.0, "scale": 0.1}},
                       "s": {"prior": {"min": 0.1, "max": 20.0}, "ref": {"dist": "norm", "loc": 0.78, "scale": 0.005}}},
            "sampler": {SAMPLER: _options(degeneracy_param="s", warmup=300, max_samples=1000, output_every=500)},
            "output": str(tmp_path / "shell"), "stop_at_error": True}
    _, sampler = run(info)
    chains = _chains(sampler, ["p", "s"])

    def residual(c):
        return np.log(c[:, 1]) - nl.shell_mean(np.log(c[:, 0]))

    for statistic, truth in [(lambda c: c[:, 0], mean_p), (lambda c: np.log(c[:, 1]), mean_ln_s),
                             (residual, nl.SHELL_SIGMA**2),
                             (lambda c: residual(c) ** 2, nl.SHELL_SIGMA**2 + nl.SHELL_SIGMA**4)]:
        _mc_agrees(chains, statistic, truth)
    progress = sampler.products()["progress"][-1]
    assert progress["leapfrog_per_sample"] < 20, progress
    state = np.load(str(tmp_path / "shell.1.nuts.npz"))
    fit = type(sampler.fit)(*(jnp.asarray(state[f"fit_{k}"]) for k in type(sampler.fit)._fields))
    last = np.asarray(sampler.coordinates.to_constrained(jnp.asarray(state["position"]), fit))
    np.testing.assert_allclose(last, chains[0][-1], rtol=1e-12)


def test_vectorised_chains_sample_the_gaussian(monkeypatch):
    """The fast path's machinery (warm-up and sampling of all chains vmapped, no callback,
    ``vectorize_chains: True``; one after the other is the default on CPU), fed
    with the Gaussian's ln P written in JAX (what `pure_jax_logpost` gives for the tSZ models):
    the same moments within Monte Carlo error, and the recorded ln P is the Cobaya model's."""
    import cobaya_szlite.jax_posterior as jax_posterior

    inverse = jnp.asarray(np.linalg.inv(nl.GAUSS_COV))
    bounds = np.array([[v["prior"]["min"], v["prior"]["max"]] for v in nl.gaussian_params().values()])
    log_volume = float(np.sum(np.log(bounds[:, 1] - bounds[:, 0])))

    def logpost(x):
        r = x - nl.GAUSS_MEAN
        inside = jnp.all((x >= bounds[:, 0]) & (x <= bounds[:, 1]))
        return jnp.where(inside, -0.5 * r @ inverse @ r - log_volume, -jnp.inf)

    monkeypatch.setattr(jax_posterior, "pure_jax_logpost", lambda model: (logpost, ""))
    info = _gauss_info(chains=3, max_samples=400, output_every=400, fast_path=True, vectorize_chains=True)
    _, sampler = run(info)
    assert sampler.fast and sampler.vectorised
    chains = _chains(sampler, nl.GAUSS_NAMES)
    assert [len(c) for c in chains] == [400] * 3
    ess = effective_sample_size(chains)
    x = np.concatenate(chains)
    sigma = np.sqrt(np.diag(nl.GAUSS_COV))
    assert np.all(np.abs(x.mean(axis=0) - nl.GAUSS_MEAN) < N_SIGMA * sigma / np.sqrt(ess))
    np.testing.assert_allclose(x.var(axis=0, ddof=1), sigma**2, rtol=N_SIGMA * np.sqrt(2 / ess.min()))
    row = sampler.products()["sample"][2].data.iloc[-1]
    point = np.array([row[p] for p in nl.GAUSS_NAMES])
    assert -row["minuslogpost"] == pytest.approx(float(logpost(jnp.asarray(point))), abs=1e-9)


# ---- Cobaya citizenship -----------------------------------------------------------------


def test_chains_are_cobaya_collections_read_by_getdist(gauss_run):
    from getdist import loadMCSamples

    prefix, sampler = gauss_run
    folder = os.path.dirname(prefix)
    assert {"gauss.1.txt", "gauss.2.txt", "gauss.updated.yaml", "gauss.checkpoint",
            "gauss.covmat"} <= set(os.listdir(folder))
    collection = sampler.products()["sample"][0]
    columns = list(collection.data.columns)
    assert columns[:2] == ["weight", "minuslogpost"] and "gsum" in columns
    assert {"minuslogprior", "chi2", "chi2__gauss"} <= set(columns)
    np.testing.assert_allclose(collection["gsum"], collection["g0"] + collection["g1"], rtol=1e-12)
    np.testing.assert_array_equal(collection["weight"], 1.0)
    # the recorded posterior is the model's
    row = collection.data.iloc[-1]
    model = sampler.model
    assert -row["minuslogpost"] == pytest.approx(model.logpost([row[p] for p in nl.GAUSS_NAMES]), abs=1e-10)
    samples = loadMCSamples(str(prefix))
    assert samples.numrows == 1200
    assert samples.getParamNames().parWithName("gsum") is not None
    np.testing.assert_allclose(samples.getMeans()[:10], np.concatenate(_chains(sampler, nl.GAUSS_NAMES)).mean(0),
                               rtol=1e-7, atol=1e-9)  # text files: 8 significant digits
    # the covmat written at the end is the samples' covariance
    with open(f"{prefix}.covmat", encoding="utf-8") as stream:
        assert stream.readline().lstrip("#").split() == nl.GAUSS_NAMES


def test_resume_continues_the_chains(gauss_run, tmp_path):
    """--resume after the run stopped: the same 600 samples first, then new ones, no warm-up."""
    prefix, sampler = gauss_run
    folder = tmp_path / "copy"
    shutil.copytree(os.path.dirname(prefix), folder)
    new_prefix = folder / "gauss"
    before = [np.loadtxt(f"{new_prefix}.{i}.txt") for i in (1, 2)]
    info = _gauss_info(new_prefix, max_samples=900, output_every=300)
    info["resume"] = True
    _, resumed = run(info)
    for i, old in enumerate(before):
        new = np.loadtxt(f"{new_prefix}.{i + 1}.txt")
        assert new.shape[0] == 900
        np.testing.assert_array_equal(new[:600], old)
        assert not np.allclose(new[600], old[-1])
    assert [p["n_per_chain"] for p in resumed.products()["progress"]] == [900]


@pytest.mark.slow
def test_resume_after_kill(tmp_path):
    """cobaya-run killed (SIGKILL) while sampling; --resume completes the chains from where
    the files end."""
    yaml_file = tmp_path / "banana.yaml"
    yaml_file.write_text(
        f"likelihood:\n  nuts_likelihoods.Banana: {{python_path: {TESTS}}}\n"
        "params:\n  x: {prior: {min: -8, max: 8}, ref: {dist: norm, loc: 0, scale: 0.3}}\n"
        "  y: {prior: {min: -10, max: 40}, ref: {dist: norm, loc: 0, scale: 0.3}}\n"
        f"sampler:\n  {SAMPLER}: {{chains: 1, warmup: 100, output_every: 20, max_samples: 100000, "
        "Rminus1_stop: 1.0e-9, seed: 3}\n"
        f"output: {tmp_path / 'out' / 'ban'}\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(TESTS), TESTS]))
    chain = tmp_path / "out" / "ban.1.txt"
    process = subprocess.Popen([sys.executable, "-m", "cobaya", "run", str(yaml_file)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            if chain.exists() and len(np.loadtxt(chain, ndmin=2)) >= 60:
                break
            time.sleep(0.5)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    done = len(np.loadtxt(chain, ndmin=2))
    assert done >= 60
    text = yaml_file.read_text().replace("max_samples: 100000", f"max_samples: {done + 40}")
    yaml_file.write_text(text)
    subprocess.run([sys.executable, "-m", "cobaya", "run", str(yaml_file), "--resume"], env=env, check=True,
                   capture_output=True, timeout=300)
    after = np.loadtxt(chain, ndmin=2)
    assert len(after) == done + 40


@pytest.mark.slow
def test_mpirun_two_processes(tmp_path):
    """mpirun -n 2 cobaya-run: one chain per process, R-1 across them, both files written."""
    if shutil.which("mpirun") is None:
        pytest.skip("mpirun not available")
    pytest.importorskip("mpi4py")
    yaml_file = tmp_path / "gauss.yaml"
    yaml_file.write_text(
        f"likelihood:\n  nuts_likelihoods.Banana: {{python_path: {TESTS}}}\n"
        "params:\n  x: {prior: {min: -8, max: 8}, ref: {dist: norm, loc: 0, scale: 0.3}}\n"
        "  y: {prior: {min: -10, max: 40}, ref: {dist: norm, loc: 0, scale: 0.3}}\n"
        f"sampler:\n  {SAMPLER}: {{chains: 2, warmup: 100, output_every: 50, max_samples: 100, seed: 3}}\n"
        f"output: {tmp_path / 'out' / 'ban'}\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(TESTS), TESTS]))
    result = subprocess.run(["mpirun", "-n", "2", sys.executable, "-m", "cobaya", "run", str(yaml_file)],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for i in (1, 2):
        assert len(np.loadtxt(tmp_path / "out" / f"ban.{i}.txt", ndmin=2)) == 100
    assert "[1 : " in result.stdout + result.stderr  # the second process ran
    first, second = (np.loadtxt(tmp_path / "out" / f"ban.{i}.txt") for i in (1, 2))
    assert not np.allclose(first[:, 2:4], second[:, 2:4])


# ---- bad input --------------------------------------------------------------------------


def _bad(info, match):
    with pytest.raises(LoggedError, match=match):
        run(info)


def test_unknown_option():
    info = _banana_info(max_samples=10)
    info["sampler"][SAMPLER]["n_chains"] = 3
    _bad(info, "n_chains")


@pytest.mark.parametrize("option, value, match", [
    ("chains", 0, "chains"), ("target_accept", 1.5, "target_accept"), ("max_samples", -1, "max_samples"),
    ("fast_path", "yes", "fast_path"), ("degeneracy_param", "sigma8", "one of the sampled parameters"),
    ("degeneracy_degree", 4, "degeneracy_degree"),
])
def test_invalid_option_values(option, value, match):
    _bad(_banana_info(**{option: value}), match)


def test_no_gradient_anywhere_is_refused_unless_finite_differences():
    info = _banana_info(max_samples=20, output_every=20, warmup=50, max_tree_depth=4)
    info["likelihood"] = {"nograd": nl.NoGradient}
    _bad(info, "analytic gradient.*finite_differences")
    info["sampler"][SAMPLER]["finite_differences"] = True
    _, sampler = run(info)
    assert all(len(c) == 20 for c in sampler.products()["sample"])


def test_non_positive_definite_covmat():
    _bad(_banana_info(covmat=[[1.0, 2.0], [2.0, 1.0]], covmat_params=["x", "y"]), "not positive definite")


def test_zero_posterior_start():
    info = _banana_info()
    info["likelihood"] = {"nograd": {"external": nl.NoGradient, "zero_above": -1.0}}
    info["sampler"][SAMPLER]["finite_differences"] = True
    info["sampler"][SAMPLER]["max_tries"] = 5
    _bad(info, "no starting point with non-zero posterior")


def test_fast_path_required_but_not_available():
    _bad(_banana_info(fast_path=True), "not pure JAX")
