"""Benchmark: Cobaya minimize (BOBYQA, scipy finite differences) vs GradMinimize.

    python benchmarks/bench_minimize.py [--problem mock3|mock5|planck] [--starts 5]
    python benchmarks/bench_minimize.py --yaml some.yaml

Runs each minimizer from the same random starts (seeds 1..starts; one start per run,
best_of: 1, no output) on the same YAML model, after one warm-up run per minimizer (JAX
compilation excluded), and prints the median over starts of: posterior evaluations
(distinct points the theory computed), gradient evaluations (JAX Jacobians of Cl_sz),
wall time of the minimizer (its initialize + run; model construction excluded), the final
-log posterior, and how many starts ended within 0.01 of the best minimum any run found.
BOBYQA runs with Cobaya's default stopping (rhoend 0.05) and tightened (smaller rhoend):
the speed-up is quoted against the cheapest BOBYQA row whose every start reaches that
equal minimum (within 0.01).

Problems (the sampler block of the YAML is replaced, everything else is kept):
  mock3   yaml/minimize_grad.yaml: packaged noisy mock; sigma8, omega_cdm (Gaussian prior), B
  mock5   the same plus H0 (uniform 60-75) and n_s (Gaussian prior, Planck-like width)
  planck  yaml/planck2015_minimize.yaml: Planck 2015 y-map; sigma8, omega_cdm, H0,
          A_CIB, A_RS, A_IR; with trispectrum: reference (the fixed published
          trispectrum, as in Bolliet et al. 2018) so that every minimizer can be run from
          several starts in minutes (`--trispectrum varying` keeps the YAML's choice).
"""

import argparse
import copy
import os
import time

import numpy as np
from cobaya.run import run
from cobaya.samplers.minimize import Minimize
from cobaya.yaml import yaml_load_file

import cobaya_szlite.theory as theory_module
from cobaya_szlite.minimize import GradMinimize

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
COUNTS = {"posterior": 0, "gradient": 0, "time": 0.0}
#: Agreement with the best minimum found that counts as "the same minimum".
EQUAL = 0.01
N_SAMPLED = [0]


def _instrument():
    """Count SZTheory computations and Jacobians; time the samplers' initialize + run."""
    calculate, grad = theory_module.SZTheory.calculate, theory_module.SZTheory.get_Cl_sz_grad

    def counted_calculate(self, state, *args, **kwargs):
        COUNTS["posterior"] += 1
        return calculate(self, state, *args, **kwargs)

    def counted_grad(self):
        COUNTS["gradient"] += "Cl_sz_grad" not in self.current_state
        return grad(self)

    theory_module.SZTheory.calculate = counted_calculate
    theory_module.SZTheory.get_Cl_sz_grad = counted_grad

    def timed(method):
        def wrapper(self, *args, **kwargs):
            start = time.perf_counter()
            try:
                return method(self, *args, **kwargs)
            finally:
                COUNTS["time"] += time.perf_counter() - start
        return wrapper

    for cls in (Minimize, GradMinimize):
        cls.initialize = timed(cls.initialize)
        cls.run = timed(cls.run)


def samplers(rhoends):
    rows = {}
    for rhoend in rhoends:
        default = " (default)" if rhoend == 0.05 else ""
        label = f"Cobaya minimize, BOBYQA, rhoend {rhoend:g}{default}"
        rows[label] = {"minimize": {"method": "bobyqa", "best_of": 1,
                                    "override_bobyqa": {"rhoend": rhoend}}}
    rows["Cobaya minimize, scipy (FD)"] = {"minimize": {"method": "scipy", "best_of": 1}}
    rows["GradMinimize (L-BFGS-B)"] = {"cobaya_szlite.GradMinimize": {"best_of": 1}}
    return rows


def problem_info(args):
    if args.yaml:
        return yaml_load_file(args.yaml), args.yaml
    if args.problem in ("mock3", "mock5"):
        path = os.path.join(ROOT, "yaml", "minimize_grad.yaml")
        info = yaml_load_file(path)
        if args.problem == "mock5":
            info["params"]["H0"] = {"prior": {"min": 60, "max": 75},
                                    "ref": {"dist": "norm", "loc": 67.66, "scale": 1.0},
                                    "proposal": 0.5, "latex": "H_0"}
            info["params"]["n_s"] = {"prior": {"dist": "norm", "loc": 0.9665, "scale": 0.0038},
                                     "ref": {"dist": "norm", "loc": 0.9665, "scale": 0.003},
                                     "proposal": 0.003, "latex": "n_s"}
            path += " + H0, n_s sampled"
        return info, path
    path = os.path.join(ROOT, "yaml", "planck2015_minimize.yaml")
    info = yaml_load_file(path)
    like = info["likelihood"]["cobaya_szlite.Planck2015TSZ"]
    like["data_folder"] = args.data_folder
    if args.trispectrum:
        like["trispectrum"] = args.trispectrum
        path += f" with trispectrum: {args.trispectrum}"
    return info, path


def run_once(info, sampler, seed):
    info = copy.deepcopy(info)
    name = next(iter(sampler))
    info["sampler"] = {name: {**sampler[name], "seed": seed}}
    COUNTS.update(posterior=0, gradient=0, time=0.0)
    _, result = run(info)
    minimum = result.products()["minimum"]
    N_SAMPLED[0] = len(result.model.parameterization.sampled_params())
    return COUNTS["posterior"], COUNTS["gradient"], COUNTS["time"], float(minimum["minuslogpost"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=["mock3", "mock5", "planck"], default="mock3")
    parser.add_argument("--yaml", default=None, help="any YAML (overrides --problem)")
    parser.add_argument("--trispectrum", default="reference",
                        help="planck: trispectrum option ('' keeps the YAML's)")
    parser.add_argument("--data-folder", default=os.environ.get("COBAYA_SZLITE_PLANCK2015_DATA"),
                        help="Planck 2015 tSZ files for --problem planck (default: "
                        "$COBAYA_SZLITE_PLANCK2015_DATA; unset: the cobaya-install folder, "
                        "which needs --packages-path)")
    parser.add_argument("--packages-path", default=None, help="Cobaya packages path")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--rhoend", type=float, nargs="+", default=[0.05, 0.01, 0.003, 1e-3])
    args = parser.parse_args()
    info, label_yaml = problem_info(args)
    info.pop("output", None)
    if args.packages_path:
        info["packages_path"] = args.packages_path
    info["debug"] = False
    info["stop_at_error"] = True
    _instrument()
    rows = []
    for label, sampler in samplers(args.rhoend).items():
        run_once(info, sampler, 0)  # warm-up: compile the engine (and its Jacobian)
        results = np.array([run_once(info, sampler, seed) for seed in range(1, args.starts + 1)])
        rows.append((label, results))
    best = min(results[:, 3].min() for _, results in rows)
    n_params = N_SAMPLED[0]
    print(f"\n{label_yaml}: {n_params} sampled params; median over {args.starts} random "
          f"starts from `ref`; best minimum found: {best:.5f}\n")
    print("| minimizer | posterior evals | gradient evals | wall time [s] | -log posterior "
          f"(median) | -log posterior (worst) | starts within {EQUAL} of best |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    medians = {}
    for label, results in rows:
        median = np.median(results, axis=0)
        medians[label] = (median, bool(np.all(results[:, 3] <= best + EQUAL)))
        hits = int(np.sum(results[:, 3] <= best + EQUAL))
        print(f"| {label} | {median[0]:.0f} | {median[1]:.0f} | {median[2]:.3f} | "
              f"{median[3]:.5f} | {results[:, 3].max():.5f} | {hits}/{len(results)} |")
    ours, ours_equal = medians["GradMinimize (L-BFGS-B)"]
    equal_bobyqa = [(label, m) for label, (m, ok) in medians.items() if "BOBYQA" in label and ok]
    if not equal_bobyqa:
        print("\nNo BOBYQA setting reached the best minimum within "
              f"{EQUAL} from every start: try smaller --rhoend.")
        return
    label, base = min(equal_bobyqa, key=lambda item: item[1][2])
    print(f"\nGradMinimize ({'all' if ours_equal else 'NOT all'} starts at the best minimum) vs "
          f"{label}: {base[0] / ours[0]:.1f}x fewer posterior evaluations, "
          f"{base[2] / ours[2]:.1f}x less wall time.")


if __name__ == "__main__":
    main()
