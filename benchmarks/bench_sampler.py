"""Benchmark: effective samples per second, cobaya_szlite.NUTS vs Cobaya's mcmc.

    python benchmarks/bench_sampler.py [--yaml yaml/nuts_mock.yaml] [--seed 1]
        [--nuts-max-samples N] [--nuts key=value ...] [--packages-path PACKAGES]
        [--keep FOLDER] [--plot FILE.png] [--json out.json]

Runs both samplers on the model of the YAML (its sampler block is replaced; theory,
likelihood and params kept), one after the other in this process, to the same stopping
rule: the YAML's own ``Rminus1_stop`` and ``Rminus1_cl_stop`` (of its mcmc or NUTS block;
0.01 and 0.2 where it gives none):

- mcmc with the YAML's covmat (if any) as its initial proposal, learning it during the run
  as Cobaya does; one chain (R-1 across its quarters); its fast/slow split of the
  parameters as Cobaya sets it up;
- NUTS with the options of the YAML's NUTS block (NUTS.yaml defaults otherwise), with
  ``--nuts key=value`` overrides, stopped at ``--nuts-max-samples`` per chain if R-1 has
  not stopped it before (the table says whether each run converged; ESS per second is a
  rate either way).

For each it prints the wall time of ``cobaya.run.run`` (everything a user waits for: model
set-up, JAX compilation, warm-up or burn-in, sampling), the samples kept, the minimum over
the sampled parameters of the effective sample size (the same estimator for both:
`cobaya_szlite.convergence.effective_sample_size`; mcmc's weighted chain is expanded into
its Markov steps and its first 30% dropped as burn-in; NUTS writes no warm-up), that
minimum per second, and the posterior means and standard deviations (NUTS - mcmc in units
of mcmc's sigma, with the Monte Carlo error of that difference from both ESS).
``--plot`` draws the two posteriors over each other with getdist.
"""

import argparse
import copy
import json
import os
import tempfile
import time

import numpy as np
from cobaya.run import run
from cobaya.yaml import yaml_load, yaml_load_file

from cobaya_szlite.convergence import effective_sample_size

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
#: Fraction of mcmc's chain dropped as burn-in (as in docs/usage.md).
BURN_IN = 0.3
NUTS_NAME = "cobaya_szlite.NUTS"


def stopping_rule(sampler_block: dict) -> dict:
    """The R-1 thresholds of the YAML's sampler (either kind)."""
    options = next(iter(sampler_block.values())) or {}
    return {"Rminus1_stop": options.get("Rminus1_stop", 0.01),
            "Rminus1_cl_stop": options.get("Rminus1_cl_stop", 0.2)}


def _expanded(collection, names: list[str]) -> np.ndarray:
    """The Markov steps of a weighted mcmc chain (integer weights repeated), burn-in dropped."""
    values = collection[names].to_numpy(dtype=float)
    weights = collection["weight"].to_numpy().astype(int)
    steps = np.repeat(values, weights, axis=0)
    return steps[int(BURN_IN * len(steps)):]


def run_sampler(info: dict, which: str, folder: str) -> dict:
    """Run one sampler; wall time, samples kept, ESS and moments of the sampled params."""
    info = copy.deepcopy(info)
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
    result = {"sampler": which, "wall_s": wall, "converged": bool(sampler.converged), "samples": len(pooled),
              "ess": dict(zip(names, ess.tolist())), "min_ess": float(ess.min()),
              "min_ess_per_s": float(ess.min() / wall), "output": info["output"],
              "mean": dict(zip(names, pooled.mean(0).tolist())),
              "std": dict(zip(names, pooled.std(0, ddof=1).tolist()))}
    if which == "NUTS" and sampler.progress:
        last = sampler.progress[-1]
        result.update(warmup_s=sampler.warmup_seconds, leapfrog_per_sample=last["leapfrog_per_sample"],
                      gradient_evaluations=last["gradient_evaluations"], Rminus1=last["Rminus1"])
    return result


def plot(results: list[dict], names: list[str], path: str) -> None:
    """getdist triangle plot of both posteriors (mcmc burn-in dropped)."""
    import getdist.plots
    from getdist import loadMCSamples

    samples = [loadMCSamples(r["output"], settings={"ignore_rows": BURN_IN if r["sampler"] == "mcmc" else 0})
               for r in results]
    for s, r in zip(samples, results):
        s.label = f"{r['sampler']} ({r['wall_s']:.0f} s, min ESS {r['min_ess']:.0f})"
    g = getdist.plots.get_subplot_plotter(width_inch=9)
    g.triangle_plot(samples, names, filled=[False, True], legend_loc="upper right")
    g.export(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--yaml", default=os.path.join(ROOT, "yaml", "nuts_mock.yaml"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nuts-max-samples", type=int, default=1000)
    parser.add_argument("--nuts", nargs="*", default=[], metavar="KEY=VALUE",
                        help="NUTS options overriding the YAML's (values in YAML syntax)")
    parser.add_argument("--packages-path", help="as cobaya-run -p (for data installed by cobaya-install)")
    parser.add_argument("--keep", help="write both runs' chains into this folder (default: a temporary one)")
    parser.add_argument("--plot", help="getdist triangle plot of both posteriors to this file")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    info = yaml_load_file(args.yaml)
    stop = stopping_rule(info["sampler"])
    nuts = dict(info["sampler"].get(NUTS_NAME) or {})
    nuts.update({k: yaml_load(v) for k, v in (item.split("=", 1) for item in args.nuts)})
    mcmc = {"seed": args.seed, "output_every": "10s", **stop,
            **{k: nuts[k] for k in ("covmat", "covmat_params") if nuts.get(k) is not None}}
    info.update({"force": True, "debug": False})
    if args.packages_path:
        info["packages_path"] = args.packages_path
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or scratch
        for which, block in [("mcmc", {"mcmc": mcmc}),
                             ("NUTS", {NUTS_NAME: {**nuts, **stop, "seed": args.seed,
                                                   "max_samples": args.nuts_max_samples}})]:
            results.append(run_sampler({**info, "sampler": block}, which, folder))
        names = list(results[0]["mean"])
        if args.plot:
            plot(results, names, args.plot)
    first, second = results
    print(f"\n{os.path.relpath(args.yaml, ROOT)}: stopping rule {stop}; NUTS options {nuts}\n")
    print("| sampler | wall time | converged | samples kept | min ESS | min ESS per second |\n"
          "|---|---:|---|---:|---:|---:|")
    for r in results:
        print(f"| {r['sampler']} | {r['wall_s']:.0f} s | {'yes' if r['converged'] else 'no'} | {r['samples']} "
              f"| {r['min_ess']:.0f} | {r['min_ess_per_s']:.2f} |")
    print(f"\nNUTS / mcmc, min ESS per second: {second['min_ess_per_s'] / first['min_ess_per_s']:.2f}")
    if "warmup_s" in second:
        print(f"NUTS: warm-up {second['warmup_s']:.0f} s, {second['leapfrog_per_sample']:.1f} leapfrog steps "
              f"per sample in the last block, {second['gradient_evaluations']} gradient evaluations after "
              f"the warm-up, final R-1 {second['Rminus1']:.4f}\n")
    print("| param | mcmc mean +- sd | NUTS mean +- sd | (NUTS - mcmc) / sd_mcmc | MC error of that "
          "| sd ratio |\n|---|---|---|---:|---:|---:|")
    for name in names:
        m, s, m2, s2 = first["mean"][name], first["std"][name], second["mean"][name], second["std"][name]
        error = np.sqrt(1 / first["ess"][name] + (s2 / s) ** 2 / second["ess"][name])
        print(f"| `{name}` | {m:.5g} +- {s:.3g} | {m2:.5g} +- {s2:.3g} | {(m2 - m) / s:+.3f} | {error:.3f} "
              f"| {s2 / s:.3f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(results, stream, indent=1)


if __name__ == "__main__":
    main()
