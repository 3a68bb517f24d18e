"""Measure how C_ell moves when one Precision field leaves its default: the numbers behind
the hard and tested limits of `cobaya_szlite.engine.precision.PRECISION_LIMITS`.

Run:  python benchmarks/precision_limits.py [--fields n_z n_m ...]

For every field and value, prints the relative change of C_1h and C_2h from the defaults
at ell = 2, 11, 100, 1e3, 3e3, 1e4 (A10 profile, Planck 2018 cosmology). The limit checks
are bypassed so that refused values can be measured too; q_max is set large so that the
profile table never limits the low-z_min or high-m_max cases. Each value compiles once
(a few seconds); all fields take about 15 minutes on two cores.
"""

import argparse
import importlib
import math

import jax
import numpy as np

import cobaya_szlite as sz

ELL = np.array([2.0, 11.0, 100.0, 1e3, 3e3, 1e4])

VALUES = {
    "n_z": [9, 15, 21, 31, 41, 61, 121],
    "n_m": [3, 9, 15, 21, 31, 41, 61, 121],
    "n_x": [16, 32, 64, 100, 200, 400, 1600],
    "n_k": [48, 64, 100, 150, 200, 800],
    "x_out": [0.01, 0.5, 1.0, 2.0, 4.0, 10.0, 100.0, math.inf],
    "m_min": [1.0, 1e3, 1e5, 1e7, 1e10, 1e11, 1e13],
    "m_max": [1e15, 2e15, 5e15, 1e16, 1e18, 1e20],
    "z_min": [1e-8, 1e-6, 1e-5, 1e-3, 5e-3, 1e-2, 0.05, 0.1],
    "z_max": [1.0, 2.0, 3.0, 4.0, 10.0, 100.0],
    "q_min": [1e-9, 1e-5, 1e-4, 1e-3, 1e-2],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", nargs="*", default=list(VALUES), choices=list(VALUES))
    args = parser.parse_args()

    jax.config.update("jax_enable_x64", True)
    grids_module = importlib.import_module("cobaya_szlite.engine.grids")
    grids_module.check_precision = lambda *a, **k: None  # measure refused values too
    cosmo, profile = sz.CosmoParams(), sz.ProfileParamsA10()
    base = sz.Precision(q_max=1e9)
    ref = [np.asarray(c) for c in sz.cl_yy(cosmo, profile, ELL, base)]
    print("ell:", " ".join(f"{x:g}" for x in ELL))
    for name in args.fields:
        for value in VALUES[name]:
            cl = [np.asarray(c) for c in sz.cl_yy(cosmo, profile, ELL, base._replace(**{name: value}))]
            one, two = (c / r - 1 for c, r in zip(cl, ref))
            print(f"{name:>6} = {value:<8g} 1h: " + " ".join(f"{x:+.1e}" for x in one)
                  + "  2h: " + " ".join(f"{x:+.1e}" for x in two), flush=True)


if __name__ == "__main__":
    main()
