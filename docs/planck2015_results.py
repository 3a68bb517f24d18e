"""Summarise the Planck 2015 tSZ runs for docs/planck2015.md and draw the triangle plot.

    python docs/planck2015_results.py [chains/planck2015_mcmc [chains/planck2015_mcmc_reference]]

Prints the marginalised constraints (getdist, 30% burn-in), and at the best sample of
each chain the pure chi^2 (without the log-determinant term of trispectrum: varying),
re-evaluated with the chain's own input yaml. Writes docs/triangle_planck2015.png.
"""

import os
import sys

import numpy as np
from cobaya.model import get_model
from cobaya.yaml import yaml_load_file
from getdist import loadMCSamples, plots

HERE = os.path.dirname(os.path.abspath(__file__))
PARAMS = ["F_sz", "sigma8", "Omega_m", "H0", "A_CIB", "A_RS", "A_IR"]


def summarise(root):
    samples = loadMCSamples(root, settings={"ignore_rows": 0.3})
    print(f"== {root}: {samples.numrows} samples after burn-in")
    for name in PARAMS:
        print("   ", samples.getInlineLatex(name, limit=1), "   (95%:", samples.getInlineLatex(name, limit=2), ")")
    best = int(np.argmin(samples.loglikes))
    point = {p.name: float(samples[p.name][best]) for p in samples.paramNames.names
             if p.name in ("sigma8", "omega_cdm", "H0", "A_CIB", "A_RS", "A_IR")}
    info = yaml_load_file(root + ".updated.yaml")
    info.pop("sampler", None)
    info.pop("output", None)
    model = get_model(info)
    model.loglikes(point)
    like = next(iter(model.likelihood.values()))
    cov = like.covariance()
    amplitudes = [point.get(n, 0.9033) for n in like._amplitudes]
    residual = like.data.d - like.model(model.provider.get_Cl_sz(), amplitudes)
    chi2 = float(residual @ np.linalg.solve(cov, residual))
    dof = len(residual) - len(point)
    print(f"    best sample {point}; F_sz = {samples['F_sz'][best]:.4f}")
    print(f"    chi2 = {chi2:.2f} for {len(residual)} bins - {len(point)} parameters = {dof} dof "
          f"(chi2/dof = {chi2 / dof:.2f})")
    return samples


def main():
    roots = sys.argv[1:] or ["chains/planck2015_mcmc", "chains/planck2015_mcmc_reference"]
    all_samples = [summarise(root) for root in roots if os.path.exists(root + ".updated.yaml")]
    labels = ["trispectrum: varying (engine)", "trispectrum: reference (published file)"]
    for s, label in zip(all_samples, labels):
        s.label = label
    g = plots.get_subplot_plotter(width_inch=9)
    g.triangle_plot(all_samples, ["F_sz", "sigma8", "Omega_m", "A_CIB", "A_RS", "A_IR"], filled=True)
    out = os.path.join(HERE, "triangle_planck2015.png")
    g.export(out)
    print("wrote", out)


if __name__ == "__main__":
    main()
