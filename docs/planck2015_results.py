"""Numbers and plot of docs/planck2015.md: chain summaries, profile likelihoods, Planck comparison.

    python docs/planck2015_results.py summary [chains/planck2015_mcmc [chains/planck2015_mcmc_reference]]
    python docs/planck2015_results.py profile [--data-folder DIR] [--trispectrum varying]
                                              [--fiducial sigma8=0.712 omega_cdm=0.1397 H0=68.17]

``summary`` prints the marginalised constraints of finished chains (getdist, 30% burn-in)
and, at the best sample of each chain, the pure chi^2 (without the log-determinant term
of ``trispectrum: varying``), re-evaluated with the chain's own input yaml; it writes
docs/triangle_planck2015.png.

``profile`` uses the model of yaml/planck2015_minimize.yaml (its sampler block is
ignored; ``--data-folder`` overrides ``data_folder``, ``--trispectrum`` the covariance
mode, ``--fiducial`` the point of ``trispectrum: fiducial``) and prints

- the profile likelihood in sigma8: at fixed sigma8, -2 ln L minimised over omega_cdm,
  H0 and the foreground amplitudes, split into chi^2 and the log-determinant term
  ln det Cov - ln det diag(sigma^2) (zero for a fixed covariance);
- the profile likelihood in F_sz = sigma8 (Omega_m/B)^0.40 h^-0.21: at fixed F_sz, H0
  follows from sigma8 and omega_cdm, and -2 ln L is minimised over sigma8, omega_cdm (with
  H0 kept inside its prior) and the amplitudes; the 68% interval is where -2 ln L rises
  by 1 above its minimum;
- for ``varying``, the ratio of the published reference trispectrum (the fixed covariance
  of ``trispectrum: reference``) to the engine's at the points of the sigma8 profile;
- at the maximum-likelihood point, the engine tSZ spectrum against the Planck team's
  best-fit tSZ model and foreground-subtracted points (``class_sz_Planck2015.txt``).

The foreground amplitudes enter the model linearly and the covariance does not depend
on them, so at fixed cosmology they are solved exactly (bounded linear least squares in
the Cholesky-whitened residual, bounds = their priors [0, 5]). The two free cosmological
parameters start from the best point of a 17 x 17 grid over their prior box and are
polished with SLSQP; the global optimum agrees with `cobaya_szlite.GradMinimize` to 1e-4
in -2 ln L.
"""

import argparse
import os

import numpy as np
import scipy.linalg
from cobaya.model import Model, get_model
from cobaya.yaml import yaml_load_file
from scipy import optimize

from cobaya_szlite.engine.background import omega_nu
from cobaya_szlite.engine.params import CosmoParams
from cobaya_szlite.parameters import f_sz

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PARAMS = ["F_sz", "sigma8", "Omega_m", "H0", "A_CIB", "A_RS", "A_IR"]
LIKELIHOOD = "cobaya_szlite.Planck2015TSZ"
FREE_AMPLITUDES = ("A_CIB", "A_RS", "A_IR")
SIGMA8_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
F_SZ_GRID = (0.42, 0.43, 0.435, 0.44, 0.445, 0.45, 0.455, 0.46, 0.465, 0.47, 0.48, 0.49, 0.50)


# ---------------------------------------------------------------- chain summaries

def summarise(root: str):
    """Print getdist constraints and the best-sample chi^2 of one chain; return the samples."""
    from getdist import loadMCSamples

    samples = loadMCSamples(root, settings={"ignore_rows": 0.3})
    print(f"== {root}: {samples.numrows} samples after burn-in")
    for name in PARAMS:
        print("   ", samples.getInlineLatex(name, limit=1), "   (95%:",
              samples.getInlineLatex(name, limit=2), ")")
    best = int(np.argmin(samples.loglikes))
    point = {p.name: float(samples[p.name][best]) for p in samples.paramNames.names
             if p.name in ("sigma8", "omega_cdm", "H0", *FREE_AMPLITUDES)}
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


def summary(roots: list[str]) -> None:
    """Summaries of the chains ``roots`` and the triangle plot."""
    import matplotlib

    matplotlib.use("Agg")
    from getdist import plots

    roots = roots or ["chains/planck2015_mcmc", "chains/planck2015_mcmc_reference"]
    all_samples = [summarise(root) for root in roots if os.path.exists(root + ".updated.yaml")]
    labels = ["trispectrum: varying (engine)", "trispectrum: reference (published file)"]
    for s, label in zip(all_samples, labels):
        s.label = label
    g = plots.get_subplot_plotter(width_inch=9)
    g.triangle_plot(all_samples, ["F_sz", "sigma8", "Omega_m", "A_CIB", "A_RS", "A_IR"], filled=True)
    out = os.path.join(HERE, "triangle_planck2015.png")
    g.export(out)
    print("wrote", out)


# ---------------------------------------------------------------- profile likelihoods

class _Profiler:
    """-2 ln L of the Planck model with the foreground amplitudes solved exactly."""

    def __init__(self, model: Model):
        self.model = model
        self.like = model.likelihood[LIKELIHOOD]
        params = model.parameterization
        self.fixed = {**params.constant_params()}
        self.b_bias = float(self.fixed.get("B", 1.25))
        self.omega_b = float(self.fixed.get("omega_b", 0.02242))
        # Massive neutrinos (SZTheory's default Sum m_nu = 0.06 eV unless fixed in the YAML)
        # count in Omega_m and hence in F_sz, as in SZTheory's derived parameters
        m_nu = float(self.fixed.get("m_nu", CosmoParams._field_defaults["m_nu"]))
        self.omega_nu = float(omega_nu(CosmoParams(self.omega_b, 0.12, 67.0, 0.96, sigma8=0.8,
                                                   m_nu=m_nu)))
        bounds = dict(zip(model.prior.params, model.prior.bounds()))
        self.box = {name: tuple(map(float, bounds[name])) for name in ("sigma8", "omega_cdm", "H0")}
        self.amp_bounds = np.array([bounds[name] for name in FREE_AMPLITUDES]).T
        names = self.like._amplitudes
        self.fixed_amp = {n: float(self.fixed[n]) for n in names if n not in FREE_AMPLITUDES}
        self.free_index = [names.index(n) for n in FREE_AMPLITUDES]

    def f_sz(self, sigma8: float, omega_cdm: float, h0: float) -> float:
        """F_sz = sigma8 (Omega_m / B)^0.40 h^-0.21 (as SZTheory's derived parameter)."""
        return f_sz(sigma8, (self.omega_b + omega_cdm + self.omega_nu) / (h0 / 100) ** 2,
                    self.b_bias, h0)

    def evaluate(self, sigma8: float, omega_cdm: float, h0: float) -> dict:
        """Best amplitudes and -2 ln L = chi^2 + log-det term at one cosmology."""
        point = {"sigma8": sigma8, "omega_cdm": omega_cdm, "H0": h0,
                 **dict(zip(FREE_AMPLITUDES, self.amp_bounds.mean(axis=0)))}
        loglikes = self.model.loglikes(point, return_derived=False)
        if not np.all(np.isfinite(loglikes)):
            return {"m2lnL": np.inf}
        like = self.like
        names = like._amplitudes
        amplitudes = np.array([self.fixed_amp.get(n, 0.0) for n in names])
        residual = like.data.d - like.model(self.model.provider.get_Cl_sz(), amplitudes)
        factor = np.linalg.cholesky(like.covariance())
        design = scipy.linalg.solve_triangular(factor, like._templates[self.free_index].T, lower=True)
        target = scipy.linalg.solve_triangular(factor, residual, lower=True)
        fit = optimize.lsq_linear(design, target, bounds=tuple(self.amp_bounds), method="bvls",
                                  tol=1e-12)
        chi2 = 2 * float(fit.cost)
        ln_det = 0.0
        if like.trispectrum == "varying":
            ln_det = 2 * float(np.sum(np.log(np.diag(factor)))) - float(like.bandpower_set.ln_det)
        return {"sigma8": sigma8, "omega_cdm": omega_cdm, "H0": h0,
                "Omega_m": (self.omega_b + omega_cdm + self.omega_nu) / (h0 / 100) ** 2,
                "F_sz": self.f_sz(sigma8, omega_cdm, h0),
                **dict(zip(FREE_AMPLITUDES, fit.x.tolist())),
                "chi2": chi2, "lndet": ln_det, "m2lnL": chi2 + ln_det}

    def profile(self, name: str, value: float, n_grid: int = 17) -> dict | None:
        """Minimum of -2 ln L at fixed ``name`` (sigma8 or F_sz) over the other cosmology.

        Fixed sigma8: free omega_cdm and H0 (their prior box). Fixed F_sz: free sigma8
        and omega_cdm (their prior box), h = [sigma8 (omega_m/B)^0.40 / F_sz]^(1/1.01) with
        omega_m = omega_b + omega_cdm + omega_nu (exact for this F_sz), kept inside the H0 prior.
        """
        free = ("omega_cdm", "H0") if name == "sigma8" else ("sigma8", "omega_cdm")
        dependent = "sigma8" if name == "sigma8" else "H0"
        lower = np.array([self.box[p][0] for p in free])
        width = np.array([self.box[p][1] for p in free]) - lower

        def point(y):
            values = dict(zip(free, lower + np.clip(y, 0, 1) * width))
            if name == "sigma8":
                values["sigma8"] = value
            else:
                omega_m = self.omega_b + values["omega_cdm"] + self.omega_nu
                # F_sz = sigma8 (omega_m / B)^0.40 h^-1.01: f_sz at h = 1 (Omega_m = omega_m)
                ratio = f_sz(values["sigma8"], omega_m, self.b_bias, 100.0) / value
                values["H0"] = 100 * ratio ** (1 / 1.01)
            return values["sigma8"], values["omega_cdm"], values["H0"]

        def dependent_value(y):
            return point(y)[("sigma8", "omega_cdm", "H0").index(dependent)]

        def objective(y):
            return self.evaluate(*point(y))["m2lnL"]

        d_min, d_max = self.box[dependent]
        grid = [np.array([a, b]) for a in np.linspace(0, 1, n_grid) for b in np.linspace(0, 1, n_grid)]
        grid = [y for y in grid if d_min <= dependent_value(y) <= d_max]
        if not grid:
            return None
        values = np.array([objective(y) for y in grid])
        constraints = [] if name == "sigma8" else [
            {"type": "ineq", "fun": lambda y: dependent_value(y) - d_min},
            {"type": "ineq", "fun": lambda y: d_max - dependent_value(y)},
        ]
        best_y, best_value = grid[int(np.argmin(values))], float(np.min(values))
        for start in np.argsort(values)[:3]:
            result = optimize.minimize(objective, grid[start], method="SLSQP", bounds=[(0, 1)] * 2,
                                       constraints=constraints,
                                       options={"ftol": 1e-10, "eps": 1e-6, "maxiter": 200})
            feasible = d_min - 1e-9 <= dependent_value(result.x) <= d_max + 1e-9
            if feasible and result.fun < best_value:
                best_y, best_value = np.clip(result.x, 0, 1), float(result.fun)
        return self.evaluate(*point(best_y))


def _interval(values: np.ndarray, m2lnl: np.ndarray) -> tuple[float, float, float]:
    """Minimum of a tabulated profile (parabola through the lowest three points) and its
    Delta(-2 ln L) = 1 crossings (linear interpolation between grid points)."""
    order = np.argsort(values)
    x, y = values[order], m2lnl[order]
    k = int(np.clip(np.argmin(y), 1, len(y) - 2))
    a, b, c = np.polyfit(x[k - 1:k + 2], y[k - 1:k + 2], 2)
    x0, level = -b / (2 * a), c - b**2 / (4 * a) + 1

    def crossing(i, j):
        return float(x[i] + (level - y[i]) * (x[j] - x[i]) / (y[j] - y[i]))

    left = [i for i in range(k) if y[i] > level and y[i + 1] <= level]
    right = [i for i in range(k, len(y) - 1) if y[i] <= level < y[i + 1]]
    low = crossing(left[-1], left[-1] + 1) if left else float("nan")
    high = crossing(right[0], right[0] + 1) if right else float("nan")
    return float(x0), low, high


def _print_row(label: str, row: dict) -> None:
    print(f"| {label} | {row['sigma8']:.3f} | {row['omega_cdm']:.4f} | {row['H0']:.2f} | "
          f"{row['Omega_m']:.3f} | {row['F_sz']:.4f} | {row['A_CIB']:.3f} | {row['A_RS']:.3f} | "
          f"{row['A_IR']:.3f} | {row['chi2']:.3f} | {row['lndet']:.3f} | {row['m2lnL']:.3f} |")


def reference_ratio(profiler: _Profiler, row: dict) -> np.ndarray:
    """Diagonal of the published reference trispectrum over the engine's at ``row`` (18 bins)."""
    like = profiler.like
    profiler.evaluate(row["sigma8"], row["omega_cdm"], row["H0"])
    engine = np.diag(like.covariance() - np.asarray(like.bandpower_set.covariance))
    path = os.path.join(like.folder, like.trispectrum_file)
    keep = like.data.selection if like.data.selection is not None else slice(None)
    reference = np.diag(np.loadtxt(path))[keep] / (4 * np.pi * float(like.f_sky))
    return reference / engine


def compare_with_planck(model: Model, best: dict, folder: str) -> None:
    """Engine tSZ spectrum at ``best`` against the Planck team's best-fit tSZ model and points
    (``class_sz_Planck2015.txt`` in ``folder``, which `cobaya-install` fetches; the comparison
    is skipped with a message where it is absent)."""
    path = os.path.join(folder, "class_sz_Planck2015.txt")
    if not os.path.isfile(path):
        print(f"No comparison with the Planck team's model: {path} not found (give --data-folder "
              "a folder holding class_sz_Planck2015.txt, the Planck team's file from class_sz).")
        return
    table = np.loadtxt(path)[:18]
    point = {k: best[k] for k in ("sigma8", "omega_cdm", "H0", *FREE_AMPLITUDES)}
    model.loglikes(point)
    cl = model.provider.get_Cl_sz()
    like = model.likelihood[LIKELIHOOD]
    tsz = like.model(cl, np.zeros(len(like._amplitudes)))
    ratio = tsz / table[:, 5]
    chi2_ours = float(np.sum(((table[:, 1] - tsz) / table[:, 4]) ** 2))
    chi2_planck = float(np.sum(((table[:, 1] - table[:, 5]) / table[:, 4]) ** 2))
    print(f"tSZ / Planck best-fit tSZ model: {ratio[0]:.3f} at ell = {table[0, 0]:g}, "
          f"{ratio[-1]:.3f} at ell = {table[-1, 0]:g}, median {np.median(ratio):.3f}")
    print(f"chi2 against the Planck foreground-subtracted points (sigma_tot, 18 bins): "
          f"ours {chi2_ours:.1f}, Planck best-fit model {chi2_planck:.1f}")


def profile(data_folder: str | None, trispectrum: str | None, fiducial: dict | None = None) -> None:
    """Profile likelihoods in sigma8 and F_sz and the Planck comparison (module docstring)."""
    info = yaml_load_file(os.path.join(ROOT, "yaml", "planck2015_minimize.yaml"))
    info.pop("sampler", None)
    info.pop("output", None)
    like_info = info["likelihood"][LIKELIHOOD]
    if data_folder is not None:
        like_info["data_folder"] = data_folder
    if trispectrum:
        like_info["trispectrum"] = trispectrum
    if fiducial:
        like_info["fiducial"] = fiducial
    model = get_model(info)
    profiler = _Profiler(model)
    mode = profiler.like.trispectrum
    header = ("| sigma8 | omega_cdm | H0 | Omega_m | F_sz | A_CIB | A_RS | A_IR | chi2 | "
              "ln det term | -2 ln L |\n|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"## trispectrum: {mode}\n\nProfile in sigma8 (fixed):\n\n| fixed " + header)
    sigma8_rows = [profiler.profile("sigma8", value) for value in SIGMA8_GRID]
    for value, row in zip(SIGMA8_GRID, sigma8_rows):
        _print_row(f"sigma8 = {value}", row)
    like_ell = profiler.like.data.ell
    if mode == "varying":
        print("\nReference trispectrum / engine trispectrum (diagonal) at these points:")
        for value, row in zip(SIGMA8_GRID, sigma8_rows):
            ratio = reference_ratio(profiler, row)
            print(f"  sigma8 = {value}: ell = {like_ell[0]:g}: {ratio[0]:.2f}, ell = {like_ell[-1]:g}: "
                  f"{ratio[-1]:.2f}, median {np.median(ratio):.2f}")
    print("\nProfile in F_sz (fixed):\n\n| fixed " + header)
    rows = []
    for value in F_SZ_GRID:
        row = profiler.profile("F_sz", value)
        if row is not None:
            rows.append(row)
            _print_row(f"F_sz = {value}", row)
    f_values = np.array([r["F_sz"] for r in rows])
    m2lnl = np.array([r["m2lnL"] for r in rows])
    f_best, f_low, f_high = _interval(f_values, m2lnl)
    print(f"\nF_sz (profile likelihood) = {f_best:.4f} +{f_high - f_best:.4f} -{f_best - f_low:.4f} "
          f"(Delta -2 ln L = 1), 68% interval [{f_low:.4f}, {f_high:.4f}]")
    refined = profiler.profile("F_sz", f_best)
    candidates = rows + sigma8_rows + ([refined] if refined is not None else [])
    best = min(candidates, key=lambda r: r["m2lnL"])
    print("\nMaximum likelihood:\n\n| point " + header)
    _print_row("best fit", best)
    print()
    compare_with_planck(model, best, profiler.like.folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summary_parser = commands.add_parser("summary", help="summaries and triangle plot of chains")
    summary_parser.add_argument("roots", nargs="*", help="chain prefixes")
    profile_parser = commands.add_parser("profile", help="profile likelihoods, Planck comparison")
    profile_parser.add_argument("--data-folder", default=None,
                                help="folder with the Planck files (default: the YAML's)")
    profile_parser.add_argument("--trispectrum", default=None,
                                help="covariance mode (default: the YAML's)")
    profile_parser.add_argument("--fiducial", nargs="+", default=None, metavar="NAME=VALUE",
                                help="point of trispectrum: fiducial (SZTheory input names)")
    args = parser.parse_args()
    if args.command == "summary":
        summary(args.roots)
    else:
        fiducial = None
        if args.fiducial:
            fiducial = {k: float(v) for k, v in (item.split("=", 1) for item in args.fiducial)}
        profile(args.data_folder, args.trispectrum, fiducial)


if __name__ == "__main__":
    main()
