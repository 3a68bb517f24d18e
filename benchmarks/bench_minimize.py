"""Benchmark: Cobaya minimize (BOBYQA, scipy finite differences) vs GradMinimize.

    python benchmarks/bench_minimize.py [--starts 5] [--yaml yaml/minimize_grad.yaml]

Runs each minimizer from the same random starts (seeds; one start per run, best_of: 1,
no output) on the YAML's model, after one warm-up run (JAX compilation excluded), and
prints the median over starts of: posterior evaluations (distinct points the theory
computed), gradient evaluations (JAX Jacobians of Cl_sz), wall time and the final
-log posterior (recomputed at the returned point).
"""

import argparse
import copy
import os
import time

import numpy as np
from cobaya.model import get_model
from cobaya.run import run
from cobaya.yaml import yaml_load_file

import cobaya_szlite.theory as theory_module

HERE = os.path.dirname(os.path.abspath(__file__))
COUNTS = {"posterior": 0, "gradient": 0}


def _count():
    """Count SZTheory computations and Jacobians (benchmark instrumentation only)."""
    calculate, grad = theory_module.SZTheory.calculate, theory_module.SZTheory.get_Cl_sz_grad

    def counted_calculate(self, state, *args, **kwargs):
        COUNTS["posterior"] += 1
        return calculate(self, state, *args, **kwargs)

    def counted_grad(self):
        COUNTS["gradient"] += "Cl_sz_grad" not in self.current_state
        return grad(self)

    theory_module.SZTheory.calculate = counted_calculate
    theory_module.SZTheory.get_Cl_sz_grad = counted_grad


SAMPLERS = {
    "Cobaya minimize, BOBYQA": {"minimize": {"method": "bobyqa", "best_of": 1}},
    "Cobaya minimize, scipy (FD)": {"minimize": {"method": "scipy", "best_of": 1}},
    "GradMinimize (L-BFGS-B)": {"cobaya_szlite.GradMinimize": {"best_of": 1}},
}


def run_once(info, sampler, seed):
    info = copy.deepcopy(info)
    name = next(iter(sampler))
    info["sampler"] = {name: {**sampler[name], "seed": seed}}
    COUNTS.update(posterior=0, gradient=0)
    start = time.perf_counter()
    _, result = run(info)
    wall = time.perf_counter() - start
    minimum = result.products()["minimum"]
    return COUNTS["posterior"], COUNTS["gradient"], wall, float(minimum["minuslogpost"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--yaml", default=os.path.join(HERE, "..", "yaml", "minimize_grad.yaml"))
    args = parser.parse_args()
    info = yaml_load_file(args.yaml)
    info.pop("output", None)
    info["debug"] = False
    info["stop_at_error"] = True
    _count()
    get_model(copy.deepcopy({k: v for k, v in info.items() if k != "sampler"}))
    rows = []
    for label, sampler in SAMPLERS.items():
        run_once(info, sampler, 0)  # warm-up: compile the engine (and its Jacobian)
        results = np.array([run_once(info, sampler, seed) for seed in range(1, args.starts + 1)])
        rows.append((label, np.median(results, axis=0), results[:, 3]))
    print(f"\n{args.yaml}: median over {args.starts} random starts from `ref`\n")
    print("| minimizer | posterior evals | gradient evals | wall time [s] | -log posterior "
          "(median) | -log posterior (worst) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, median, finals in rows:
        print(f"| {label} | {median[0]:.0f} | {median[1]:.0f} | {median[2]:.3f} | "
              f"{median[3]:.5f} | {finals.max():.5f} |")
    base = rows[0][1]
    ours = rows[-1][1]
    print(f"\nGradMinimize vs BOBYQA: {base[0] / ours[0]:.1f}x fewer posterior evaluations, "
          f"{base[2] / ours[2]:.1f}x less wall time.")


if __name__ == "__main__":
    main()
