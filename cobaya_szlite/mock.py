"""The packaged mock tSZ bandpowers: fiducial, binning, noise and writer.

`write_mock` is what ``scripts/make_mock.py`` runs to make
``cobaya_szlite/data/mock/``; tests call it with a small `Precision` to make a
mock that an `SZTheory` with the same precision reproduces exactly.

Model: the engine's D_ell^1h + D_ell^2h (D_ell x 1e12) at the fiducial below,
evaluated at each bin's ell_eff (no bin averaging, like the published Planck
tSZ likelihoods).

Bins: N_BINS bins with integer edges log-spaced over 10 <= ell <= 3000;
ell_eff is the mean multipole of the bin and n_ell its number of multipoles.

Covariance: Gaussian (cosmic variance + noise) plus the engine's 1-halo
trispectrum at the fiducial (`cobaya_szlite.cl_yy_covariance`), in D_ell x 1e12,

    Cov_bb' = delta_bb' 2 (D_b + N_b)^2 / ((2 ell_eff + 1) n_ell f_sky)
              + 1e24 [l(l+1)/2pi][l'(l'+1)/2pi] T_bb' / (4 pi f_sky),

with N_b the noise power (D_ell x 1e12) of a white-noise y-map with a Gaussian
beam, N_ell = NOISE_WHITE exp(ell (ell + 1) theta^2 / (8 ln 2)). The sigma
column of the bandpower files is sqrt(diag Cov); the full matrix (bins strongly
correlated) is ``covariance.txt``.

Noisy realisation: data = truth + L z with L L^T = covariance and
z ~ N(0, 1) from numpy's ``default_rng(SEED)``. Everything is recorded in
``truth.yaml`` beside the data.
"""

import math
import os
import subprocess

import numpy as np
from numpy.typing import ArrayLike

from .engine import Precision, cl_yy_covariance
from .engine.background import omega_m
from .parameters import (
    FIDUCIAL_COSMO,
    FIDUCIAL_PARAMS,
    FIDUCIAL_PROFILE,
    OPTIONAL_COSMO,
    d_ell_factor,
    d_ell_spectra,
    to_values,
)

__all__ = [
    "BEAM_FWHM_ARCMIN",
    "ELL_RANGE",
    "FIDUCIAL_COSMO",
    "FIDUCIAL_PARAMS",
    "FIDUCIAL_PROFILE",
    "F_SKY",
    "NOISE_WHITE",
    "N_BINS",
    "SEED",
    "bins",
    "noise_d",
    "write_mock",
]

# The fiducial (FIDUCIAL_COSMO, FIDUCIAL_PROFILE, FIDUCIAL_PARAMS) is defined in
# cobaya_szlite.parameters and re-exported here: the truth of the mock.
N_BINS = 20
ELL_RANGE = (10, 3000)
F_SKY = 0.47
NOISE_WHITE = 2.0e-18  # white-noise power of the y-map [sr]
BEAM_FWHM_ARCMIN = 5.0
SEED = 20150122

_HEADER = "ell_eff  D_ell x 1e12  sigma  (tSZ only; see README.md)"


def bins() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The N_BINS bins of the mock, log-spaced over ELL_RANGE.

    Returns
    -------
    ell_lo, ell_hi : numpy.ndarray of int, shape (N_BINS,)
        Inclusive integer bin edges.
    ell_eff : numpy.ndarray, shape (N_BINS,)
        The mean multipole of each bin.
    n_ell : numpy.ndarray of int, shape (N_BINS,)
        The number of multipoles in each bin.
    """
    edges = np.round(np.geomspace(ELL_RANGE[0], ELL_RANGE[1] + 1, N_BINS + 1)).astype(int)
    assert len(np.unique(edges)) == N_BINS + 1
    lo, hi = edges[:-1], edges[1:] - 1
    return lo, hi, 0.5 * (lo + hi), hi - lo + 1


def noise_d(ell: ArrayLike) -> np.ndarray:
    """Noise power of the mock y-map (white noise through a Gaussian beam).

    Parameters
    ----------
    ell : array_like
        Multipoles.

    Returns
    -------
    numpy.ndarray, the shape of `ell`
        N_ell in D_ell x 1e12.
    """
    theta = math.radians(BEAM_FWHM_ARCMIN / 60.0)
    n_ell = NOISE_WHITE * np.exp(ell * (ell + 1) * theta**2 / (8 * math.log(2)))
    return d_ell_factor(ell) * n_ell


def _git_commit() -> str:
    """HEAD commit, or "working tree on top of <commit> (...)" if the code that makes the mock has
    uncommitted changes (the data files themselves are not counted)."""
    here = os.path.dirname(os.path.abspath(__file__))

    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=here, check=True).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        code = [os.path.join(here, p) for p in ("engine", "mock.py", "parameters.py")]
        code.append(os.path.join(os.path.dirname(here), "scripts", "make_mock.py"))
        dirty = git("status", "--porcelain", "--", *code).split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = sorted(line[3:] for line in dirty if line.strip())
    if changed:
        return f"working tree on top of {commit} (uncommitted changes in {', '.join(changed)})"
    return commit


def write_mock(out: str | os.PathLike, precision: Precision = Precision()) -> np.ndarray:
    """Write the mock files into a folder.

    Files: bandpowers_noiseless.txt and bandpowers.txt (ell_eff, D_ell x 1e12,
    sigma), covariance.txt, truth_cl.txt (ell_eff, D_1h, D_2h, N_b), bins.txt
    and truth.yaml (parameters, precision, noise, seed).

    Parameters
    ----------
    out : str or path
        The folder (created if needed; existing files are overwritten).
    precision : Precision
        Engine precision of the spectra and the covariance.

    Returns
    -------
    numpy.ndarray, shape (N_BINS,)
        The truth D^1h + D^2h at ell_eff in D_ell x 1e12.
    """
    os.makedirs(out, exist_ok=True)
    lo, hi, ell, n_ell = bins()
    d_1h, d_2h = np.asarray(d_ell_spectra(to_values(FIDUCIAL_PARAMS), ell, precision))
    to_d = d_ell_factor(ell)
    truth = d_1h + d_2h
    noise = noise_d(ell)
    cov = np.asarray(
        cl_yy_covariance(FIDUCIAL_COSMO, FIDUCIAL_PROFILE, ell, n_ell, F_SKY, precision=precision,
                         noise_cl=noise / to_d)
    ) * np.outer(to_d, to_d)
    cov = 0.5 * (cov + cov.T)
    variance = np.diag(cov)
    sigma = np.sqrt(variance)
    rng = np.random.default_rng(SEED)
    noisy = truth + np.linalg.cholesky(cov) @ rng.standard_normal(len(ell))

    def save(name, columns, header, fmt="%.12e"):
        np.savetxt(os.path.join(out, name), columns, fmt=fmt, header=header)

    save("bandpowers_noiseless.txt", np.column_stack([ell, truth, sigma]), _HEADER + "; noiseless: the truth")
    save("bandpowers.txt", np.column_stack([ell, noisy, sigma]), _HEADER + f"; noisy realisation, seed {SEED}")
    save("covariance.txt", cov,
         f"{len(ell)} x {len(ell)} covariance of D_ell x 1e12 (Gaussian + 1-halo trispectrum), f_sky = {F_SKY}")
    save(
        "truth_cl.txt",
        np.column_stack([ell, d_1h, d_2h, noise]),
        "ell_eff  D_1h x 1e12  D_2h x 1e12  noise N_b (D_ell x 1e12)",
    )
    save("bins.txt", np.column_stack([lo, hi, ell, n_ell]), "ell_lo  ell_hi (inclusive)  ell_eff  n_ell",
         fmt=["%d", "%d", "%.1f", "%d"])

    def value(v):
        if v is None:
            return "null"
        return ".inf" if v == math.inf else repr(v)

    lines = [
        "# Truth and settings of this mock (written by cobaya_szlite.mock.write_mock).",
        f"# Engine commit when generated: {_git_commit()}",
        "params:  # SZTheory input parameters (class_sz names)",
        *[f"  {name}: {v!r}" for name, v in FIDUCIAL_PARAMS.items()],
        "optional:  # SZTheory's values for the optional cosmological inputs (not written above)",
        *[f"  {name}: {v!r}" for name, v in OPTIONAL_COSMO.items()],
        "derived:  # Omega_m includes the massive neutrinos",
        f"  Omega_m: {float(omega_m(FIDUCIAL_COSMO)) / (FIDUCIAL_COSMO.H0 / 100) ** 2!r}",
        "precision:  # engine Precision used",
        *[f"  {k}: {value(v)}" for k, v in precision._asdict().items()],
        f"n_bins: {N_BINS}",
        f"ell_range: [{ELL_RANGE[0]}, {ELL_RANGE[1]}]",
        f"f_sky: {F_SKY}",
        f"noise_white: {NOISE_WHITE!r}  # sr",
        f"beam_fwhm_arcmin: {BEAM_FWHM_ARCMIN}",
        f"seed: {SEED}  # numpy.random.default_rng",
        "covariance: Gaussian + 1-halo trispectrum / (4 pi f_sky)",
        f"chi2_noisy_vs_truth: {float((noisy - truth) @ np.linalg.solve(cov, noisy - truth)):.4f}  # full covariance",
    ]
    with open(os.path.join(out, "truth.yaml"), "w", encoding="utf-8") as stream:
        stream.write("\n".join(lines) + "\n")
    return truth
