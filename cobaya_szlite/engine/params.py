"""Parameter containers of the engine.

`CosmoParams` and `ProfileParamsA10` are NamedTuple pytrees: every field is a
leaf that `jax.grad`, `jax.jacfwd` and `jax.vmap` can act on. `Precision` holds
static settings (ranges and grid sizes); it is registered as a pytree with no
leaves, so `jax.jit` treats it as a compile-time constant wherever it is passed.
"""

import math
from typing import NamedTuple

import jax

__all__ = ["CosmoParams", "ProfileParamsA10", "Precision"]


class CosmoParams(NamedTuple):
    """Flat LCDM cosmology (massless neutrinos, N_eff = 3.044, T_cmb = 2.7255 K).

    Parameters
    ----------
    omega_b : float
        Physical baryon density Omega_b h^2 [dimensionless].
    omega_cdm : float
        Physical cold dark matter density Omega_c h^2 [dimensionless].
    H0 : float
        Hubble constant [km s^-1 Mpc^-1].
    n_s : float
        Scalar spectral index [dimensionless].
    sigma8 : float
        rms linear density contrast in spheres of 8 h^-1 Mpc at z = 0.

    Photons and massless neutrinos enter E(z); Omega_Lambda closes the budget.
    """

    omega_b: float = 0.02242
    omega_cdm: float = 0.11933
    H0: float = 67.66
    n_s: float = 0.9665
    sigma8: float = 0.8102


class ProfileParamsA10(NamedTuple):
    """Arnaud et al. (2010) generalised NFW pressure profile and mass bias.

    Parameters
    ----------
    P0 : float
        Normalisation of the dimensionless profile (multiplied by h70^-1.5).
    c500 : float
        Concentration: scale radius r_s = r500 / c500.
    gamma, alpha, beta : float
        Inner, intermediate and outer slopes of the GNFW profile.
    alpha_p : float
        Extra mass dependence of P500 beyond self-similarity.
    B : float
        Hydrostatic mass bias: the profile of a halo of true mass M500c is
        that of mass M500c / B (B = 1 / (1 - b)).
    """

    P0: float = 8.130
    c500: float = 1.156
    gamma: float = 0.3292
    alpha: float = 1.062
    beta: float = 5.4807
    alpha_p: float = 0.12
    B: float = 1.25


class Precision(NamedTuple):
    """Static numerical settings of the tSZ computation.

    Parameters
    ----------
    z_min, z_max : float
        Redshift range of the Limber integral. The default z_min = 0.005 follows the
        matched-settings comparison with pyccl (tests/); at ell <~ 30 halos below z = 0.005 still add
        up to ~50% of D_ell (class_sz-style analyses use z_min = 1e-5, with q_max = 1e6).
    m_min, m_max : float
        Range of true M500c [Msun] (no h) of the mass integral.
    x_out : float
        Truncation radius of the pressure profile in units of r500;
        ``math.inf`` integrates the untruncated profile.
    n_z : int
        Number of redshift nodes (log-spaced in z, Simpson's rule; odd).
    n_m : int
        Number of mass nodes (log-spaced, Simpson's rule; odd).
    n_x : int
        Number of radial nodes of the profile Fourier transform.
    n_k : int
        Number of wavenumber nodes of the sigma(R) quadrature.
    q_min, q_max : float
        Range of the tabulated profile transform in q = k r500 [dimensionless]. Points
        needing q > q_max (high ell at low z_min) return NaN rather than a clamped value.

    Defaults are converged to better than 0.5% on C_ell against 4x denser grids
    (tests/test_cl_yy.py::test_defaults_converged_against_4x_denser_grids).
    The fields must be Python numbers: the object is a compile-time constant.
    """

    z_min: float = 0.005
    z_max: float = 3.0
    m_min: float = 1e10
    m_max: float = 5e15
    x_out: float = math.inf
    n_z: int = 61
    n_m: int = 61
    n_x: int = 400
    n_k: int = 200
    q_min: float = 1e-5
    q_max: float = 1e4


jax.tree_util.register_static(Precision)
