"""Eisenstein & Hu (1998) linear power spectrum with baryon wiggles: the "eh98" backend.

T(k) is the EH98 transfer function of CDM + baryons (omega_cb, omega_b; the neutrinos,
relativistic at the drag epoch for m_nu < 1 eV, enter only through R(k) and the growth).
Total matter: P(k, z=0) = A k^n_s T(k)^2 R(k)^2 with R = delta_m / delta_cb
(`neutrinos.matter_over_cb`), and A fixed by sigma(8 h^-1 Mpc, z=0) = sigma8 through a
1024-node trapezoid rule in ln k over [1e-5, 1e3] Mpc^-1 (top-hat window). With logA
given, sigma8 follows from `sigma8_from_logA`:

    Delta^2_m(k) = (4/25) A_s (k/k_pivot)^(n_s-1) (k/H0)^4 T(k)^2 R(k)^2 G0^2 / Omega_cb^2

(`sigma.primordial_delta2_cb`; G0 = `background.growth_md0`, the CDM + baryon growth
normalised to a in matter domination). Its accuracy is EH98's: sigma8(A_s) within a few
% of CAMB's (measured range in docs/engine.md). Backend contract (see
`cobaya_szlite.engine.linear_power`): `power_z0(cosmo, k)`.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..background import omega_cb
from ..constants import T_CMB
from ..params import CosmoParams
from .neutrinos import matter_over_cb
from .sigma import normalised_power, primordial_delta2_cb, sigma8_from_power

__all__ = ["power_z0", "sigma8_from_logA", "transfer_eh98"]


# EH98 power laws of omega_cb = Omega_cb h^2 as c * omega_m^e, evaluated with one exp:
# b1 (two factors), b2, z_d (two), k_silk (two), a1 (two), a2 (two), b1 of beta_c
# written as 1/(1+x) with x = (458 omega_m)^-0.708, b2 of beta_c, beta_node.
_EH98_COEFFS, _EH98_EXPONENTS = np.array([
    (0.313, -0.419), (0.607, 0.674), (0.238, 0.223), (1291.0, 0.251), (0.659, 0.828),
    (1.6, 0.73), (10.4**-0.95, -0.95), (46.9**0.670, 0.670), (32.1**-0.532, -0.532),
    (12.0**0.424, 0.424), (45.0**-0.582, -0.582), (458.0**-0.708, -0.708),
    (0.395**-0.0266, -0.0266), (8.41, 0.435),
]).T


def _eh98_tilde(log_term, c_term, q2, alpha_c):
    """EH98 eq. (19)-(20): T0 = L / (L + C q^2), with L = ln(e + 1.8 beta_c q) and
    C = 14.2 / alpha_c + 386 / (1 + 69.9 q^1.08) (`c_term` is the second part)."""
    return log_term / (log_term + (14.2 / alpha_c + c_term) * q2)


def _sinc(x):
    safe = jnp.where(jnp.abs(x) < 1e-4, 1.0, x)
    return jnp.where(jnp.abs(x) < 1e-4, 1.0 - x**2 / 6.0, jnp.sin(safe) / safe)


@jax.jit
def transfer_eh98(k: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Eisenstein & Hu (1998) CDM + baryon transfer function with baryon acoustic oscillations.

    Evaluated with omega_cb = omega_b + omega_cdm as the matter density (massive neutrinos
    excluded); for m_nu = 0 the total-matter transfer function.

    Parameters
    ----------
    k : array_like
        Comoving wavenumber [Mpc^-1].
    cosmo : CosmoParams

    Returns
    -------
    T(k), dimensionless, -> 1 as k -> 0.
    """
    k = jnp.asarray(k, dtype=float)
    wm = omega_cb(cosmo)
    wb = cosmo.omega_b
    fb = wb / wm
    fc = cosmo.omega_cdm / wm
    ln_wb = jnp.log(wb)
    theta = T_CMB / 2.7
    (b1_lo, b1_hi, b2, zd_lo, zd_hi, silk, silk_corr,
     a1_lo, a1_hi, a2_lo, a2_hi, bb1, bb2, beta_node) = _EH98_COEFFS * jnp.exp(_EH98_EXPONENTS * jnp.log(wm))

    z_eq = 2.50e4 * wm * theta**-4
    k_eq = 7.46e-2 * wm * theta**-2
    b1 = b1_lo * (1.0 + b1_hi)
    z_d = zd_lo / (1.0 + zd_hi) * (1.0 + b1 * jnp.exp(b2 * ln_wb))
    r_d = 31.5 * wb * theta**-4 * (1e3 / z_d)
    r_eq = 31.5 * wb * theta**-4 * (1e3 / z_eq)
    s = (
        2.0 / (3.0 * k_eq) * jnp.sqrt(6.0 / r_eq)
        * jnp.log((jnp.sqrt(1.0 + r_d) + jnp.sqrt(r_d + r_eq)) / (1.0 + jnp.sqrt(r_eq)))
    )
    ln_k_silk = jnp.log(silk * (1.0 + silk_corr)) + 0.52 * ln_wb
    alpha_c = jnp.exp(-fb * jnp.log(a1_lo * (1.0 + a1_hi)) - fb**3 * jnp.log(a2_lo * (1.0 + a2_hi)))
    beta_c = 1.0 / (1.0 + 0.944 / (1.0 + bb1) * (jnp.exp(bb2 * jnp.log(fc)) - 1.0))

    ln_k = jnp.log(k)
    ln_q = ln_k - jnp.log(13.41 * k_eq)
    q = jnp.exp(ln_q)
    ks = k * s
    f = 1.0 / (1.0 + (ks / 5.4) ** 4)
    q2 = q**2
    c_term = 386.0 / (1.0 + 69.9 * jnp.exp(1.08 * ln_q))
    log_c = jnp.log(jnp.e + 1.8 * beta_c * q)
    log_1 = jnp.log(jnp.e + 1.8 * q)
    t_c = f * _eh98_tilde(log_c, c_term, q2, 1.0) + (1.0 - f) * _eh98_tilde(log_c, c_term, q2, alpha_c)

    y = (1.0 + z_eq) / (1.0 + z_d)
    sq = jnp.sqrt(1.0 + y)
    g = y * (-6.0 * sq + (2.0 + 3.0 * y) * jnp.log((sq + 1.0) / (sq - 1.0)))
    alpha_b = 2.07 * k_eq * s * (1.0 + r_d) ** -0.75 * g
    beta_b = 0.5 + fb + (3.0 - 2.0 * fb) * jnp.sqrt((17.2 * wm) ** 2 + 1.0)
    s_tilde = s / (1.0 + (beta_node / ks) ** 3) ** (1.0 / 3.0)
    t_b = (
        _eh98_tilde(log_1, c_term, q2, 1.0) / (1.0 + (ks / 5.2) ** 2)
        + alpha_b / (1.0 + (beta_b / ks) ** 3) * jnp.exp(-jnp.exp(1.4 * (ln_k - ln_k_silk)))
    ) * _sinc(k * s_tilde)
    return fb * t_b + fc * t_c


def _shape(cosmo: CosmoParams, k: ArrayLike) -> jax.Array:
    """k^n_s T(k)^2 R(k)^2: the unnormalised total-matter spectrum."""
    return k**cosmo.n_s * (transfer_eh98(k, cosmo) * matter_over_cb(cosmo, k)) ** 2


def sigma8_from_logA(cosmo: CosmoParams) -> jax.Array:
    """sigma8 of total matter at z = 0 from A_s = 1e-10 exp(cosmo.logA) (module docstring).

    Parameters
    ----------
    cosmo : CosmoParams
        `logA` must be set.

    Returns
    -------
    Array, scalar
        Dimensionless.
    """
    def power(k):
        delta2 = primordial_delta2_cb(cosmo, k, transfer_eh98(k, cosmo) * matter_over_cb(cosmo, k))
        return delta2 * 2.0 * np.pi**2 / k**3

    return sigma8_from_power(cosmo, power)


def power_z0(cosmo: CosmoParams, k: ArrayLike) -> jax.Array:
    """Total-matter linear power spectrum at z = 0, normalised to sigma8 or A_s [Mpc^3].

    One EH98 evaluation serves the normalisation nodes and every requested wavenumber
    (`sigma.normalised_power`; with logA set, `sigma8_from_logA` adds one more on the
    normalisation nodes).

    Parameters
    ----------
    cosmo : CosmoParams
    k : Array, shape (n,)
        Comoving wavenumbers [Mpc^-1] (one flat array: pass every wavenumber at once).

    Returns
    -------
    Array, shape (n,)
    """
    return normalised_power(cosmo, lambda kk: _shape(cosmo, kk), k, sigma8_from_logA)
