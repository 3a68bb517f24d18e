"""Best fits of yaml/planck2015_spt_b12.yaml and its variants (the table of docs/profiles.md).

    COBAYA_SZLITE_PLANCK2015_DATA=/path/to/planck2015_tsz python docs/profiles_fits.py \
        [--starts N] [--seed S] [--start-range NAME=MIN:MAX ...] [CASE ...]

Each case is the YAML with the sampler replaced by `cobaya_szlite.GradMinimize` with
``best_of: N`` (default 16) and ``seed: S`` (default 1), output in a temporary folder.
The starts are drawn uniformly over the whole prior box (every sampled parameter's `ref`
is replaced by its flat prior, the foreground amplitudes included), not from the YAML's
`ref` ball around the fiducial; ``--start-range`` narrows the draw of one parameter
(e.g. to probe one corner of the box). Per case it prints the end point of every start
(START lines, best first) and one RESULT line: the best -ln P, how many starts ended
within 0.1 of it, the -ln P of every start, Cobaya's chi2 (-2 ln L) of each likelihood with Planck's
split into the chi^2 of the residuals and the log-determinant term of its
parameter-dependent covariance, the best-fit parameters, the sampled parameters on a
prior bound (within 1e-3 of the prior width) and the case's wall time. Cases (default: all):

- ``planck_fixed``: Planck 2015 only, B12 at the published fit (P0_B12, alpha_m_P0_B12 fixed);
- ``both_fixed``: Planck 2015 + SPT, B12 at the published fit;
- ``both_free``: Planck 2015 + SPT, P0_B12 and alpha_m_P0_B12 free (the YAML as shipped);
- ``cmb_*``: the same three with omega_cdm and H0 fixed at the fiducial (0.11933, 67.66),
  as a CMB prior on the background would.
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, REPO)

from cobaya.run import run  # noqa: E402
from cobaya.yaml import yaml_load_file  # noqa: E402

from cobaya_szlite.minimize import GradMinimize  # noqa: E402

PLANCK_ENV = "COBAYA_SZLITE_PLANCK2015_DATA"
CASES = ["planck_fixed", "both_fixed", "both_free", "cmb_planck_fixed", "cmb_both_fixed", "cmb_both_free"]
SHOWN = ["sigma8", "omega_cdm", "H0", "P0_B12", "alpha_m_P0_B12", "A_CIB", "A_RS", "A_IR",
         "Omega_m", "F_sz", "F_sz_P0"]
#: A start "reached the best" if its -ln P is within this of the best one.
NEAR = 0.1
#: A parameter "sits on a bound" if within this fraction of its prior width from it.
ON_BOUND = 1e-3


def case_info(case: str, planck_folder: str, output: str, starts: int, seed: int,
              start_ranges: dict | None = None) -> dict:
    """Cobaya input of one case (see the module docstring); ``start_ranges``: {name: (min, max)}."""
    info = yaml_load_file(os.path.join(REPO, "yaml", "planck2015_spt_b12.yaml"))
    info["likelihood"]["cobaya_szlite.Planck2015TSZ"]["data_folder"] = planck_folder
    info["likelihood"]["spt_tsz"]["data_folder"] = os.path.join(REPO, "cobaya_szlite", "data", "spt2021_tsz")
    info["sampler"] = {"cobaya_szlite.GradMinimize": {"best_of": starts, "seed": seed}}
    info["output"] = os.path.join(output, case, "min")
    # The foreground amplitudes' definitions (Planck2015TSZ.yaml), so that their ref can be set too.
    defaults = yaml_load_file(os.path.join(REPO, "cobaya_szlite", "Planck2015TSZ.yaml"))
    for name, definition in defaults["params"].items():
        if isinstance(definition, dict) and "prior" in definition:
            info["params"].setdefault(name, dict(definition))
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
    # Starts over the whole prior box (ref = the flat prior), or over the ranges given.
    sampled = {n for n, d in info["params"].items() if isinstance(d, dict) and "prior" in d}
    if set(start_ranges or {}) - sampled:
        sys.exit(f"--start-range: {sorted(set(start_ranges) - sampled)} not sampled in {case} "
                 f"(sampled: {sorted(sampled)}).")
    for name, definition in info["params"].items():
        if isinstance(definition, dict) and "prior" in definition:
            low, high = (start_ranges or {}).get(name, (definition["prior"]["min"], definition["prior"]["max"]))
            definition["ref"] = {"dist": "uniform", "loc": low, "scale": high - low}
    return info


#: End point of every start, in the order run (filled by the wrapper below).
_ENDS: list = []
_minimize_from = GradMinimize._minimize_from


def _recording_minimize_from(self, x0):
    """GradMinimize._minimize_from, recording the end point (the sampler keeps the best only)."""
    result = _minimize_from(self, x0)
    _ENDS.append((float(result.fun), bool(result.success), dict(zip(self.names, np.asarray(result.x).tolist()))))
    return result


GradMinimize._minimize_from = _recording_minimize_from


def planck_split(model, point: dict) -> tuple[float, float]:
    """Planck's -2 ln L at ``point`` as (chi^2, ln det Cov - ln det diag(sigma^2))."""
    loglikes = model.loglikes(point, return_derived=False)
    like = model.likelihood["cobaya_szlite.Planck2015TSZ"]
    factor = np.linalg.cholesky(like.covariance())
    ln_det = 2 * float(np.sum(np.log(np.diag(factor)))) - float(like.bandpower_set.ln_det)
    minus2lnl = -2 * float(loglikes[list(model.likelihood).index("cobaya_szlite.Planck2015TSZ")])
    return minus2lnl - ln_det, ln_det


def fit(case: str, planck_folder: str, output: str, starts: int, seed: int,
        start_ranges: dict | None = None) -> None:
    """Run one case and print its starts and best fit."""
    _ENDS.clear()
    began = time.time()
    info = case_info(case, planck_folder, output, starts, seed, start_ranges)
    _, sampler = run(info, force=True)
    best = sampler.products()["minimum"].data.iloc[0]  # one row: the minimum
    minus_logp = float(best["minuslogpost"])
    chi2 = {k[len("chi2__"):]: round(float(best[k]), 2) for k in best.index if k.startswith("chi2__")}
    values = {k: float(best[k]) for k in SHOWN if k in best.index}
    bounds = []
    for name, low, high in zip(sampler.names, *sampler.model.prior.bounds().T):
        width = ON_BOUND * (high - low)
        if best[name] <= low + width:
            bounds.append(f"{name} = min {low:g}")
        elif best[name] >= high - width:
            bounds.append(f"{name} = max {high:g}")
    split = planck_split(sampler.model, {k: float(best[k]) for k in sampler.names})
    ends = sorted(_ENDS, key=lambda end: end[0])
    near = sum(1 for fun, success, _ in ends if success and fun <= minus_logp + NEAR)
    for fun, success, x in ends:
        print(f"START {case}: -lnP {fun:.3f}{'' if success else ' (failed)'}; "
              + ", ".join(f"{k} = {v:.4g}" for k, v in x.items()))
    print(f"RESULT {case}: -lnP {minus_logp:.3f}; {near}/{len(ends)} starts within {NEAR} of it; "
          f"-lnP over starts {', '.join(f'{fun:.2f}' for fun, _, _ in ends)}; chi2 {chi2} "
          f"(Planck: chi^2 {split[0]:.2f} + log-det term {split[1]:.2f}); "
          + ", ".join(f"{k} = {v:.4g}" for k, v in values.items())
          + f"; on a bound: {', '.join(bounds) or 'none'}; {time.time() - began:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"default: all of {CASES}")
    parser.add_argument("--starts", type=int, default=16, help="starts per case (default 16)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the starts (default 1)")
    parser.add_argument("--start-range", action="append", default=[], metavar="NAME=MIN:MAX",
                        help="draw the starts of NAME in [MIN, MAX] instead of its whole prior "
                             "(repeatable)")
    args = parser.parse_args()
    if not os.environ.get(PLANCK_ENV):
        sys.exit(f"Set {PLANCK_ENV} to a folder holding the Planck 2015 tSZ files (docs/planck2015.md).")
    cases = args.cases or CASES
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        sys.exit(f"Unknown case(s) {unknown}; choose from {CASES}.")
    if args.starts < 1:
        sys.exit("--starts must be >= 1.")
    start_ranges = {}
    for text in args.start_range:
        try:
            name, limits = text.split("=")
            low, high = map(float, limits.split(":"))
        except ValueError:
            sys.exit(f"--start-range {text!r}: expected NAME=MIN:MAX.")
        if not low < high:
            sys.exit(f"--start-range {text!r}: MIN must be below MAX.")
        start_ranges[name] = (low, high)
    planck_folder = os.path.abspath(os.environ[PLANCK_ENV])
    for case in cases:  # check --start-range against every case before running any
        case_info(case, planck_folder, "", args.starts, args.seed, start_ranges)
    with tempfile.TemporaryDirectory(prefix="szlite_profiles_fits_") as output:
        for case in cases:
            fit(case, planck_folder, output, args.starts, args.seed, start_ranges)


if __name__ == "__main__":
    main()
