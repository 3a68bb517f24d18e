"""Best fits of yaml/planck2015_spt_b12.yaml and its variants (the table of docs/profiles.md).

    COBAYA_SZLITE_PLANCK2015_DATA=/path/to/planck2015_tsz python docs/profiles_fits.py [CASE ...]

Each case is the YAML with the sampler replaced by `cobaya_szlite.GradMinimize` (best of 2
starts, seed 1), output in a temporary folder, and prints one line: chi^2 of each
likelihood and the best-fit parameters. Cases (default: all):

- ``planck_fixed``: Planck 2015 only, B12 at the published fit (P0_B12, alpha_m_P0_B12 fixed);
- ``both_fixed``: Planck 2015 + SPT, B12 at the published fit;
- ``both_free``: Planck 2015 + SPT, P0_B12 and alpha_m_P0_B12 free (the YAML as shipped);
- ``cmb_*``: the same three with omega_cdm and H0 fixed at the fiducial (0.11933, 67.66),
  as a CMB prior on the background would.
"""

import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, REPO)

from cobaya.run import run  # noqa: E402
from cobaya.yaml import yaml_load_file  # noqa: E402

PLANCK_ENV = "COBAYA_SZLITE_PLANCK2015_DATA"
CASES = ["planck_fixed", "both_fixed", "both_free", "cmb_planck_fixed", "cmb_both_fixed", "cmb_both_free"]
SHOWN = ["sigma8", "omega_cdm", "H0", "P0_B12", "alpha_m_P0_B12", "Omega_m", "F_sz", "F_sz_P0"]


def case_info(case: str, planck_folder: str, output: str) -> dict:
    """Cobaya input of one case (see the module docstring)."""
    info = yaml_load_file(os.path.join(REPO, "yaml", "planck2015_spt_b12.yaml"))
    info["likelihood"]["cobaya_szlite.Planck2015TSZ"]["data_folder"] = planck_folder
    info["likelihood"]["spt_tsz"]["data_folder"] = os.path.join(REPO, "cobaya_szlite", "data", "spt2021_tsz")
    info["sampler"] = {"cobaya_szlite.GradMinimize": {"best_of": 2, "seed": 1}}
    info["output"] = os.path.join(output, case, "min")
    name = case
    if name.startswith("cmb_"):
        info["params"]["omega_cdm"] = 0.11933
        info["params"]["H0"] = 67.66
        name = name[len("cmb_"):]
    if name in ("planck_fixed", "both_fixed"):
        info["params"]["P0_B12"] = 18.1
        info["params"]["alpha_m_P0_B12"] = 0.154
        info["params"].pop("F_sz_P0")
    if name == "planck_fixed":
        info["likelihood"].pop("spt_tsz")
    return info


def main() -> None:
    if not os.environ.get(PLANCK_ENV):
        sys.exit(f"Set {PLANCK_ENV} to a folder holding the Planck 2015 tSZ files (docs/planck2015.md).")
    cases = sys.argv[1:] or CASES
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        sys.exit(f"Unknown case(s) {unknown}; choose from {CASES}.")
    with tempfile.TemporaryDirectory(prefix="szlite_profiles_fits_") as output:
        for case in cases:
            _, sampler = run(case_info(case, os.path.abspath(os.environ[PLANCK_ENV]), output), force=True)
            best = sampler.products()["minimum"].data.iloc[0]  # one row: the minimum
            chi2 = {k[len("chi2__"):]: round(float(best[k]), 2) for k in best.index if k.startswith("chi2__")}
            values = {k: float(best[k]) for k in SHOWN if k in best.index}
            print(f"RESULT {case}: chi2 {chi2}; " + ", ".join(f"{k} = {v:.4g}" for k, v in values.items()))


if __name__ == "__main__":
    main()
