"""Benchmark: effective samples per second, cobaya_szlite.NUTS vs Cobaya's mcmc.

    python benchmarks/bench_sampler.py [--yaml yaml/nuts_mock.yaml] [--seed 1]
        [--nuts-max-samples N] [--nuts key=value ...] [-p PACKAGES]
        [--keep FOLDER] [--plot FILE.png] [--json out.json] [--cost]

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
``--plot`` draws the two posteriors over each other with getdist (dropping 30% of mcmc's
rows, getdist's ``ignore_rows``). ``--cost`` only times, for the fast path of the model,
ln P and ln P with its gradient (jitted, median of 30 warm calls at a ``ref`` draw) and
Cobaya's ``model.logpost`` (what mcmc pays per step that recomputes the theory).
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


def cost(info: dict, repeats: int = 30) -> None:
    """Print the warm cost of ln P, of ln P with its gradient, and of Cobaya's logpost."""
    import jax
    from cobaya.model import get_model

    from cobaya_szlite.jax_posterior import pure_jax_logpost

    info = {k: v for k, v in info.items() if k not in ("sampler", "output", "force")}
    model = get_model(info)
    logpost, reason = pure_jax_logpost(model)
    if logpost is None:
        raise SystemExit(f"no pure-JAX posterior: {reason}")
    x = np.asarray(model.prior.reference(random_state=1), dtype=float)

    def median_ms(function, points):
        function(points[0])
        times = []
        for point in points[1:]:
            start = time.perf_counter()
            jax.block_until_ready(function(point))
            times.append(time.perf_counter() - start)
        return 1e3 * float(np.median(times))

    same = [x] * (repeats + 1)
    moved = [x * (1 + 1e-9 * i) for i in range(repeats + 1)]  # new points: no Cobaya caching
    value = median_ms(jax.jit(logpost), same)
    both = median_ms(jax.jit(jax.value_and_grad(logpost)), same)
    cobaya = median_ms(model.logpost, moved)
    print("| ln P | ln P + gradient | Cobaya model.logpost |\n|---:|---:|---:|\n"
          f"| {value:.2f} ms | {both:.2f} ms | {cobaya:.2f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--yaml", default=os.path.join(ROOT, "yaml", "nuts_mock.yaml"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--nuts-max-samples", type=int, default=1000)
    parser.add_argument("--nuts", nargs="*", default=[], metavar="KEY=VALUE",
                        help="NUTS options overriding the YAML's (values in YAML syntax)")
    parser.add_argument("-p", "--packages-path", help="as cobaya-run -p (for data installed by cobaya-install)")
    parser.add_argument("--keep", help="write both runs' chains into this folder (default: a temporary one)")
    parser.add_argument("--plot", help="getdist triangle plot of both posteriors to this file")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--cost", action="store_true", help="only time ln P, its gradient and Cobaya's logpost")
    args = parser.parse_args()
    info = yaml_load_file(args.yaml)
    stop = stopping_rule(info["sampler"])
    if args.packages_path:
        info["packages_path"] = args.packages_path
    if args.cost:
        cost(info)
        return
    nuts = dict(info["sampler"].get(NUTS_NAME) or {})
    given = next(iter(info["sampler"].values())) or {}  # the YAML's own sampler (either kind)
    nuts.update({k: yaml_load(v) for k, v in (item.split("=", 1) for item in args.nuts)})
    mcmc = {"seed": args.seed, "output_every": "10s", **stop,
            **{k: given[k] for k in ("covmat", "covmat_params") if given.get(k) is not None}}
    info.update({"force": True, "debug": False})
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
