"""Coverage study: should the non-Gaussian covariance be fixed or recomputed at every point?

    nice -n 10 python benchmarks/coverage_trispectrum.py [--n-realisations 200] [--seed 1]
        [--plot docs/coverage_trispectrum.png] [--table TABLE.md]

Draws realisations of the packaged mock (cobaya_szlite/data/mock) from its model and
full covariance at the mock truth (truth.yaml: sigma8 = 0.8102, omega_cdm = 0.11933,
B = 1.25, F_sz = 0.50327), data_r = truth + L z_r with L L^T = covariance.txt and
z_r ~ N(0, 1) from numpy's default_rng(seed), and analyses each with four likelihoods
that differ only in the covariance:

``fiducial``    fixed at the truth: the packaged covariance.txt (Gaussian + trispectrum);
``wrong_low``   fixed, Gaussian + trispectrum computed at sigma8 = 0.9 x truth;
``wrong_high``  fixed, Gaussian + trispectrum computed at sigma8 = 1.1 x truth;
``varying``     Gaussian part fixed at the truth, trispectrum T(theta) / (4 pi f_sky)
                recomputed at every point, ln L = -(chi^2 + ln det Cov)/2: what
                ``Planck2015TSZ`` does with ``trispectrum: varying``.

Two set-ups, each with the four likelihoods:

``B free``   parameters and priors as yaml/mcmc_mock.yaml: sigma8 U[0.6, 1.0], omega_cdm
             Gaussian of width 0.0012, B U[1, 2];
``B fixed``  B fixed at the truth (as yaml/planck2015_*.yaml fix B), sigma8 and omega_cdm
             as above.
The other parameters are fixed at the truth; F_sz = sigma8 (Omega_m/B)^0.40 h^-0.21.
The omega_cdm prior stands for an external measurement, so its centre is drawn for each
realisation from N(0.11933, 0.0012) (centred on the truth every time, its width would
enter every interval without scattering the estimates, and sigma8 would over-cover).

Why a grid and not best fit + Hessian: with B free, sigma8 and B lie on a ridge that the
data barely constrain along its length, so the maximum of the posterior sits on the B = 1
prior bound in most realisations and the Hessian there extrapolates the ridge beyond the
prior (its F_sz errors are 3-4x the posterior width). Instead the posterior of every
realisation is computed exactly on a grid: B (31 points on [1, 2], trapezoid weights; or
the truth), omega_cdm (13 points, -6 ... +6 prior sigma around the truth, weights from
the realisation's Gaussian prior), and
sigma8 = s(B, omega_cdm) (1 + delta) around the ridge s(B, omega_cdm) of the noiseless
likelihood, delta on 81 points in [-2.5%, +2.5%] (B fixed: 251 points, same range);
the weights include the Jacobian s and the sigma8 prior. The engine computes the model
and the trispectrum once per grid point; each realisation then costs a few matrix
products. From each posterior: the mean and the 68% equal-tailed credible interval of
F_sz and sigma8 (weighted quantiles). A realisation is covered when the truth lies in its
interval. The script stops if more than 1e-3 of the posterior mass of any realisation
lies in the outermost delta slices (the grid must hold the posterior).

Output: a Markdown table (bias of the posterior mean, its scatter over realisations, the
mean interval half-width, coverage with its binomial standard error) and a plot.
"""

import argparse
import math
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

import yaml
from cobaya_szlite.engine import (
    CosmoParams,
    ProfileParamsA10,
    cl_yy,
    cl_yy_covariance,
    cl_yy_trispectrum,
    make_precision,
)
from cobaya_szlite.parameters import f_sz

__all__ = ["MODES", "Mock", "coverage_rows", "load_mock", "main", "posterior_summaries"]

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK = os.path.join(HERE, "..", "cobaya_szlite", "data", "mock")
SIGMA8_PRIOR = (0.6, 1.0)
B_PRIOR = (1.0, 2.0)
OMEGA_CDM_PRIOR = (0.11933, 0.0012)  # mean, sd (Gaussian)
MODES = ("fiducial", "wrong_low", "wrong_high", "varying")
LABELS = {
    "fiducial": "fixed at the truth",
    "wrong_low": "fixed at 0.9 x sigma8",
    "wrong_high": "fixed at 1.1 x sigma8",
    "varying": "varying (+ ln det)",
}
N_OMEGA = 13
#: Grid per set-up: B points on its prior (1: fixed at the truth), sigma8 offsets around the ridge.
SETUPS = {
    "B free": {"n_b": 31, "n_delta": 81, "delta_max": 0.025},
    "B fixed": {"n_b": 1, "n_delta": 251, "delta_max": 0.025},
}
CHUNK = 256


def load_mock(folder: str = MOCK) -> dict:
    """Truth, bins, noise and covariance of the packaged mock (D_ell x 1e12 units)."""
    with open(os.path.join(folder, "truth.yaml"), encoding="utf-8") as stream:
        truth = yaml.safe_load(stream)
    # the mock's recorded settings; its q_max (1e4, from before the table was sized
    # automatically) is dropped: the automatic table has the same rows where they are used
    settings = {k: v for k, v in truth["precision"].items() if k != "q_max"}
    precision = make_precision(**settings)
    bins = np.loadtxt(os.path.join(folder, "bins.txt"))
    truth_cl = np.loadtxt(os.path.join(folder, "truth_cl.txt"))
    return {
        "params": {k: float(v) for k, v in truth["params"].items()},
        "precision": precision,
        "f_sky": float(truth["f_sky"]),
        "ell": bins[:, 2],
        "n_ell": bins[:, 3],
        "noise_d": truth_cl[:, 3],
        "truth_d": truth_cl[:, 1] + truth_cl[:, 2],
        "cov": np.loadtxt(os.path.join(folder, "covariance.txt")),
    }


class Mock:
    """Engine model, covariances and the posterior grid of the packaged mock."""

    def __init__(self, mock: dict):
        self.mock = mock
        p = mock["params"]
        self.params = p
        ell = jnp.asarray(mock["ell"])
        to_d_np = 1e12 * mock["ell"] * (mock["ell"] + 1) / (2 * math.pi)
        to_d = jnp.asarray(to_d_np)
        precision, f_sky = mock["precision"], mock["f_sky"]

        def pytrees(theta):
            """theta = (sigma8, omega_cdm, B)."""
            cosmo = CosmoParams(p["omega_b"], theta[1], p["H0"], p["n_s"], theta[0])
            profile = ProfileParamsA10(p["P0GNFW"], p["c500"], p["gammaGNFW"], p["alphaGNFW"],
                                       p["betaGNFW"], p["alpha_p"], theta[2])
            return cosmo, profile

        def model(theta):
            one, two = cl_yy(*pytrees(theta), ell, precision=precision)
            return (one + two) * to_d

        def trispectrum_cov(theta):
            tll = cl_yy_trispectrum(*pytrees(theta), ell, precision=precision)
            return tll * jnp.outer(to_d, to_d) / (4 * math.pi * f_sky)

        def full_cov(theta):
            cov = cl_yy_covariance(*pytrees(theta), ell, mock["n_ell"], f_sky, precision=precision,
                                   noise_cl=mock["noise_d"] / to_d_np)
            return cov * jnp.outer(to_d, to_d)

        self.model = jax.jit(model)
        self.both = jax.jit(jax.vmap(lambda t: (model(t), trispectrum_cov(t))))
        full_cov = jax.jit(full_cov)
        self.theta_true = np.array([p["sigma8"], p["omega_cdm"], p["B"]])
        self.f_sz_true = self.f_sz(*self.theta_true)
        truth_cov = np.asarray(full_cov(self.theta_true))
        if not np.allclose(truth_cov, mock["cov"], rtol=1e-6, atol=0):
            raise RuntimeError("covariance.txt is not the engine's covariance at truth.yaml")
        self.gaussian = mock["cov"] - np.asarray(self.both(self.theta_true[None])[1][0])
        self.fixed_inverse = {"fiducial": _inverse(mock["cov"])}
        #: Median over bins of the diagonal trispectrum term of each fixed covariance / truth's.
        self.trispectrum_ratio = {"fiducial": 1.0}
        tri_truth = np.diag(np.asarray(self.both(self.theta_true[None])[1][0]))
        for mode, factor in (("wrong_low", 0.9), ("wrong_high", 1.1)):
            theta = self.theta_true * np.array([factor, 1, 1])
            self.fixed_inverse[mode] = _inverse(np.asarray(full_cov(theta)))
            tri = np.diag(np.asarray(self.both(theta[None])[1][0]))
            self.trispectrum_ratio[mode] = float(np.median(tri / tri_truth))

    def f_sz(self, sigma8, omega_cdm, b_bias):
        """F_sz = sigma8 (Omega_m/B)^0.40 h^-0.21 (NumPy broadcasting)."""
        h0 = self.params["H0"]
        return f_sz(sigma8, (self.params["omega_b"] + omega_cdm) / (h0 / 100) ** 2, b_bias, h0)

    def ridge(self, b_values: np.ndarray) -> np.ndarray:
        """sigma8 maximising the noiseless fixed-covariance likelihood at each B (omega_cdm true)."""
        inverse = self.fixed_inverse["fiducial"]
        truth = self.mock["truth_d"]
        out = []
        for b in b_values:
            def chi2(s8, b=b):
                r = truth - np.asarray(self.model(np.array([s8, self.theta_true[1], b])))
                return float(r @ inverse @ r)
            guess = self.theta_true[0] * (b / self.theta_true[2]) ** 0.40
            out.append(optimize.minimize_scalar(chi2, bounds=(0.9 * guess, 1.1 * guess),
                                                method="bounded",
                                                options={"xatol": 1e-7}).x)
        return np.array(out)

    def build_grid(self, n_b: int, n_delta: int, delta_max: float) -> dict:
        """Grid points, prior x Jacobian weights, and the engine model and T at each.

        ``n_b`` B values on its prior (1: B fixed at the truth), ``n_delta`` relative
        sigma8 offsets in [-delta_max, delta_max] around the ridge.
        """
        b_values = np.linspace(*B_PRIOR, n_b) if n_b > 1 else self.theta_true[2:]
        ridge = self.ridge(b_values)
        mean, sd = OMEGA_CDM_PRIOR
        units = np.linspace(-6, 6, N_OMEGA)
        omega = mean + sd * units
        delta = np.linspace(-delta_max, delta_max, n_delta)
        bb, oo, dd = np.meshgrid(np.arange(n_b), np.arange(N_OMEGA), delta, indexing="ij")
        omega_m = self.params["omega_b"] + omega[oo]
        omega_m_true = self.params["omega_b"] + self.theta_true[1]
        centre = ridge[bb] * (omega_m / omega_m_true) ** -0.40  # same F_sz as the ridge
        sigma8 = centre * (1 + dd)
        trapezoid = np.where(((bb == 0) | (bb == n_b - 1)) & (n_b > 1), 0.5, 1.0)
        log_w = (np.log(trapezoid) + np.log(centre)
                 + np.where((sigma8 >= SIGMA8_PRIOR[0]) & (sigma8 <= SIGMA8_PRIOR[1]), 0, -np.inf))
        theta = np.column_stack([sigma8.ravel(), omega[oo].ravel(), b_values[bb].ravel()])
        models, tris = [], []
        for start in range(0, len(theta), CHUNK):
            chunk = theta[start:start + CHUNK]
            pad = CHUNK - len(chunk)
            m, t = self.both(jnp.asarray(np.vstack([chunk, np.repeat(chunk[-1:], pad, 0)])))
            models.append(np.asarray(m)[:len(chunk)])
            tris.append(np.asarray(t)[:len(chunk)])
        tri = np.concatenate(tris)
        cov = self.gaussian[None] + 0.5 * (tri + np.transpose(tri, (0, 2, 1)))
        sign, ln_det = np.linalg.slogdet(cov)
        if np.any(sign <= 0) or not np.all(np.isfinite(ln_det)):
            raise RuntimeError("varying covariance not positive definite on the grid")
        return {
            "theta": theta,
            "f_sz": self.f_sz(theta[:, 0], theta[:, 1], theta[:, 2]),
            "log_w": log_w.ravel(),  # without the omega_cdm prior (see posterior_summaries)
            "omega_units": units[oo].ravel(),
            "edge": (np.abs(dd.ravel()) == delta_max),
            "model": np.concatenate(models),
            "inverse": np.linalg.inv(cov),
            "ln_det": ln_det,
        }


def _inverse(cov: np.ndarray) -> np.ndarray:
    inverse = np.linalg.inv(0.5 * (cov + cov.T))
    return 0.5 * (inverse + inverse.T)


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, q: tuple) -> np.ndarray:
    order = np.argsort(values)
    cdf = np.cumsum(weights[order])
    cdf = (cdf - 0.5 * weights[order]) / cdf[-1]
    return np.interp(q, cdf, values[order])


def posterior_summaries(grid: dict, mock: Mock, data: np.ndarray, mode: str,
                        prior_shift: float = 0.0) -> dict:
    """Posterior mean and 16/50/84% quantiles of F_sz and sigma8 for one realisation.

    ``prior_shift``: centre of the omega_cdm prior minus the truth, in prior sigmas.
    """
    residual = data[None] - grid["model"]
    log_prior = grid["log_w"] - 0.5 * (grid["omega_units"] - prior_shift) ** 2
    if mode == "varying":
        chi2 = np.einsum("gi,gij,gj->g", residual, grid["inverse"], residual)
        log_post = log_prior - 0.5 * (chi2 + grid["ln_det"])
    else:
        chi2 = np.einsum("gi,ij,gj->g", residual, mock.fixed_inverse[mode], residual)
        log_post = log_prior - 0.5 * chi2
    weights = np.exp(log_post - np.max(log_post))
    weights /= weights.sum()
    out = {"edge_mass": float(weights[grid["edge"]].sum()),
           "omega_edge_mass": float(weights[np.abs(grid["omega_units"]) == 6].sum())}
    for name, values in (("F_sz", grid["f_sz"]), ("sigma8", grid["theta"][:, 0])):
        lo, median, hi = _weighted_quantiles(values, weights, (0.158655, 0.5, 0.841345))
        out[name] = {"mean": float(weights @ values), "median": float(median),
                     "lo": float(lo), "hi": float(hi)}
    return out


def coverage_rows(results: dict, truth: dict) -> list[dict]:
    """Bias, scatter, interval width and 68% coverage per (set-up, likelihood) and parameter."""
    rows = []
    for (setup, mode), summaries in results.items():
        for name in ("F_sz", "sigma8"):
            mean = np.array([s[name]["mean"] for s in summaries])
            lo = np.array([s[name]["lo"] for s in summaries])
            hi = np.array([s[name]["hi"] for s in summaries])
            covered = (lo <= truth[name]) & (truth[name] <= hi)
            n = len(mean)
            frac = float(covered.mean())
            rows.append({
                "setup": setup, "mode": mode, "param": name, "n": n,
                "bias": float(np.mean(mean - truth[name])),
                "bias_err": float(np.std(mean, ddof=1) / math.sqrt(n)),
                "scatter": float(np.std(mean, ddof=1)),
                "half_width": float(np.mean(0.5 * (hi - lo))),
                "coverage": frac,
                "coverage_err": math.sqrt(max(frac * (1 - frac), 0.25 / n) / n),
                "below": float(np.mean(truth[name] < lo)),  # truth below the interval
                "above": float(np.mean(truth[name] > hi)),
                "pulls": (mean - truth[name]) / (0.5 * (hi - lo)),
                "edge_mass": float(max(s["edge_mass"] for s in summaries)),
                "omega_edge_mass": float(max(s["omega_edge_mass"] for s in summaries)),
            })
    return rows


def table(rows: list[dict], truth: dict, n_real: int, seed: int) -> str:
    """Markdown table of `coverage_rows`."""
    header = (f"{n_real} realisations (seed {seed}); truth F_sz = {truth['F_sz']:.5f}, "
              f"sigma8 = {truth['sigma8']:.4f}. Estimate: posterior mean; interval: 68% "
              "equal-tailed credible interval.")
    columns = ("| B | covariance | param | bias of the mean | bias / scatter | scatter of the means "
               "| mean half-width | 68% coverage | truth below / above the interval |")
    lines = [header, "", columns, "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['setup'][2:]} | {LABELS[r['mode']]} | {r['param']} | {r['bias']:+.4f} +- {r['bias_err']:.4f} | "
            f"{r['bias'] / r['scatter']:+.2f} | {r['scatter']:.4f} | {r['half_width']:.4f} | "
            f"**{100 * r['coverage']:.1f}%** +- {100 * r['coverage_err']:.1f}% | "
            f"{100 * r['below']:.0f}% / {100 * r['above']:.0f}% |"
        )
    return "\n".join(lines)


def plot(rows: list[dict], path: str, n_real: int) -> None:
    """F_sz pulls per likelihood (both set-ups) and the coverage of F_sz and sigma8."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    grid = np.linspace(-4, 4, 201)
    colors = dict(zip(MODES, ("C0", "C1", "C2", "C3")))
    for ax, setup in zip(axes[0], SETUPS):
        for r in rows:
            if r["param"] == "F_sz" and r["setup"] == setup:
                ax.hist(np.clip(r["pulls"], -4, 4), bins=np.linspace(-4, 4, 33), histtype="step",
                        density=True, color=colors[r["mode"]], lw=1.6, label=LABELS[r["mode"]])
        ax.plot(grid, np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi), "k--", label="N(0, 1)")
        ax.set_xlabel("F_sz: (posterior mean - truth) / (68% half-width)")
        ax.set_ylabel("density of realisations")
        ax.set_title(f"{setup}: F_sz pulls ({n_real} realisations)")
        ax.legend(fontsize=8)
    band = 100 * math.sqrt(0.6827 * 0.3173 / n_real)
    for ax, name in zip(axes[1], ("F_sz", "sigma8")):
        ax.axhspan(68.27 - 2 * band, 68.27 + 2 * band, color="0.85",
                   label="68.3% +- 2 binomial s.e.")
        ax.axhline(68.27, color="k", ls="--", lw=1)
        for shift, (setup, marker) in zip((-0.1, 0.1), zip(SETUPS, ("o", "s"))):
            sub = [r for r in rows if r["param"] == name and r["setup"] == setup]
            ax.errorbar(np.arange(len(sub)) + shift, [100 * r["coverage"] for r in sub],
                        [100 * r["coverage_err"] for r in sub], fmt=marker, ms=7, capsize=4,
                        label=setup)
        ax.set_xticks(np.arange(len(MODES)), [LABELS[m] for m in MODES], rotation=12, fontsize=8)
        ax.set_xlim(-0.5, len(MODES) - 0.5)
        ax.set_ylim(0, 100)
        ax.set_ylabel("truth inside the 68% interval [%]")
        ax.set_title(f"{name}: coverage")
        ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    jax.config.update("jax_enable_x64", True)  # the engine needs float64
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-realisations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--plot", default=None, help="write the coverage plot (PNG) here")
    parser.add_argument("--table", default=None, help="write the Markdown table here")
    args = parser.parse_args()

    start = time.time()
    mock = Mock(load_mock())
    truth = {"sigma8": float(mock.theta_true[0]), "F_sz": float(mock.f_sz_true)}
    rng = np.random.default_rng(args.seed)
    factor = np.linalg.cholesky(mock.mock["cov"])
    draws = mock.mock["truth_d"] + rng.standard_normal((args.n_realisations, len(factor))) @ factor.T
    # The omega_cdm prior stands for an external measurement: its centre scatters too.
    shifts = rng.standard_normal(args.n_realisations)
    results, n_points = {}, 0
    for setup, settings in SETUPS.items():
        grid = mock.build_grid(**settings)
        n_points += len(grid["theta"])
        print(f"{setup}: grid of {len(grid['theta'])} points ({time.time() - start:.0f} s)", flush=True)
        for mode in MODES:
            results[setup, mode] = [posterior_summaries(grid, mock, d, mode, shift)
                                    for d, shift in zip(draws, shifts)]
        del grid
    rows = coverage_rows(results, truth)
    worst = max(r["edge_mass"] for r in rows)
    if worst > 1e-3:
        raise RuntimeError(f"posterior mass {worst:.2g} at the edge of the sigma8 grid: widen it")
    text = table(rows, truth, args.n_realisations, args.seed)
    omega_worst = max(r["omega_edge_mass"] for r in rows)
    text += ("\n\nTrispectrum term of the fixed covariances relative to the truth's (median of the "
             "diagonal): " + ", ".join(f"{LABELS[k]} x{v:.2f}" for k, v in mock.trispectrum_ratio.items())
             + ".")
    text += (f"\n\nLargest posterior mass of a realisation in the outermost sigma8 slices of the "
             f"grid: {worst:.1e}; in the outermost omega_cdm slices: {omega_worst:.1e}. "
             f"Grids: {n_points} points in all.")
    print(text)
    print(f"total {time.time() - start:.0f} s")
    if args.table:
        with open(args.table, "w", encoding="utf-8") as stream:
            stream.write(text + "\n")
    if args.plot:
        plot(rows, args.plot, args.n_realisations)
        print("wrote", args.plot)


if __name__ == "__main__":
    main()
