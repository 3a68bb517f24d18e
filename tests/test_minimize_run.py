"""GradMinimize end to end: true minimum of the noiseless mock, Cobaya's minimize on the
noisy one, Fisher covmat vs finite-difference Hessian, mcmc with that covmat, start_from."""

import os

import numpy as np
import pytest
from cobaya.run import run
from getdist.types import BestFit

from cobaya_fixtures import LIKE, TRUTH, load_yaml

SAMPLER = "cobaya_szlite.GradMinimize"
SAMPLED = ["sigma8", "omega_cdm", "B"]


def _info(prefix, data_file, sampler=None, **options):
    info = load_yaml("minimize_grad.yaml")
    info["likelihood"][LIKE]["bandpowers_file"] = data_file
    info["sampler"] = sampler or {SAMPLER: {"best_of": 1, "seed": 11, **options}}
    info["output"] = str(prefix)
    info["stop_at_error"] = True
    return info


@pytest.fixture(scope="module")
def noiseless(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("gm") / "noiseless"
    _, sampler = run(_info(prefix, "bandpowers_noiseless.txt"))
    return prefix, sampler


def test_noiseless_minimum_is_the_truth(noiseless):
    prefix, sampler = noiseless
    products = sampler.products()
    minimum = products["minimum"]
    assert minimum["chi2"] < 1e-4
    sigma = np.sqrt(np.diag(products["covmat"]))
    for name, width in zip(products["covmat_params"], sigma):
        assert abs(minimum[name] - TRUTH[name]) < 1e-3 * width, name
    assert products["n_evals"] < 30 and products["n_grad_evals"] <= products["n_evals"]
    # the result object is minimize_with_fisher's, for the one start
    result = products["result_object"]
    assert result.nfev == products["n_evals"] and result.success
    np.testing.assert_array_equal(result.x, [minimum[p] for p in SAMPLED])
    assert result.fun == pytest.approx(minimum["minuslogpost"], abs=1e-10)
    np.testing.assert_array_equal(products["X0"], result.baseline)
    # the same files as Cobaya's minimize, readable by getdist
    assert os.path.exists(f"{prefix}.minimum.txt")
    best = BestFit(f"{prefix}.minimum")
    assert best.parWithName("sigma8").best_fit == pytest.approx(minimum["sigma8"], rel=1e-8)
    assert -best.logLike == pytest.approx(-minimum["minuslogpost"], abs=1e-6)
    with open(f"{prefix}.covmat", encoding="utf-8") as stream:
        header = stream.readline().lstrip("#").split()
    assert header == SAMPLED
    np.testing.assert_allclose(np.loadtxt(f"{prefix}.covmat"), products["covmat"], rtol=1e-12)


def test_fisher_covmat_matches_finite_difference_hessian(noiseless):
    """Central second differences of -ln P in coordinates y with x = x_min + A y.

    A (the covmat's Cholesky factor) only picks well-conditioned directions: along the
    sigma8-B degeneracy -ln P is far from quadratic beyond ~1e-2 of its width, so steps
    along the parameter axes would have to be tiny.
    """
    _, sampler = noiseless
    products = sampler.products()
    model = sampler.model
    x = np.array([products["minimum"][p] for p in SAMPLED])
    basis = np.linalg.cholesky(products["covmat"])
    step = 1e-3
    hessian_y = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            ei, ej = basis[:, i] * step, basis[:, j] * step
            hessian_y[i, j] = -(model.logpost(x + ei + ej) - model.logpost(x + ei - ej)
                                - model.logpost(x - ei + ej) + model.logpost(x - ei - ej)) / (
                4 * step**2)
    # H_x = A^-T H_y A^-1, so H_x^-1 = A H_y^-1 A^T
    inverse_hessian = basis @ np.linalg.inv(hessian_y) @ basis.T
    widths = np.sqrt(np.diag(inverse_hessian))
    np.testing.assert_allclose(np.diag(products["covmat"]), widths**2, rtol=1e-2)
    # every element to 1% of sigma_i sigma_j (correlations to 0.01)
    np.testing.assert_allclose(products["covmat"] / np.outer(widths, widths),
                               inverse_hessian / np.outer(widths, widths), rtol=0, atol=1e-2)


def test_mcmc_takes_the_covmat_and_start_from_its_chain(noiseless, tmp_path, caplog):
    prefix, _ = noiseless
    info = _info(tmp_path / "mcmc", "bandpowers_noiseless.txt", sampler={
        "mcmc": {"covmat": f"{prefix}.covmat", "max_samples": 10, "seed": 3,
                 "learn_proposal": False, "burn_in": 0}})
    _, mcmc = run(info)
    covmat = np.loadtxt(f"{prefix}.covmat")
    np.testing.assert_allclose(mcmc.proposer.get_covariance(), covmat, rtol=1e-6)
    _, again = run(_info(tmp_path / "from_chain", "bandpowers_noiseless.txt",
                         start_from=str(tmp_path / "mcmc")))
    assert "best point of chain" in caplog.text
    assert again.products()["minimum"]["chi2"] < 1e-4


def test_noisy_minimum_no_worse_than_cobaya_minimize(tmp_path):
    _, grad = run(_info(tmp_path / "grad", "bandpowers.txt", best_of=2))
    _, bobyqa = run(_info(tmp_path / "bobyqa", "bandpowers.txt",
                          sampler={"minimize": {"method": "bobyqa", "best_of": 2, "seed": 11}}))
    ours = grad.products()["minimum"]["minuslogpost"]
    cobaya = bobyqa.products()["minimum"]["minuslogpost"]
    assert ours <= cobaya + 0.01


def test_whitened_stage_short_of_the_minimum_is_not_accepted(tmp_path):
    """Without Fisher steps, the whitened L-BFGS-B stage alone stopped 1.19 above the
    minimum of -ln P on this mock (a "relative reduction" stop, reported as success);
    it is now followed by the box stage, which reaches the truth (chi^2 < 1e-4)."""
    _, sampler = run(_info(tmp_path / "no_steps", "bandpowers_noiseless.txt", fisher_steps=0))
    products = sampler.products()
    stages = [stage["coordinates"] for stage in products["result_object"].stages]
    assert stages == ["whitened", "box"]
    assert products["minimum"]["chi2"] < 1e-4
