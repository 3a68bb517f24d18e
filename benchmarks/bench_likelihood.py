"""Cost of the likelihood side through Cobaya: ln L and its gradient, this checkout against
another one (e.g. an earlier commit in a git worktree), each in its own process.

    python benchmarks/bench_likelihood.py [--other /path/to/other/checkout] [--planck FOLDER]

Per case it prints the median of repeats (warm) and the first call (cold, compilation
included) of:

- ``logp (fast)``: `model.loglikes` after a change of one foreground amplitude only (the
  theory is cached: what Cobaya's mcmc pays for a fast-parameter step);
- ``logp_gradient``: the likelihood's gradient at the current point (theory products cached);
- ``logp_fisher``: its Fisher matrix.

Cases: the packaged mock (`TSZBandpowers`, fixed covariance) and, with ``--planck``, Planck
2015 with ``trispectrum: varying``.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
PRECISION = {"n_z": 41, "n_m": 41, "n_x": 200, "n_k": 150}


def _cases(planck):
    cases = {"mock (fixed covariance)": ("cobaya_szlite.TSZBandpowers", {}, "A_fg", 1.0)}
    if planck:
        cases["Planck 2015 (varying)"] = ("cobaya_szlite.Planck2015TSZ",
                                         {"data_folder": planck, "trispectrum": "varying",
                                          "precision": PRECISION}, "A_CIB", 0.66)
    return cases


def measure(repo, planck, repeats):
    """The timings of ``repo`` (run inside a child process with ``repo`` first on the path)."""
    sys.path.insert(0, repo)
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    from cobaya.model import get_model

    out = {}
    for label, (like, options, amplitude, value) in _cases(planck).items():
        params = {"omega_b": 0.02242, "omega_cdm": 0.11933, "H0": 67.66, "n_s": 0.9665,
                  "sigma8": {"prior": {"min": 0.6, "max": 1.0}, "ref": 0.8}}
        if like.endswith("TSZBandpowers"):
            options = {"foregrounds": {"A_fg": {"file": "bandpowers.txt", "column": 2}}}
            params[amplitude] = {"prior": {"min": 0, "max": 2}}
        else:
            params.update({"A_RS": 0.1, "A_IR": 2.0})
            params[amplitude] = {"prior": {"min": 0, "max": 5}}
        model = get_model({"theory": {"cobaya_szlite.SZTheory": {"precision": PRECISION}},
                           "likelihood": {like: options}, "params": params})
        component = model.likelihood[like]
        model.add_requirements(component.get_gradient_requirements())
        point = {"sigma8": 0.8, amplitude: value}
        model.loglikes(point)
        inputs = model.parameterization.to_input(point)
        rows = {}
        for name, call in (
            ("logp (fast)", lambda k, m=model, a=amplitude, v=value: m.loglikes(
                {"sigma8": 0.8, a: v + 1e-3 * (k % 7 + 1)})),
            ("logp_gradient", lambda k, c=component, i=inputs: c.logp_gradient(**i)),
            ("logp_fisher", lambda k, c=component, i=inputs: c.logp_fisher(**i)),
        ):
            start = time.perf_counter()
            call(0)
            cold = time.perf_counter() - start
            times = []
            for k in range(repeats):
                start = time.perf_counter()
                call(k + 1)
                times.append(time.perf_counter() - start)
            rows[name] = (cold, float(np.median(times)))
        out[label] = rows
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", help="another checkout to compare with (run side by side)")
    parser.add_argument("--planck", default=os.environ.get("COBAYA_SZLITE_PLANCK2015_DATA"),
                        help="Planck 2015 tSZ data folder (default: $COBAYA_SZLITE_PLANCK2015_DATA)")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.planck, args.repeats)))
        return
    repos = {"this checkout": REPO}
    if args.other:
        repos["other"] = os.path.abspath(args.other)
    results = {}
    for label, repo in repos.items():
        command = [sys.executable, os.path.abspath(__file__), "--child", repo, "--repeats", str(args.repeats)]
        if args.planck:
            command += ["--planck", args.planck]
        lines = subprocess.run(command, check=True, capture_output=True, text=True, cwd=repo).stdout.splitlines()
        results[label] = json.loads(lines[-1])
        commit = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        print(f"{label}: {repo} at commit {commit or '?'}")
    print(f"\n| case | call | {' | '.join(f'{r} warm [ms] | {r} cold [ms]' for r in results)} |"
          + (" ratio warm |" if len(results) == 2 else ""))
    print("|---|---|" + "---:|" * (2 * len(results) + (len(results) == 2)))
    first = next(iter(results.values()))
    for case, rows in first.items():
        for call in rows:
            cells = [results[r][case][call] for r in results]
            text = " | ".join(f"{1e3 * warm:.3f} | {1e3 * cold:.1f}" for cold, warm in cells)
            ratio = f" {cells[0][1] / cells[1][1]:.2f} |" if len(cells) == 2 else ""
            print(f"| {case} | {call} | {text} |{ratio}")


if __name__ == "__main__":
    main()
