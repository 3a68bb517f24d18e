"""Benchmark: effective samples per second, cobaya_szlite.NUTS vs Cobaya's mcmc.

    python benchmarks/bench_sampler.py [--yaml yaml/nuts_mock.yaml] [--seed 1] [--nuts-max-samples 1000]
                                       [--json out.json]

Runs both samplers on the model of the YAML (its sampler block is replaced; theory,
likelihood and params kept) in one process each, to the same stopping rule
(Rminus1_stop 0.01, Rminus1_cl_stop 0.2, as yaml/mcmc_mock.yaml):

- mcmc with the YAML's covmat as its initial proposal (it keeps learning it), as
  yaml/mcmc_mock.yaml runs it; one chain (R-1 across its quarters);
- NUTS with its options from the YAML (default: 4 chains advanced together on the fast path),
  stopped at ``--nuts-max-samples`` per chain if R-1 has not stopped it before (the table
  says whether each run converged; ESS per second is a rate either way).

For each it prints the wall time of ``cobaya.run.run`` (everything a user waits for: model
set-up, JAX compilation, warm-up or burn-in, sampling), the number of samples kept, the
minimum over the sampled parameters of the effective sample size (the same estimator for
both: `cobaya_szlite.convergence.effective_sample_size`; mcmc's weighted chain is expanded
into its Markov steps, and its first 30% dropped as burn-in), that minimum per second, and
the posterior means and standard deviations (with the difference NUTS - mcmc in units of
mcmc's sigma).
"""

import argparse
import copy
import json
import os
import tempfile
import time

import numpy as np
from cobaya.run import run
from cobaya.yaml import yaml_load_file

from cobaya_szlite.convergence import effective_sample_size

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
#: Fraction of mcmc's chain dropped as burn-in (as in docs/usage.md).
BURN_IN = 0.3
STOP = {"Rminus1_stop": 0.01, "Rminus1_cl_stop": 0.2}


def _mcmc_block(nuts: dict, seed: int) -> dict:
    block = {"seed": seed, "output_every": "10s", **STOP}
    for key in ("covmat", "covmat_params"):
        if nuts.get(key) is not None:
            block[key] = nuts[key]
    return {"mcmc": block}


def _expanded(collection, names: list[str]) -> np.ndarray:
    """The Markov steps of a weighted mcmc chain (integer weights repeated), burn-in dropped."""
    values = collection[names].to_numpy(dtype=float)
    weights = collection["weight"].to_numpy().astype(int)
    steps = np.repeat(values, weights, axis=0)
    return steps[int(BURN_IN * len(steps)):]


def run_sampler(info: dict, which: str) -> dict:
    """Run one sampler; wall time, samples kept, ESS and moments of the sampled params."""
    info = copy.deepcopy(info)
    with tempfile.TemporaryDirectory() as folder:
        info["output"] = os.path.join(folder, which)
        start = time.time()
        _, sampler = run(info)
        wall = time.time() - start
    names = list(sampler.model.parameterization.sampled_params())
    if which == "mcmc":
        chains = [_expanded(sampler.products()["sample"], names)]
    else:
        chains = [c[names].to_numpy(dtype=float) for c in sampler.products()["sample"]]
    ess = effective_sample_size(chains)
    pooled = np.concatenate(chains)
    return {"sampler": which, "wall_s": wall, "converged": bool(sampler.converged), "samples": len(pooled),
            "ess": dict(zip(names, ess.tolist())),
            "min_ess": float(ess.min()), "min_ess_per_s": float(ess.min() / wall),
            "mean": dict(zip(names, pooled.mean(0).tolist())), "std": dict(zip(names, pooled.std(0, ddof=1).tolist()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--yaml", default=os.path.join(ROOT, "yaml", "nuts_mock.yaml"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nuts-max-samples", type=int, default=1000)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    info = yaml_load_file(args.yaml)
    nuts = dict(info["sampler"]["cobaya_szlite.NUTS"])
    info.update({"force": True, "debug": False})
    results = []
    for which, block in [("mcmc", _mcmc_block(nuts, args.seed)),
                         ("NUTS", {"cobaya_szlite.NUTS": {**nuts, **STOP, "seed": args.seed,
                                           "max_samples": args.nuts_max_samples}})]:
        results.append(run_sampler({**info, "sampler": block}, which))
    mcmc, hmc = results
    print("| sampler | wall time | converged | samples kept | min ESS | min ESS per second |\n"
          "|---|---:|---|---:|---:|---:|")
    for r in results:
        print(f"| {r['sampler']} | {r['wall_s']:.0f} s | {'yes' if r['converged'] else 'no'} | {r['samples']} "
              f"| {r['min_ess']:.0f} | {r['min_ess_per_s']:.2f} |")
    print(f"\nNUTS / mcmc, min ESS per second: {hmc['min_ess_per_s'] / mcmc['min_ess_per_s']:.2f}\n")
    print("| param | mcmc mean +- sd | NUTS mean +- sd | (NUTS - mcmc) / sd_mcmc | sd ratio |\n|---|---|---|---:|---:|")
    for name in mcmc["mean"]:
        m, s, m2, s2 = mcmc["mean"][name], mcmc["std"][name], hmc["mean"][name], hmc["std"][name]
        print(f"| `{name}` | {m:.5g} +- {s:.3g} | {m2:.5g} +- {s2:.3g} | {(m2 - m) / s:+.2f} | {s2 / s:.3f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(results, stream, indent=1)


if __name__ == "__main__":
    main()
