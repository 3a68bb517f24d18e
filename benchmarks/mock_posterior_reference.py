"""Reference posterior moments of yaml/nuts_mock.yaml from a long Cobaya mcmc run.

    python benchmarks/mock_posterior_reference.py [--rminus1 0.002] [--seed 1]

Runs Cobaya's mcmc (one chain, the YAML's covmat as its initial proposal) on the model of
yaml/nuts_mock.yaml (the packaged noiseless mock) until R-1 < ``--rminus1``, drops 30%
burn-in, and prints each sampled parameter's mean and standard deviation with the
effective sample size and the Monte Carlo error of the mean in units of sigma
(1 / sqrt(ESS)). tests/test_nuts.py compares NUTS on the same model with these numbers.
"""

import argparse
import os
import tempfile

import numpy as np
from cobaya.run import run
from cobaya.yaml import yaml_load_file

from cobaya_szlite.convergence import effective_sample_size

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BURN_IN = 0.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rminus1", type=float, default=0.002)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    info = yaml_load_file(os.path.join(ROOT, "yaml", "nuts_mock.yaml"))
    nuts = info["sampler"]["cobaya_szlite.NUTS"]
    info["sampler"] = {"mcmc": {"Rminus1_stop": args.rminus1, "Rminus1_cl_stop": 0.05, "seed": args.seed,
                                "covmat": nuts["covmat"], "covmat_params": nuts["covmat_params"]}}
    with tempfile.TemporaryDirectory() as folder:
        info.update(output=os.path.join(folder, "mcmc"), force=True)
        _, sampler = run(info)
    names = list(sampler.model.parameterization.sampled_params())
    collection = sampler.products()["sample"]
    steps = np.repeat(collection[names].to_numpy(dtype=float),
                      collection["weight"].to_numpy().astype(int), axis=0)
    steps = steps[int(BURN_IN * len(steps)):]
    ess = effective_sample_size([steps])
    print("| param | mean | sd | ESS | MC error of the mean / sd |\n|---|---:|---:|---:|---:|")
    for name, mean, sd, n in zip(names, steps.mean(0), steps.std(0, ddof=1), ess):
        print(f"| `{name}` | {mean:.6g} | {sd:.5g} | {n:.0f} | {1 / np.sqrt(n):.3f} |")


if __name__ == "__main__":
    main()
