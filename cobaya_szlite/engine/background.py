"""Flat background: expansion rate, distances, volume, densities, linear growth.

Components: CDM + baryons, photons, neutrinos (N_eff = 3.044 in total) and w0-wa dark
energy closing the budget (flat). The neutrino mass sum `m_nu` sits in
`cosmo.N_MASSIVE_NU` degenerate species (a static class attribute), each counting
N_eff / 3 of N_eff and carrying m_nu / N_MASSIVE_NU, with CAMB's convention for the
temperature: the Fermi-Dirac density of one massive species is that of g = N_eff / 3
relativistic species at T_nu = (4/11)^(1/3) T_cmb times F(x), x = m a / T_nu with
m = (m_nu / N_MASSIVE_NU) (3 / N_eff)^(1/4) (so that Omega_nu h^2 = m_nu (N_eff/3)^(3/4)
/ 94.1 eV in the non-relativistic limit, and H(z) is CAMB's to 1e-8), evaluated on a
fixed 24-node Gauss-Laguerre momentum quadrature (relative error of F and of the pressure
< 1e-6 for every x). The remaining N_eff (1 - N/3) species are massless. Dark energy:
w(a) = w0 + wa (1 - a) (CPL), a smooth fluid.

Integrals over redshift use fixed Gauss-Legendre rules, so every function is jit-safe
and exactly differentiable in `z` and in `cosmo`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .constants import C_KM_S, N_EFF, OMEGA_NU_H2, OMEGA_R_H2, RHO_CRIT_100, T_NU_EV

if TYPE_CHECKING:
    from .params import CosmoParams

__all__ = [
    "E_z",
    "Omega_cb_z",
    "Omega_m_z",
    "angular_diameter_distance",
    "comoving_distance",
    "dVdzdOmega",
    "growth_factor",
    "growth_md0",
    "h_of",
    "omega_cb",
    "omega_m",
    "omega_de",
    "omega_nu",
    "rho_cb0",
    "rho_crit",
    "rho_m0",
    "volume_from_distance",
]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(48)

_FD_Q, _FD_LAGUERRE_W = np.polynomial.laguerre.laggauss(24)
_FD_RELATIVISTIC = 7.0 * np.pi**4 / 120.0  # Int q^3 / (e^q + 1) dq
_FD_W = _FD_LAGUERRE_W / (1.0 + np.exp(-_FD_Q))
_FD_W = _FD_W / np.sum(_FD_W * _FD_Q**3)  # F(0) = G(0) = 1 exactly: massless species are radiation
_ZETA3 = 1.2020569031595942
_FD_NONREL = 1.5 * _ZETA3 / _FD_RELATIVISTIC  # F(x) / x for x -> inf
_OMEGA_NU_PER_SPECIES = OMEGA_NU_H2 / 3.0  # one species counting N_eff / 3, relativistic limit [h^2]


def h_of(cosmo: CosmoParams) -> ArrayLike:
    """Dimensionless Hubble constant h = H0 / (100 km s^-1 Mpc^-1).

    Parameters
    ----------
    cosmo : CosmoParams
        Cosmological parameters (every function of this module takes it).

    Returns
    -------
    h : float or Array
        Dimensionless.
    """
    return cosmo.H0 / 100.0


def omega_cb(cosmo: CosmoParams) -> ArrayLike:
    """Physical CDM + baryon density omega_cb = omega_b + omega_cdm [dimensionless, Omega h^2].

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    omega_cb : float or Array
    """
    return cosmo.omega_b + cosmo.omega_cdm


def _nu_mass_over_temperature(cosmo: CosmoParams) -> ArrayLike:
    """x0 = m / T_nu of one massive species today (CAMB's convention, module docstring)."""
    return cosmo.m_nu / cosmo.N_MASSIVE_NU * (3.0 / N_EFF) ** 0.25 / T_NU_EV


def omega_nu(cosmo: CosmoParams) -> ArrayLike:
    """Massive-neutrino density today in the non-relativistic limit, Omega_nu h^2 [dimensionless].

    omega_nu = m_nu (N_eff/3)^(3/4) / (94.1 eV): linear in the mass sum and 0 at m_nu = 0.
    The full Fermi-Dirac density today (used in E(z), and CAMB's `omnuh2`) is higher by the
    neutrinos' residual kinetic energy: 5e-5 relative for one 0.06 eV species, 5e-4 for
    three of 0.02 eV, i.e. omega_m within 2e-6 of CAMB's omegam h^2.

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    omega_nu : float or Array
    """
    return cosmo.N_MASSIVE_NU * _OMEGA_NU_PER_SPECIES * _FD_NONREL * _nu_mass_over_temperature(cosmo)


def omega_m(cosmo: CosmoParams) -> ArrayLike:
    """Physical matter density Omega_m h^2 = omega_b + omega_cdm + omega_nu (massive neutrinos included).

    What CAMB calls omegam h^2: the derived Omega_m is this over h^2.

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    omega_m : float or Array
        Dimensionless.
    """
    return omega_cb(cosmo) + omega_nu(cosmo)


def omega_de(cosmo: CosmoParams) -> ArrayLike:
    """Dark-energy density today that closes the flat budget, Omega_de h^2 [dimensionless].

    h^2 minus CDM, baryons, photons, massless neutrinos and the exact Fermi-Dirac density
    of the massive ones today; must be > 0 (`validate`).

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    omega_de : float or Array
    """
    (_, _, _, de), _ = _densities(1.0, cosmo, jnp)
    return de


def _fd_energy_pressure(x, xp):
    """F(x), G(x): density and 3 x pressure of a Fermi-Dirac species over their massless values.

    F = Int q^2 sqrt(q^2 + x^2) f dq / Int q^3 f dq, G = Int q^4 / sqrt(q^2 + x^2) f dq / (same),
    f = 1 / (e^q + 1), on the fixed Gauss-Laguerre nodes (F = G = 1 at x = 0).
    """
    x = xp.asarray(x)[..., None]
    energy = xp.sqrt(_FD_Q**2 + x**2)
    return xp.sum(_FD_W * _FD_Q**2 * energy, axis=-1), xp.sum(_FD_W * _FD_Q**4 / energy, axis=-1)


@jax.custom_jvp
def _fd_energy(x):
    """F(x) of `_fd_energy_pressure` with an explicit derivative dF/dx = x Int q^2 f / sqrt(q^2 + x^2).

    The same quadrature gives the derivative, so reverse mode keeps one value per x instead
    of the whole momentum grid (the distance integral evaluates F at ~3000 redshifts).
    """
    return _fd_energy_pressure(x, jnp)[0]


@_fd_energy.defjvp
def _fd_energy_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    xx = jnp.asarray(x)[..., None]
    energy = jnp.sqrt(_FD_Q**2 + xx**2)
    value = jnp.sum(_FD_W * _FD_Q**2 * energy, axis=-1)
    slope = x * jnp.sum(_FD_W * _FD_Q**2 / energy, axis=-1)
    return value, slope * dx


def _densities(a, cosmo: CosmoParams, xp):
    """Physical densities rho / rho_crit,100 at scale factor `a`, and their d/dln a.

    Returns ((cb, radiation, nu, de), (dcb, drad, dnu, dde)), all of the shape of `a`.
    """
    n_massive = cosmo.N_MASSIVE_NU
    w_cb = omega_cb(cosmo)
    w_rad = OMEGA_R_H2 - n_massive * _OMEGA_NU_PER_SPECIES
    x0 = _nu_mass_over_temperature(cosmo)
    energy = _fd_energy if xp is jnp else (lambda x: _fd_energy_pressure(x, xp)[0])
    f_today = energy(x0)
    w_de = h_of(cosmo) ** 2 - w_cb - w_rad - n_massive * _OMEGA_NU_PER_SPECIES * f_today
    a = xp.asarray(a)
    ln_a = xp.log(a)
    cb = w_cb * a**-3
    rad = w_rad * a**-4
    nu_rel = n_massive * _OMEGA_NU_PER_SPECIES * a**-4
    f_nu = energy(x0 * a)
    g_nu = _fd_energy_pressure(x0 * a, xp)[1]
    w0, wa = cosmo.w0, cosmo.wa
    de = w_de * xp.exp(-3.0 * ((1.0 + w0 + wa) * ln_a + wa * (1.0 - a)))
    values = (cb, rad, nu_rel * f_nu, de)
    slopes = (-3.0 * cb, -4.0 * rad, -nu_rel * (3.0 * f_nu + g_nu), -3.0 * (1.0 + w0 + wa * (1.0 - a)) * de)
    return values, slopes


def _e_of_z(z, cosmo: CosmoParams, xp):
    """E(z) with array module `xp` (jax.numpy traced, numpy for static sizing)."""
    (cb, rad, nu, de), _ = _densities(1.0 / (1.0 + xp.asarray(z)), cosmo, xp)
    return xp.sqrt((cb + rad + nu + de) / h_of(cosmo) ** 2)


def _chi_of_z(z, cosmo: CosmoParams, xp):
    """chi(z) [Mpc] by the 48-point Gauss-Legendre rule, with array module `xp`."""
    z = xp.asarray(z, dtype=float)
    half = 0.5 * z[..., None]
    zz = half * (1.0 + _GL_X)
    integral = half[..., 0] * xp.sum(_GL_W / _e_of_z(zz, cosmo, xp), axis=-1)
    return C_KM_S / cosmo.H0 * integral


@jax.jit
def E_z(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Dimensionless expansion rate E(z) = H(z) / H0.

    Parameters
    ----------
    z : array_like
        Redshift.
    cosmo : CosmoParams

    Returns
    -------
    E : Array
        The shape of `z` [dimensionless].
    """
    return _e_of_z(z, cosmo, jnp)


@jax.jit
def Omega_m_z(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Matter density parameter Omega_m(z) = (rho_cb + rho_nu) / rho_crit at `z`.

    rho_nu is the full Fermi-Dirac density of the massive species (non-relativistic
    for z < 10 at m_nu >= 0.06 eV).

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    Omega_m_z : Array
        The shape of `z` [dimensionless].
    """
    (cb, rad, nu, de), _ = _densities(1.0 / (1.0 + jnp.asarray(z)), cosmo, jnp)
    return (cb + nu) / (cb + rad + nu + de)


@jax.jit
def Omega_cb_z(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """CDM + baryon density parameter Omega_cb(z) = rho_cb / rho_crit at `z`.

    The halo definitions use it: Delta_m = Delta_c / Omega_cb(z) (Delta_c = 500 or 200) is the overdensity
    relative to the mean CDM + baryon density (see `halos.delta_mean`).

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    Omega_cb_z : Array
        The shape of `z` [dimensionless].
    """
    (cb, rad, nu, de), _ = _densities(1.0 / (1.0 + jnp.asarray(z)), cosmo, jnp)
    return cb / (cb + rad + nu + de)


@jax.jit
def comoving_distance(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Line-of-sight comoving distance chi(z) = (c/H0) Int_0^z dz'/E(z') [Mpc].

    A 48-point Gauss-Legendre rule on [0, z] (relative error < 1e-12 for z < 10).

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    chi : Array
        The shape of `z` [Mpc].
    """
    return _chi_of_z(z, cosmo, jnp)


@jax.jit
def angular_diameter_distance(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Angular-diameter distance d_A(z) = chi(z) / (1+z) [Mpc] (flat universe).

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    d_A : Array
        The shape of `z` [Mpc].
    """
    return comoving_distance(z, cosmo) / (1.0 + jnp.asarray(z))


@jax.jit
def dVdzdOmega(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Comoving volume element dV/dz/dOmega = c chi^2 / H(z) [Mpc^3 sr^-1].

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    dVdzdOmega : Array
        The shape of `z` [Mpc^3 sr^-1].
    """
    return volume_from_distance(z, comoving_distance(z, cosmo), cosmo)


def volume_from_distance(z: ArrayLike, chi: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """dV/dz/dOmega = c chi^2 / H(z) from an already computed chi(z) [Mpc^3 sr^-1].

    Parameters
    ----------
    z : array_like
        Redshift.
    chi : array_like
        Comoving distance at `z` [Mpc].
    cosmo : CosmoParams

    Returns
    -------
    dVdzdOmega : Array
        The broadcast shape of `z` and `chi` [Mpc^3 sr^-1].
    """
    return C_KM_S / cosmo.H0 * chi**2 / E_z(z, cosmo)


@jax.jit
def rho_crit(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Critical density rho_crit(z) = 3 H(z)^2 / (8 pi G) [Msun Mpc^-3].

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    rho_crit : Array
        The shape of `z` [Msun Mpc^-3].
    """
    return RHO_CRIT_100 * h_of(cosmo) ** 2 * E_z(z, cosmo) ** 2


def rho_m0(cosmo: CosmoParams) -> ArrayLike:
    """Comoving mean matter density rho_m,0 = Omega_m rho_crit,0, massive neutrinos included [Msun Mpc^-3].

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    rho_m0 : float or Array
        [Msun Mpc^-3].
    """
    return RHO_CRIT_100 * omega_m(cosmo)


def rho_cb0(cosmo: CosmoParams) -> ArrayLike:
    """Comoving mean CDM + baryon density rho_cb,0 = Omega_cb rho_crit,0 [Msun Mpc^-3].

    The mean density of the halo model: Lagrangian radii and dn/dlnM use it (halos made of
    CDM + baryons; Costanzi et al. 2013).

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    rho_cb0 : float or Array
        [Msun Mpc^-3].
    """
    return RHO_CRIT_100 * omega_cb(cosmo)


_GROWTH_LNA0 = np.log(1e-3)
_GROWTH_STEPS = 128
_GROWTH_DLNA = -_GROWTH_LNA0 / _GROWTH_STEPS


def _growth_matrix(ln_a, cosmo: CosmoParams):
    """A(ln a) of the linear growth system d/dln a (D, dD/dln a) = A (D, dD/dln a)."""
    (cb, rad, nu, de), slopes = _densities(jnp.exp(ln_a), cosmo, jnp)
    total = cb + rad + nu + de
    dlne_dlna = sum(slopes) / (2.0 * total)
    zero, one = jnp.zeros_like(ln_a), jnp.ones_like(ln_a)
    row0 = jnp.stack([zero, one], axis=-1)
    row1 = jnp.stack([1.5 * cb / total, -(2.0 + dlne_dlna)], axis=-1)
    return jnp.stack([row0, row1], axis=-2)


def _early_equality(cosmo: CosmoParams):
    """a_eq = omega_rel / omega_cb at the start a0 = 1e-3, with the massive neutrinos' density there."""
    a0 = np.exp(_GROWTH_LNA0)
    (_, rad, nu, _), _ = _densities(a0, cosmo, jnp)
    return (rad + nu) * a0**4 / omega_cb(cosmo)


def _growth_table(cosmo: CosmoParams):
    """(D, dD/dln a) on the ln a nodes, unnormalised: RK4 from a = 1e-3.

    The system is linear, so each RK4 step is a 2x2 matrix, all built at once; a scan
    then applies them in turn (a tiny loop body: fast to compile and to differentiate).
    Initial conditions: the growing (Meszaros) mode D = 1 + 3y/2, y = a/a_eq, exact for
    CDM + baryons + radiation (the massive neutrinos counted as radiation at a = 1e-3,
    `_early_equality`; dark energy is < 1e-8 there for w0 = -1, wa = 0).
    """
    h = _GROWTH_DLNA
    ln_a = _GROWTH_LNA0 + h * np.arange(_GROWTH_STEPS)
    a0, a_half, a1 = jnp.split(_growth_matrix(np.concatenate([ln_a, ln_a + 0.5 * h, ln_a + h]), cosmo), 3)
    eye = jnp.eye(2)
    k2 = a_half @ (eye + 0.5 * h * a0)
    k3 = a_half @ (eye + 0.5 * h * k2)
    k4 = a1 @ (eye + h * k3)
    steps = eye + h / 6.0 * (a0 + 2.0 * k2 + 2.0 * k3 + k4)
    y0 = np.exp(_GROWTH_LNA0) / _early_equality(cosmo)
    state0 = jnp.stack([1.0 + 1.5 * y0, 1.5 * y0])

    def advance(state, step):
        state = step @ state
        return state, state

    _, states = jax.lax.scan(advance, state0, steps, unroll=4)
    return jnp.concatenate([state0[None, :], states], axis=0)


@jax.jit
def growth_factor(z: ArrayLike, cosmo: CosmoParams) -> jax.Array:
    """Linear growth factor D(z) of CDM + baryons, normalised to D(0) = 1.

    Solves D'' + (2 + dln E/dln a) D' = 3/2 Omega_cb(a) D (' = d/dln a) with the full
    E(a) (radiation, Fermi-Dirac neutrinos, w0-wa dark energy) by fixed-step RK4 from
    a = 1e-3, and reads it at `z` by cubic Hermite interpolation (relative error < 1e-6).
    Valid for z < 999.

    Approximation: the massive neutrinos and the dark energy are smooth (they enter E(a)
    but not the source), so D is the scale-independent growth of CDM + baryons on scales
    below the neutrino free-streaming length (k >~ 0.1 Mpc^-1 for m_nu >= 0.06 eV, the
    scales of sigma(M) for halos), where it slows by ~ (3/5) f_nu per e-fold. On larger
    scales the neutrinos cluster and the true growth is faster. Against CAMB's
    sigma8(z) / sigma8(0) of CDM + baryons for z <= 3: 7e-8 (massless), 1.0e-4 (one
    0.06 eV species), 1.0e-3 (3 x 0.1 eV), 3.5e-3 (one 0.3 eV species) (docs/engine.md).

    Parameters
    ----------
    z, cosmo : as for `E_z`

    Returns
    -------
    D : Array
        The shape of `z` [dimensionless].
    """
    table = _growth_table(cosmo)
    return _growth_interpolate(table, z) / table[-1, 0]


def _growth_interpolate(table, z):
    """Cubic Hermite interpolation of the unnormalised D on the ln a nodes at redshift `z`."""
    d, dd = table[:, 0], table[:, 1]
    ln_a = -jnp.log1p(jnp.asarray(z, dtype=float))
    t = jnp.clip((ln_a - _GROWTH_LNA0) / _GROWTH_DLNA, 0.0, _GROWTH_STEPS)
    i = jnp.minimum(jnp.floor(t), _GROWTH_STEPS - 1).astype(jnp.int32)
    f = t - i
    h00 = (1.0 + 2.0 * f) * (1.0 - f) ** 2
    h10 = f * (1.0 - f) ** 2
    h01 = f**2 * (3.0 - 2.0 * f)
    h11 = f**2 * (f - 1.0)
    h = _GROWTH_DLNA
    return h00 * d[i] + h10 * h * dd[i] + h01 * d[i + 1] + h11 * h * dd[i + 1]


def growth_md0(cosmo: CosmoParams) -> jax.Array:
    """Growth of CDM + baryons today in the matter-domination normalisation, G(a=1) [dimensionless].

    The solution of `growth_factor` scaled so that G = a deep in matter domination
    (G = (2/3) a_eq D with the Meszaros mode D = 1 + 3 a / (2 a_eq)): the factor that
    carries a primordial amplitude to z = 0,
    Delta^2_cb(k) = (4/25) A_s (k/k_pivot)^(n_s-1) (k/H0)^4 T(k)^2 G^2 / Omega_cb^2.
    G < 1 through dark energy (0.78 at Planck 2018) and neutrino free streaming.

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    Array, scalar
    """
    return _growth_table(cosmo)[-1, 0] * (2.0 / 3.0) * _early_equality(cosmo)
