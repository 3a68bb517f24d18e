"""Frequency dependence of the thermal SZ effect: CMB temperature power -> Compton-y power.

In the non-relativistic limit a Compton-y fluctuation changes the CMB thermodynamic
temperature by

    Delta T / T_cmb = g(x) y,    g(x) = x coth(x/2) - 4,    x = h nu / (k_B T_cmb),

so a tSZ temperature power D_ell^TT (in muK^2) is the Compton-y power

    D_ell^yy = D_ell^TT / (T_cmb^2 g(x)^2)    (T_cmb in muK; D^yy dimensionless).

g(x) < 0 below 217 GHz (a decrement). The band is treated as monochromatic at ``nu``
(no bandpass integral) and relativistic corrections are neglected.
"""

import math

__all__ = ["BOLTZMANN_K", "PLANCK_H", "T_CMB", "dl_tt_to_yy", "tsz_spectral_function", "tsz_x"]

#: Planck constant [J s] (exact, SI 2019).
PLANCK_H = 6.62607015e-34
#: Boltzmann constant [J / K] (exact, SI 2019).
BOLTZMANN_K = 1.380649e-23
#: CMB temperature today [K] (Fixsen 2009).
T_CMB = 2.7255


def tsz_x(nu_hz: float, t_cmb: float = T_CMB) -> float:
    """Dimensionless frequency x = h nu / (k_B T_cmb).

    Parameters
    ----------
    nu_hz : float
        Frequency [Hz], > 0.
    t_cmb : float
        CMB temperature [K], > 0.

    Returns
    -------
    float
        x (dimensionless).
    """
    if not (nu_hz > 0 and math.isfinite(nu_hz)):
        raise ValueError(f"nu_hz must be a positive finite frequency in Hz; got {nu_hz!r}.")
    if not (t_cmb > 0 and math.isfinite(t_cmb)):
        raise ValueError(f"t_cmb must be a positive finite temperature in K; got {t_cmb!r}.")
    return PLANCK_H * nu_hz / (BOLTZMANN_K * t_cmb)


def tsz_spectral_function(nu_hz: float, t_cmb: float = T_CMB) -> float:
    """Non-relativistic tSZ spectral function g(x) = x coth(x/2) - 4 in thermodynamic units.

    Parameters
    ----------
    nu_hz : float
        Frequency [Hz], > 0.
    t_cmb : float
        CMB temperature [K], > 0.

    Returns
    -------
    float
        g (dimensionless): Delta T / T_cmb = g y.
    """
    x = tsz_x(nu_hz, t_cmb)
    return x / math.tanh(x / 2.0) - 4.0


def dl_tt_to_yy(d_tt_muk2: float, nu_hz: float, t_cmb: float = T_CMB) -> float:
    """Convert a tSZ temperature power D_ell^TT [muK^2] at ``nu_hz`` into Compton-y D_ell^yy.

    Also converts an error (the map is linear): D^yy = D^TT / (T_cmb^2 g^2).

    Parameters
    ----------
    d_tt_muk2 : float
        D_ell = ell (ell+1) C_ell / (2 pi) of the tSZ temperature anisotropy [muK^2]
        (thermodynamic units).
    nu_hz : float
        Frequency of the band [Hz], treated as monochromatic.
    t_cmb : float
        CMB temperature [K].

    Returns
    -------
    float
        D_ell^yy (dimensionless; multiply by 1e12 for the bandpower files' units).
    """
    g = tsz_spectral_function(nu_hz, t_cmb)
    t_muk = t_cmb * 1e6
    return d_tt_muk2 / (t_muk**2 * g**2)
