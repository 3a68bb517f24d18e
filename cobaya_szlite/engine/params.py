"""Parameter containers of the engine.

`CosmoParams` and `ProfileParamsA10` are NamedTuple pytrees: every field is a
leaf that `jax.grad`, `jax.jacfwd` and `jax.vmap` can act on. `HaloModel` (the
component choices) and `Precision` (ranges and grid sizes, in precision.py) are
static: registered as pytrees with no leaves, so `jax.jit` treats them as
compile-time constants wherever they are passed.
"""

from typing import NamedTuple

import jax

from .precision import Precision

__all__ = ["SIGMA8_DEFAULT", "CosmoParams", "CosmoParamsDegenerateNu", "HaloModel", "Precision", "ProfileParamsA10"]


class _CosmoFields(NamedTuple):
    omega_b: float = 0.02242
    omega_cdm: float = 0.11933
    H0: float = 67.66
    n_s: float = 0.9665
    sigma8: float | None = None
    logA: float | None = None
    m_nu: float = 0.06
    w0: float = -1.0
    wa: float = 0.0


SIGMA8_DEFAULT = 0.8102
"""sigma8 of `CosmoParams()` when neither sigma8 nor logA is given."""


class CosmoParams(_CosmoFields):
    """Flat cosmology: CDM, baryons, photons, neutrinos and w0-wa dark energy.

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
    sigma8 : float or None
        rms linear density contrast of all matter in spheres of 8 h^-1 Mpc at z = 0.
    logA : float or None
        ln(10^10 A_s), A_s the primordial curvature amplitude at k = 0.05 Mpc^-1.
        Exactly one of `sigma8` and `logA` is given (a float); the other is None and
        follows from the linear-power backend. Neither: sigma8 = `SIGMA8_DEFAULT`.
    m_nu : float
        Sum of the neutrino masses [eV] (CAMB's and Planck's default 0.06).
    w0, wa : float
        Dark-energy equation of state w(a) = w0 + wa (1 - a) [dimensionless].

    Neutrinos: N_eff = 3.044 in total; the mass sits in `N_MASSIVE_NU` degenerate
    species, each counting N_eff / 3 (CAMB's convention); the others are massless.
    `CosmoParams` puts all the mass in one species (Planck's baseline);
    `CosmoParamsDegenerateNu` splits it over three. Omega_Lambda (or the w0-wa fluid)
    closes the budget. A static class attribute, so jit treats the choice as a
    compile-time constant.
    """

    N_MASSIVE_NU = 1

    def __new__(cls, omega_b=0.02242, omega_cdm=0.11933, H0=67.66, n_s=0.9665, sigma8=None,
                logA=None, m_nu=0.06, w0=-1.0, wa=0.0):
        if sigma8 is None and logA is None:
            sigma8 = SIGMA8_DEFAULT
        elif sigma8 is not None and logA is not None:
            raise ValueError("CosmoParams takes exactly one of sigma8 and logA (ln 10^10 A_s); got both")
        return super().__new__(cls, omega_b, omega_cdm, H0, n_s, sigma8, logA, m_nu, w0, wa)


class CosmoParamsDegenerateNu(CosmoParams):
    """`CosmoParams` with the neutrino mass sum split over three degenerate species."""

    N_MASSIVE_NU = 3


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


class HaloModel(NamedTuple):
    """Static choice of the halo-model components (hashable; no pytree leaves).

    Parameters
    ----------
    linear_power : str
        Linear matter power spectrum backend, a key of
        `cobaya_szlite.engine.linear_power.LINEAR_POWER_BACKENDS` ("eh98":
        Eisenstein & Hu 1998 with baryon wiggles).
    mass_function : str
        Multiplicity function, a key of `cobaya_szlite.engine.mass_function.MASS_FUNCTIONS`
        ("tinker08": Tinker et al. 2008).
    bias : str
        Linear halo bias, a key of `cobaya_szlite.engine.mass_function.BIASES`
        ("tinker10": Tinker et al. 2010).
    mass_definition : str
        Spherical-overdensity mass of the whole halo model, a key of
        `cobaya_szlite.engine.halos.MASS_DEFINITIONS`: "500c" (default) or "200c" (mean
        density 500 or 200 times rho_crit(z)). The mass grid (`Precision.m_min`,
        `Precision.m_max`), the mass function and the bias are in this definition, and
        `cl_yy` refuses a profile whose ``MASS_DEFINITION`` differs (no conversion).

    The pressure profile is not named here: it follows the type of the profile
    parameters passed to `cl_yy` (see `cobaya_szlite.engine.profiles`).
    """

    linear_power: str = "eh98"
    mass_function: str = "tinker08"
    bias: str = "tinker10"
    mass_definition: str = "500c"


jax.tree_util.register_static(HaloModel)
