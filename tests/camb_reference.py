"""CAMB 2.0.5 references for the tests (a helper module, not a test file).

`camb_params`:

Matched settings: flat, T_cmb = 2.7255 K, N_eff = 3.044 (nnu), the mass sum `mnu` = m_nu in
`num_massive_neutrinos` = N_MASSIVE_NU degenerate species (CAMB's default share_delta_neff:
each massive species counts N_eff / 3, as in the engine), and dark_energy_model = 'ppf'
(CPL w(a) = w0 + wa (1 - a) in the background; the PPF perturbations are negligible inside
the horizon). A_s = 1e-10 exp(logA) when the cosmology has logA. Tests import this after
``pytest.importorskip("camb")``.

`camb_reference` / `grid_of_cosmologies` (linear-power backends):

The engine's universe as CAMB sees it: flat, T_CMB = 2.7255 K, N_eff = 3.044, the
neutrino mass sum in three degenerate species (none massive when m_nu = 0), w0-wa dark
energy with the PPF perturbations (``dark_energy_model="ppf"``, which crosses w = -1),
linear total-matter P(k) (``delta_tot``) and sigma8 at z = 0 (and z = 1 for the growth).
"""

from typing import NamedTuple

import numpy as np
import pytest

import cobaya_szlite as sz

__all__ = ["CambReference", "camb_params", "camb_reference", "grid_of_cosmologies"]

#: Wavenumbers k / h [h Mpc^-1] of the comparisons: inside and beyond the fitted range 9e-3..9.
K_H = np.geomspace(1e-3, 20.0, 160)

#: Redshifts of the CAMB runs (z = 0 for the backends, z = 1 for the syren_new growth).
REDSHIFTS = (0.0, 1.0)


class CambReference(NamedTuple):
    """CAMB outputs for one cosmology at A_s = 1e-10 exp(cosmo.logA).

    k_h : (n_k,) k / h [h Mpc^-1]; power : (2, n_k) P(k) [Mpc^3] at z = 0 and 1;
    sigma8 : sigma8 of total matter at z = 0.
    """

    k_h: np.ndarray
    power: np.ndarray
    sigma8: float


def camb_reference(cosmo: sz.CosmoParams) -> CambReference:
    """Run CAMB once for `cosmo` (which must have logA set)."""
    camb = pytest.importorskip("camb")
    pars = camb.CAMBparams()
    pars.set_cosmology(
        H0=cosmo.H0, ombh2=cosmo.omega_b, omch2=cosmo.omega_cdm, mnu=cosmo.m_nu,
        num_massive_neutrinos=3 if cosmo.m_nu > 0 else 0, neutrino_hierarchy="degenerate",
        nnu=3.044, TCMB=2.7255, omk=0.0,
    )
    pars.set_dark_energy(w=cosmo.w0, wa=cosmo.wa, dark_energy_model="ppf")
    pars.InitPower.set_params(As=1e-10 * np.exp(cosmo.logA), ns=cosmo.n_s)
    pars.set_matter_power(redshifts=sorted(REDSHIFTS, reverse=True), kmax=1.2 * K_H[-1] * cosmo.H0 / 100.0,
                          nonlinear=False)
    pars.WantCls = False
    results = camb.get_results(pars)
    spline = results.get_matter_power_interpolator(
        nonlinear=False, hubble_units=False, k_hunit=False, var1="delta_tot", var2="delta_tot")
    k = K_H * cosmo.H0 / 100.0
    power = np.array([spline.P(z, k) for z in REDSHIFTS])
    return CambReference(K_H, power, float(results.get_sigma8_0()))


def grid_of_cosmologies(n: int, seed: int, extended: bool) -> list[sz.CosmoParams]:
    """`n` cosmologies on a Latin hypercube inside the EuclidEmulator2 box (shrunk by 2% of
    each width): Omega_m in [0.24, 0.40] (with neutrinos), Omega_b [0.04, 0.06], h [0.61,
    0.73], n_s [0.92, 1], 10^9 A_s [1.7, 2.5]; with `extended`, also m_nu [0, 0.15] eV,
    w0 [-1.3, -0.7], wa [-0.7, 0.5] (w0 + wa < 0 kept by construction); otherwise m_nu = 0,
    w0 = -1, wa = 0. logA is set; the CAMB reference gives sigma8.
    """
    rng = np.random.default_rng(seed)
    edges = [(0.24, 0.40), (0.04, 0.06), (0.61, 0.73), (0.92, 1.00), (1.7, 2.5)]
    if extended:
        edges += [(0.0, 0.15), (-1.3, -0.7), (-0.7, 0.5)]
    unit = (np.argsort(rng.random((len(edges), n)), axis=1) + rng.random((len(edges), n))) / n
    cosmologies = []
    for column in unit.T:
        values = [lo + (hi - lo) * (0.02 + 0.96 * u) for (lo, hi), u in zip(edges, column)]
        om, ob, h, n_s, as9 = values[:5]
        m_nu, w0, wa = values[5:] if extended else (0.0, -1.0, 0.0)
        wa = min(wa, -w0 - 0.05)
        omega_nu = m_nu / 93.14
        cosmologies.append(sz.CosmoParamsDegenerateNu(
            omega_b=ob * h**2, omega_cdm=om * h**2 - ob * h**2 - omega_nu, H0=100.0 * h, n_s=n_s,
            logA=float(np.log(10.0 * as9)), m_nu=m_nu, w0=w0, wa=wa))
    return cosmologies

def camb_params(cosmo, transfer: bool = False, **extra):
    """camb.CAMBparams matched to `cosmo` (module docstring); `extra` overrides any keyword
    of camb.set_params (e.g. redshifts, kmax)."""
    import camb

    kwargs = dict(
        ombh2=cosmo.omega_b, omch2=cosmo.omega_cdm, H0=cosmo.H0, ns=cosmo.n_s, mnu=cosmo.m_nu,
        num_massive_neutrinos=cosmo.N_MASSIVE_NU if cosmo.m_nu > 0 else 0, nnu=3.044, TCMB=2.7255,
        YHe=0.245, WantCls=False, dark_energy_model="ppf", w=cosmo.w0, wa=cosmo.wa,
    )
    if cosmo.logA is not None:
        kwargs["As"] = 1e-10 * np.exp(cosmo.logA)
    if transfer:
        kwargs.update(WantTransfer=True, kmax=5.0)
    kwargs.update(extra)
    return camb.set_params(**kwargs)
