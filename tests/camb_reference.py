"""CAMB parameters matched to a `CosmoParams` (a helper module for the tests, not a test file).

Matched settings: flat, T_cmb = 2.7255 K, N_eff = 3.044 (nnu), the mass sum `mnu` = m_nu in
`num_massive_neutrinos` = N_MASSIVE_NU degenerate species (CAMB's default share_delta_neff:
each massive species counts N_eff / 3, as in the engine), and dark_energy_model = 'ppf'
(CPL w(a) = w0 + wa (1 - a) in the background; the PPF perturbations are negligible inside
the horizon). A_s = 1e-10 exp(logA) when the cosmology has logA. Tests import this after
``pytest.importorskip("camb")``.
"""

import numpy as np

__all__ = ["camb_params"]


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
