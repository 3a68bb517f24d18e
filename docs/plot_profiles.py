"""Make docs/profiles_cl.png: D_ell^yy of every pressure profile and mass function.

    python docs/plot_profiles.py [--out docs/profiles_cl.png]

Engine at the default cosmology (`CosmoParams()`) and default `Precision` (except B12, which
runs with the halo model at M200c). Profiles with Tinker08: A10 (default), A10 REXCESS,
Planck 2013 (presets of `gnfw_preset`), Battaglia et al. 2012 (`ProfileParamsB12()`);
mass functions with A10: Tinker10, Bocquet16 (Tinker08 is the default). The lower panel is
the ratio of each total D_ell = D^1h + D^2h to A10 + Tinker08. Overplotted: the packaged SPT
point (cobaya_szlite/data/spt2021_tsz) and, when the environment variable
COBAYA_SZLITE_PLANCK2015_DATA names a folder with the Planck 2015 files, the Planck 2015
y-map bandpowers (their foreground residuals not subtracted). Prints the table of
D_3000 quoted in docs/profiles.md.
"""

import argparse
import os
import sys

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)  # the engine needs float64

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import cobaya_szlite as sz  # noqa: E402
from cobaya_szlite.bandpowers import load_bandpowers  # noqa: E402

ELL = np.geomspace(10.0, 10000.0, 40)
ELL = np.union1d(ELL, [3000.0])
SPT_FOLDER = os.path.join(HERE, "..", "cobaya_szlite", "data", "spt2021_tsz")
PLANCK_ENV = "COBAYA_SZLITE_PLANCK2015_DATA"
PLANCK_FILE = "class_sz_SZ_and_fg_models.txt"

#: label -> (profile, HaloModel)
CASES = {
    "A10 + Tinker08 (default)": (sz.ProfileParamsA10(), sz.HaloModel()),
    "A10 REXCESS + Tinker08": (sz.gnfw_preset("a10_rexcess").profile, sz.HaloModel()),
    "Planck13 + Tinker08": (sz.gnfw_preset("planck13").profile, sz.HaloModel()),
    "B12 (M200c) + Tinker08": (sz.ProfileParamsB12(), sz.HaloModel(mass_definition="200c")),
    "A10 + Tinker10": (sz.ProfileParamsA10(), sz.HaloModel(mass_function="tinker10")),
    "A10 + Bocquet16": (sz.ProfileParamsA10(), sz.HaloModel(mass_function="bocquet16")),
}


def d_ell(profile, model: sz.HaloModel) -> tuple[np.ndarray, np.ndarray]:
    """(D^1h, D^2h) x 1e12 at ELL for the default cosmology."""
    c1, c2 = sz.cl_yy(sz.CosmoParams(), profile, ELL, model=model)
    factor = 1e12 * ELL * (ELL + 1) / (2 * np.pi)
    return factor * np.asarray(c1), factor * np.asarray(c2)


def print_b12_slopes(ell: np.ndarray) -> None:
    """Print d ln D_ell / d p for every B12 input at the two multipoles ``ell`` (forward mode)."""
    model = sz.HaloModel(mass_definition="200c")
    base = sz.ProfileParamsB12()

    def ln_d(profile):
        c1, c2 = sz.cl_yy(sz.CosmoParams(), profile, ell, model=model)
        return jax.numpy.log(c1 + c2)

    jac = jax.jacfwd(ln_d)(base)
    print(f"\nB12 at the default cosmology: d ln D_ell / d p at ell = {ell[0]:.0f}, {ell[1]:.0f}")
    for name in base._fields:
        d_lo, d_hi = np.asarray(getattr(jac, name))
        print(f"  {name:13s} {d_lo:+.3f} {d_hi:+.3f}   (difference {d_hi - d_lo:+.3f})")


def print_b12_slope_for_spt(ell_low: float, spt_d: float) -> None:
    """Print the alpha_m_P0 (with P0 rescaled to keep D at ``ell_low``) that brings the B12
    D_3000 to the SPT value ``spt_d``, at the default cosmology (bisection, 40 steps)."""
    model = sz.HaloModel(mass_definition="200c")
    ell = np.array([ell_low, 3000.0])
    d_of = jax.jit(lambda p: sum(sz.cl_yy(sz.CosmoParams(), p, ell, model=model)) * ell * (ell + 1) * 5e11 / np.pi)
    base = sz.ProfileParamsB12()
    d_low = float(d_of(base)[0])

    def d3000(alpha_m: float) -> tuple[float, float]:
        d = np.asarray(d_of(base._replace(alpha_m_P0=alpha_m)))
        p0 = base.P0 * np.sqrt(d_low / d[0])  # D is proportional to P0^2
        return d[1] * (p0 / base.P0) ** 2, p0

    lo, hi = base.alpha_m_P0, 5.0
    if d3000(hi)[0] > spt_d:
        print(f"\nB12: no alpha_m_P0 <= {hi} reaches the SPT D_3000 at fixed D_{ell_low:.0f}")
        return
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if d3000(mid)[0] > spt_d else (lo, mid)
    print(f"\nB12 at the default cosmology, D_{ell_low:.0f} kept, D_3000 = SPT: "
          f"alpha_m_P0 = {lo:.3f}, P0 = {d3000(lo)[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "profiles_cl.png"))
    out = parser.parse_args().out

    spt = load_bandpowers(SPT_FOLDER)
    planck = None
    if os.environ.get(PLANCK_ENV):
        planck = load_bandpowers(os.environ[PLANCK_ENV], PLANCK_FILE)

    results = {label: d_ell(*case) for label, case in CASES.items()}
    default = sum(results["A10 + Tinker08 (default)"])
    i3000 = int(np.argmin(np.abs(ELL - 3000.0)))

    print("| profile + mass function | D_3000^yy x 1e12 (1h + 2h) | 2h share | ratio to default | "
          "(D - SPT) / sigma |")
    print("|---|---|---|---|---|")
    for label, (one, two) in results.items():
        total = one[i3000] + two[i3000]
        pull = (total - spt.d[0]) / spt.sigma[0]
        print(f"| {label} | {total:.3f} | {two[i3000] / total:.3f} | {total / default[i3000]:.3f} | {pull:+.1f} |")
    print(f"| SPT (Reichardt et al. 2021) | {spt.d[0]:.3f} +- {spt.sigma[0]:.3f} | | | |")
    i300 = int(np.argmin(np.abs(ELL - 300.0)))
    print(f"\nShape: (D_3000 / D_{ELL[i300]:.0f}) relative to the default's")
    for label, (one, two) in results.items():
        total = one + two
        print(f"  {label}: {(total[i3000] / total[i300]) / (default[i3000] / default[i300]):.3f}")
    print_b12_slopes(np.array([ELL[i300], 3000.0]))
    print_b12_slope_for_spt(float(ELL[i300]), float(spt.d[0]))

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 7.5), sharex=True, height_ratios=[2.2, 1])
    styles = ["-", "--", "-.", ":", "-", "--"]
    colours = ["k", "C0", "C1", "C3", "C2", "C4"]
    for (label, (one, two)), ls, col in zip(results.items(), styles, colours):
        total = one + two
        top.loglog(ELL, total, ls=ls, color=col, label=label)
        bottom.semilogx(ELL, total / default, ls=ls, color=col)
    top.errorbar(spt.ell, spt.d, spt.sigma, fmt="s", color="C3", ms=6, capsize=3,
                 label="SPT 2021 tSZ at 143 GHz, as Compton y")
    bottom.errorbar(spt.ell, spt.d / default[i3000], spt.sigma / default[i3000], fmt="s", color="C3",
                    ms=6, capsize=3)
    if planck is not None:
        top.errorbar(planck.ell, planck.d, planck.sigma, fmt="o", color="0.4", ms=3, capsize=2,
                     label="Planck 2015 y map (foregrounds not removed)")
    top.set_ylabel(r"$10^{12}\,\ell(\ell+1)C_\ell^{yy}/2\pi$")
    top.set_ylim(3e-3, 5.0)
    top.legend(fontsize=8, loc="upper left")
    top.set_title("Default cosmology (CosmoParams()), B = 1.25 for the GNFW profiles")
    bottom.axhline(1.0, color="0.6", lw=0.8)
    bottom.set_ylabel("ratio to A10 + Tinker08")
    bottom.set_xlabel(r"$\ell$")
    bottom.set_ylim(0.2, 1.8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"Wrote {out}")


if __name__ == "__main__":
    main()
