"""Short cobaya.run calls: chains in getdist, resuming, unphysical points while sampling."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from cobaya.run import run
from cobaya.yaml import yaml_dump, yaml_load_file
from getdist import loadMCSamples

from cobaya_fixtures import YAML_DIR, load_yaml, simple_info

SAMPLED = ["sigma8", "omega_cdm", "B"]
LABELS = {
    "sigma8": r"\sigma_8",
    "omega_cdm": r"\omega_\mathrm{cdm}",
    "B": "B",
    "Omega_m": r"\Omega_\mathrm{m}",
    "F_sz": r"F_\mathrm{SZ}",
}


def _mcmc_info(prefix, max_samples, **sampler_options):
    info = load_yaml("mcmc_mock.yaml")
    info["sampler"]["mcmc"].update(
        {"max_samples": max_samples, "seed": 1, "max_tries": np.inf, **sampler_options}
    )
    info["output"] = str(prefix)
    info["stop_at_error"] = True
    return info


def _chain_rows(prefix):
    return np.loadtxt(f"{prefix}.1.txt", ndmin=2)


def test_short_mcmc_chains_open_in_getdist(tmp_path):
    prefix = tmp_path / "chains" / "mcmc_mock"
    updated, sampler = run(_mcmc_info(prefix, 20))
    samples = loadMCSamples(str(prefix))
    names = samples.getParamNames()
    for name, label in LABELS.items():
        assert names.parWithName(name) is not None, name
        assert names.parWithName(name).label == label
    assert [p.name for p in names.names if not p.isDerived][: len(SAMPLED)] == SAMPLED
    assert samples.numrows >= 1 and np.all(np.isfinite(samples.samples))
    assert int(np.sum(samples.weights)) >= 1
    products = sampler.products()["sample"]
    assert np.all(np.isfinite(products[SAMPLED + ["Omega_m", "F_sz"]].to_numpy()))


def test_resume_loses_no_accepted_sample(tmp_path):
    prefix = tmp_path / "resume" / "mcmc_mock"
    run(_mcmc_info(prefix, 40))
    first = _chain_rows(prefix)
    assert len(first) >= 10
    run(_mcmc_info(prefix, 80), resume=True)
    second = _chain_rows(prefix)
    assert len(second) > len(first)
    # every sample written before the interruption is still there, unchanged,
    # apart from the weight of the last one, which may only have grown
    np.testing.assert_array_equal(second[: len(first) - 1], first[:-1])
    np.testing.assert_array_equal(second[len(first) - 1, 1:], first[-1, 1:])
    assert second[len(first) - 1, 0] >= first[-1, 0]


@pytest.mark.slow
def test_unphysical_points_while_sampling(tmp_path):
    params = {
        # wide priors and proposals: many proposed points have sigma8 <= 0 or beta <= gamma
        "sigma8": {"prior": {"min": -1.0, "max": 1.5}, "ref": 0.81, "proposal": 0.5},
        "betaGNFW": {"prior": {"min": 0.0, "max": 8.0}, "ref": 5.48, "proposal": 3.0},
        "gammaGNFW": {"prior": {"min": 0.0, "max": 1.0}, "ref": 0.33, "proposal": 0.5},
    }
    info = simple_info(params=params)
    info["sampler"] = {"mcmc": {"max_samples": 15, "seed": 2, "learn_proposal": False,
                                "burn_in": 0, "max_tries": 10000}}
    info["output"] = str(tmp_path / "bad" / "run")
    import cobaya_szlite.theory as theory_module

    calls = []
    original = theory_module.SZTheory.calculate

    def spy(self, state, want_derived=True, **params_values_dict):
        result = original(self, state, want_derived, **params_values_dict)
        calls.append((params_values_dict["sigma8"], result))
        return result

    theory_module.SZTheory.calculate = spy
    try:
        run(info)
    finally:
        theory_module.SZTheory.calculate = original
    assert any(result is False for _, result in calls), "no unphysical point was proposed"
    assert all(result is False for sigma8, result in calls if sigma8 <= 0)
    rows = _chain_rows(tmp_path / "bad" / "run")
    assert len(rows) >= 1 and np.all(np.isfinite(rows))
    samples = loadMCSamples(str(tmp_path / "bad" / "run"))
    assert np.all(samples["sigma8"] > 0)
    assert np.all(samples["betaGNFW"] > samples["gammaGNFW"])


def test_quickstart_runs():
    updated, sampler = run(load_yaml("quickstart.yaml"))
    assert 5 < sampler.products()["sample"]["chi2"].iloc[0] < 40  # noisy mock, 20 bins


@pytest.mark.slow
def test_interrupted_shipped_mcmc_yaml_resumes(tmp_path):
    """`cobaya-run` on yaml/mcmc_mock.yaml as shipped (only `output` moved into tmp),
    interrupted (SIGINT) 4 s after sampling starts: the chain on disk has rows (its
    `output_every` is short enough); `--resume` keeps every row written before the
    interruption byte for byte (the last one's weight may grow) and adds more.
    Bounded: about 30 s on 2 cores (two start-ups + compilations)."""
    prefix = tmp_path / "killed" / "mcmc_mock"
    info = yaml_load_file(os.path.join(YAML_DIR, "mcmc_mock.yaml"))
    info["output"] = str(prefix)
    input_file = tmp_path / "mcmc_mock.yaml"
    input_file.write_text(yaml_dump(info))
    executable = os.path.join(os.path.dirname(sys.executable), "cobaya-run")
    chain = f"{prefix}.1.txt"
    log_path = tmp_path / "run.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([executable, str(input_file)], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 45
            while time.time() < deadline and "Sampling!" not in log_path.read_text():
                assert process.poll() is None, log_path.read_text()[-3000:]
                time.sleep(0.2)
            assert "Sampling!" in log_path.read_text(), "sampling did not start in 45 s"
            time.sleep(4.0)
            assert process.poll() is None, "the run ended before it was interrupted"
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert os.path.exists(chain), "no chain written in 4 s of sampling: output_every too long"
    before = pathlib.Path(chain).read_bytes().splitlines(keepends=True)
    rows = [line for line in before if not line.startswith(b"#")]
    assert len(rows) >= 1, "no sample written in 4 s of sampling: output_every too long"
    info["sampler"]["mcmc"]["max_samples"] = len(rows) + 20
    input_file.write_text(yaml_dump(info))
    result = subprocess.run([executable, str(input_file), "--resume"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    after = pathlib.Path(chain).read_bytes().splitlines(keepends=True)
    assert len(after) > len(before)
    assert after[: len(before) - 1] == before[:-1]
    last_before, last_after = np.array(before[-1].split(), float), np.array(after[len(before) - 1].split(), float)
    np.testing.assert_array_equal(last_after[1:], last_before[1:])
    assert last_after[0] >= last_before[0]
