"""Triangle plot (PNG) of a finished chain with the truth of the packaged mock marked.

    python docs/plot_triangle.py chains/mcmc_mock [--out docs/triangle_mcmc_mock.png]
                                 [--params sigma8 omega_cdm B F_sz] [--burn 0.3]

Prints mean, standard deviation and (mean - truth)/sigma for every plotted
parameter. The truth is read from cobaya_szlite/data/mock/truth.yaml (Omega_m, massive
neutrinos included, from its `derived` block; F_sz computed from it).
"""

import argparse
import os

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from getdist import loadMCSamples, plots  # noqa: E402

import yaml  # noqa: E402
from cobaya_szlite.parameters import f_sz  # noqa: E402

MOCK_TRUTH = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "cobaya_szlite", "data", "mock", "truth.yaml"
)


def truth_values(path=MOCK_TRUTH):
    """Input parameters of the mock plus the derived Omega_m (as written by the mock, massive
    neutrinos included) and F_sz."""
    with open(path, encoding="utf-8") as stream:
        truth = yaml.safe_load(stream)
    params = dict(truth["params"])
    params["Omega_m"] = float(truth["derived"]["Omega_m"])
    params["F_sz"] = f_sz(params["sigma8"], params["Omega_m"], params["B"], params["H0"])
    return params


def main():
    parser = argparse.ArgumentParser(description="getdist triangle plot with the mock truth marked")
    parser.add_argument("root", help="chain prefix, e.g. chains/mcmc_mock")
    parser.add_argument("--out", default=None, help="PNG file (default: <root>_triangle.png)")
    parser.add_argument("--params", nargs="+", default=None, help="parameters (default: sampled + F_sz)")
    parser.add_argument("--burn", type=float, default=0.3, help="fraction of each chain to drop")
    parser.add_argument("--truth", default=MOCK_TRUTH, help="truth.yaml of the mock")
    args = parser.parse_args()

    samples = loadMCSamples(args.root, settings={"ignore_rows": args.burn})
    names = samples.getParamNames()
    params = args.params or [p.name for p in names.names if not p.isDerived] + ["F_sz"]
    params = [p for p in params if names.parWithName(p) is not None]
    truth = truth_values(args.truth)

    plotter = plots.get_subplot_plotter(width_inch=2.2 * len(params))
    plotter.triangle_plot(
        samples,
        params,
        filled=True,
        markers={p: truth[p] for p in params if p in truth},
        marker_args={"color": "k", "ls": "--", "lw": 1},
        title_limit=1,
    )
    out = args.out or f"{args.root}_triangle.png"
    plotter.export(out)
    print(f"{'param':>10} {'mean':>10} {'sigma':>10} {'truth':>10} {'(mean-truth)/sigma':>19}")
    for p in params:
        mean, sigma = samples.mean(p), samples.std(p)
        shift = (mean - truth[p]) / sigma if p in truth else np.nan
        print(f"{p:>10} {mean:10.5g} {sigma:10.3g} {truth.get(p, np.nan):10.5g} {shift:19.2f}")
    print(f"Wrote {out}")


if __name__ == "__main__":
    main()
