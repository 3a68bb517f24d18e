"""Battaglia et al. (2012) AGN-feedback pressure profile at M200c: a general (not self-similar) profile.

Thermal pressure (Battaglia et al. 2012, ApJ 758, 75, eqs. 10-11 and their AGN-feedback fit)

    P_th(r) = P200c P0 (x / xc)^gamma [1 + (x / xc)^alpha]^(-beta),   x = r / R200c,
    P200c = G M200c 200 rho_crit(z) f_b / (2 R200c),   f_b = Omega_b / Omega_m,

with alpha = 1 and gamma = -0.3 fixed and each of P0, xc, beta = A (M200c / 1e14 Msun)^alpha_m
(1 + z)^alpha_z (M200c in Msun, no h). The electron pressure is P_e = P_th 2 (X + 1) / (5 X + 3)
with the hydrogen mass fraction X = 0.76 (P_e = P_th / 1.932), and

    y_ell = (sigma_T / m_e c^2) 4 pi R200c^3 / d_A^2 P_e,200c P0 xc^3 F(q xc; beta),
    q = (ell + 1/2) R200c / d_A,
    F(k; beta) = Int_0^inf t^(2+gamma) (1 + t)^(-beta) sin(k t) / (k t) dt    (t = x / xc).

Because alpha and gamma are fixed, F depends on beta only: it is tabulated once (NumPy, cached)
on a regular grid in (ln k, ln(beta - 3 - gamma)) and interpolated with a cubic (Catmull-Rom)
convolution in both directions, which is C^1 and differentiable in every input. The table is
exact to rounding: rotating the integration contour onto the imaginary axis (t = i s) turns the
oscillatory integral into

    F(k; beta) = Im[ i^(2+gamma) Int_0^inf s^(1+gamma) (1 + i s)^(-beta) e^(-k s) ds ] / k,

which the trapezoidal rule in ln s computes to ~exp(-pi^2 / h) (h = 0.1: 1e-40; the integrand is
analytic in the strip |Im ln s| < pi/2); taking Im of an O(F(0)) number to get O(k F(0)) loses
digits as k -> 0 (rounding ~1e-16 |J| / (k F): < 1e-10 for k > 1e-3, ~1e-5 at k = 1e-9).
F > 0 on the whole table, and the table stores H = ln[F(k; beta) / B(3+gamma, beta-3-gamma)]
+ (3+gamma) ln k (B(a, b) = F(0; beta), the Euler beta function), which is smooth: (3+gamma) ln k
at small k, a constant at large k (F ~ k^-2.7 there, from the x^1.7 behaviour of x^2 P at the
centre).

Ranges: the tabulated k = q xc spans [1e-9, 1e6]; below 1e-9 F is held at F(1e-9) (F(0) - F(k)
is proportional to k^(beta - 2.7)), never reached in practice: ell >= 2 on the hard ranges of
`Precision` (M >= 1e5 Msun, z <= 100) gives k > 5e-7 with the published slopes. beta(M, z) must lie in
[2.75, 22.7] at every node of the mass and redshift grids. Outside the table y_ell is NaN (so is
C_ell). The profile is untruncated (F needs beta > 3 + gamma = 2.7 to converge): only
``Precision.x_out = inf`` is accepted (ValueError at trace time otherwise).

Parameters are the nine amplitudes and slopes of `ProfileParamsB12`; `MASS_DEFINITION = "200c"`:
the halo model's masses (mass grid, mass function, bias) must be M200c.
"""

import math
from functools import lru_cache
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betaln
from jax.typing import ArrayLike

from ..background import h_of, omega_m
from ..constants import G_SI, MPC_M, MSUN_KG, RHO_CRIT_100, Y_PER_EV_CM3_MPC
from ..params import CosmoParams
from ..precision import Precision

__all__ = [
    "ALPHA",
    "ELECTRON_PRESSURE_FACTOR",
    "GAMMA",
    "MASS_DEFINITION",
    "RULES",
    "SELF_SIMILAR",
    "ProfileParamsB12",
    "b12_fourier",
    "b12_shape_parameters",
    "y_ell_grid",
]

SELF_SIMILAR = False
"""The profile shape (xc, beta) changes with mass and redshift: `y_ell_grid` path of `cl_yy`."""

MASS_DEFINITION = "200c"
"""Masses are M200c [Msun]: the halo model must use the same definition."""

GAMMA = -0.3
"""Inner slope (fixed, Battaglia et al. 2012)."""

ALPHA = 1.0
"""Intermediate slope (fixed, Battaglia et al. 2012)."""

_HYDROGEN_FRACTION = 0.76
ELECTRON_PRESSURE_FACTOR = 2.0 * (_HYDROGEN_FRACTION + 1.0) / (5.0 * _HYDROGEN_FRACTION + 3.0)
"""P_e / P_th = 2 (X + 1) / (5 X + 3) for a fully ionised H + He gas with X = 0.76 (= 1 / 1.932)."""

_MU = 3.0 + GAMMA
"""Index of the small-k integrand t^(mu - 1): F(0; beta) = B(mu, beta - mu)."""

_EV_CM3_PER_MSUN_KMS2_MPC3 = MSUN_KG * 1e6 / MPC_M**3 / 1.602176634e-19 / 1e6
"""1 Msun (km/s)^2 Mpc^-3 in eV cm^-3."""

_G_MPC_KMS2_PER_MSUN = G_SI * MSUN_KG / MPC_M / 1e6
"""Newton's constant [Mpc (km/s)^2 Msun^-1]."""

# Table of H(ln k, ln(beta - mu)): usable range, spacing, first node (two margin nodes each side), size.
_LN_K_MIN, _LN_K_MAX, _DLN_K = math.log(1e-9), math.log(1e6), 0.05
_V_MIN, _V_MAX, _DV = math.log(0.05), math.log(20.0), 0.05
_LN_K0, _V0 = _LN_K_MIN - 2 * _DLN_K, _V_MIN - 2 * _DV
_N_K = int(round((_LN_K_MAX - _LN_K_MIN) / _DLN_K)) + 5
_N_V = int(round((_V_MAX - _V_MIN) / _DV)) + 5
_BETA_MIN, _BETA_MAX = _MU + math.exp(_V_MIN), _MU + math.exp(_V_MAX)


class ProfileParamsB12(NamedTuple):
    """Battaglia et al. (2012) AGN-feedback profile: X = A (M200c / 1e14 Msun)^alpha_m (1 + z)^alpha_z.

    Defaults are the published AGN-feedback fit (their Table 1). class_sz names in brackets.

    Parameters
    ----------
    P0, alpha_m_P0, alpha_z_P0 : float
        Amplitude, mass and redshift slopes of the pressure normalisation P0
        [P0_B12, alpha_m_P0_B12, alpha_z_P0_B12]; 18.1, 0.154, -0.758.
    xc, alpha_m_xc, alpha_z_xc : float
        Of the core radius xc (in units of R200c) [xc_B12, alpha_m_xc_B12, alpha_z_xc_B12];
        0.497, -0.00865, 0.731.
    beta, alpha_m_beta, alpha_z_beta : float
        Of the outer slope beta [beta_B12, alpha_m_beta_B12, alpha_z_beta_B12];
        4.35, 0.0393, 0.415.
    """

    P0: float = 18.1
    alpha_m_P0: float = 0.154
    alpha_z_P0: float = -0.758
    xc: float = 0.497
    alpha_m_xc: float = -0.00865
    alpha_z_xc: float = 0.731
    beta: float = 4.35
    alpha_m_beta: float = 0.0393
    alpha_z_beta: float = 0.415


#: Allowed ranges of the `ProfileParamsB12` fields: (field, allowed, rule(profile, x_out)).
#: beta(M, z) must also stay in the table, [2.75, 22.7], on the grids (else y_ell = NaN).
RULES = (
    ("P0", "P0 > 0", lambda p, x_out: p.P0 > 0),
    ("xc", "xc > 0", lambda p, x_out: p.xc > 0),
    ("beta", f"{_BETA_MIN:.2f} < beta < {_BETA_MAX:.1f}", lambda p, x_out: (p.beta > _BETA_MIN) & (p.beta < _BETA_MAX)),
    ("alpha_m_P0", "|alpha_m_P0| < 2", lambda p, x_out: jnp.abs(p.alpha_m_P0) < 2),
    ("alpha_z_P0", "|alpha_z_P0| < 5", lambda p, x_out: jnp.abs(p.alpha_z_P0) < 5),
    ("alpha_m_xc", "|alpha_m_xc| < 2", lambda p, x_out: jnp.abs(p.alpha_m_xc) < 2),
    ("alpha_z_xc", "|alpha_z_xc| < 5", lambda p, x_out: jnp.abs(p.alpha_z_xc) < 5),
    ("alpha_m_beta", "|alpha_m_beta| < 1", lambda p, x_out: jnp.abs(p.alpha_m_beta) < 1),
    ("alpha_z_beta", "|alpha_z_beta| < 2", lambda p, x_out: jnp.abs(p.alpha_z_beta) < 2),
)


def b12_shape_parameters(M: ArrayLike, z: ArrayLike, profile: ProfileParamsB12) -> tuple[jax.Array, ...]:
    """P0, xc and beta at mass M200c [Msun] and redshift z (broadcast).

    Parameters
    ----------
    M : array_like
        M200c [Msun].
    z : array_like
        Redshift.
    profile : ProfileParamsB12

    Returns
    -------
    (P0, xc, beta) : tuple of Arrays of the broadcast shape (dimensionless).
    """
    ln_m = jnp.log(jnp.asarray(M) / 1e14)
    ln_1z = jnp.log1p(jnp.asarray(z))

    def scaling(amplitude, alpha_m, alpha_z):
        return amplitude * jnp.exp(alpha_m * ln_m + alpha_z * ln_1z)

    return (
        scaling(profile.P0, profile.alpha_m_P0, profile.alpha_z_P0),
        scaling(profile.xc, profile.alpha_m_xc, profile.alpha_z_xc),
        scaling(profile.beta, profile.alpha_m_beta, profile.alpha_z_beta),
    )


@lru_cache(maxsize=1)
def _h_table() -> np.ndarray:
    """H(ln k, v) = ln[F(k; beta) / B(mu, beta - mu)] + mu ln k, v = ln(beta - mu), shape (n_k, n_v).

    F from the contour-rotated integral, trapezoidal rule in u = ln s (h = 0.1, u in
    [-40, ln(80 / k_min)]). F > 0 on the whole table (checked when it is built), and H is
    smooth: mu ln k at small k, a constant at large k.
    """
    from scipy.special import betaln as np_betaln

    ln_k = _LN_K0 + _DLN_K * np.arange(_N_K)
    v = _V0 + _DV * np.arange(_N_V)
    beta = _MU + np.exp(v)
    k = np.exp(ln_k)
    u = np.arange(-40.0, math.log(80.0) - ln_k[0], 0.1)
    s = np.exp(u)
    # integrand in u: s^(mu - 1) (1 + i s)^-beta e^(-k s), times the phase i^(mu - 1)
    shape_part = np.exp(-beta[:, None] * np.log1p(1j * s)[None, :]) * s[None, :] ** (_MU - 1.0)
    integral = 0.1 * (np.exp(-np.outer(k, s)) @ shape_part.T)
    f = np.imag(np.exp(0.5j * math.pi * (_MU - 1.0)) * integral) / k[:, None]
    if not np.all(f > 0):
        raise RuntimeError("Battaglia 2012 transform table: F(k; beta) <= 0 somewhere; the log table does not apply")
    return np.log(f) - np_betaln(_MU, beta - _MU)[None, :] + _MU * ln_k[:, None]


def _catmull_rom(t: jax.Array) -> tuple[tuple[jax.Array, ...], tuple[jax.Array, ...]]:
    """Cubic-convolution (Catmull-Rom) weights of the nodes -1, 0, 1, 2 at fraction t, and their t-derivatives."""
    t2 = t * t
    t3 = t2 * t
    weights = (0.5 * (-t3 + 2 * t2 - t), 0.5 * (3 * t3 - 5 * t2 + 2), 0.5 * (-3 * t3 + 4 * t2 + t), 0.5 * (t3 - t2))
    slopes = (0.5 * (-3 * t2 + 4 * t - 1), 0.5 * (9 * t2 - 10 * t), 0.5 * (-9 * t2 + 8 * t + 1), 0.5 * (3 * t2 - 2 * t))
    return weights, slopes


def _split(position: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
    """Integer base node (clipped so that base - 1 .. base + 2 exist) and fraction of a table position."""
    base = jnp.clip(jnp.floor(position), 1, n - 3)
    return base.astype(jnp.int32), position - base


def _interpolate_with_slopes(pos_k: jax.Array, pos_v: jax.Array, slope_k: bool = True,
                             slope_v: bool = True) -> tuple[jax.Array, jax.Array | None, jax.Array | None]:
    """H at table positions (pos_k, pos_v) (broadcast) and, when asked, its derivatives in both.

    Each output reads its own copy of the table (H, -H, 2H, undone after the sum): XLA then
    compiles three independent fused loops, instead of materialising 16 shared reads per point
    (measured 3x faster for the three outputs together).
    """
    ik, tk = _split(pos_k, _N_K)
    iv, tv = _split(pos_v, _N_V)
    wk, dwk = _catmull_rom(tk)
    wv, dwv = _catmull_rom(tv)
    base = ik * _N_V + iv
    h_table = _h_table()

    def contract(scale: float, w_k: tuple[jax.Array, ...], w_v: tuple[jax.Array, ...]) -> jax.Array:
        table = jnp.asarray(scale * h_table).reshape(-1)
        total = 0.0
        for a in range(4):
            row = 0.0
            for c in range(4):
                row = row + table.at[base + ((a - 1) * _N_V + c - 1)].get(mode="promise_in_bounds") * w_v[c]
            total = total + row * w_k[a]
        return total / scale

    return (contract(1.0, wk, wv), contract(-1.0, dwk, wv) if slope_k else None,
            contract(2.0, wk, dwv) if slope_v else None)


@jax.custom_jvp
def _interpolate(pos_k: jax.Array, pos_v: jax.Array) -> jax.Array:
    """Bicubic (Catmull-Rom) interpolation of the H table at positions in node units (broadcast).

    Its JVP computes only the slopes whose tangents are not symbolically zero.
    """
    return _interpolate_with_slopes(pos_k, pos_v, False, False)[0]


def _interpolate_jvp(primals, tangents):
    pos_k, pos_v = primals
    d_k, d_v = tangents
    zero_k, zero_v = (isinstance(t, jax.custom_derivatives.SymbolicZero) for t in (d_k, d_v))
    h, hk, hv = _interpolate_with_slopes(pos_k, pos_v, not zero_k, not zero_v)
    tangent = jnp.zeros_like(h)
    if not zero_k:
        tangent = tangent + hk * d_k
    if not zero_v:
        tangent = tangent + hv * d_v
    return h, tangent


_interpolate.defjvp(_interpolate_jvp, symbolic_zeros=True)


def _beta_part(beta: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Per-shape terms: table position in v, ln F(0; beta), and the in-table mask."""
    v = jnp.log(jnp.maximum(beta - _MU, 1e-300))
    inside = (v >= _V_MIN) & (v <= _V_MAX)
    return (v - _V0) / _DV, betaln(_MU, jnp.maximum(beta - _MU, 1e-3)), inside


def _fourier_from_parts(ln_k: jax.Array, pos_v: jax.Array, ln_f0: jax.Array) -> jax.Array:
    """F = exp(H(ln k, v) - mu ln k + ln F(0)); the beta parts broadcast against `ln_k` (NaN above k_max)."""
    ln_k_table = jnp.maximum(ln_k, _LN_K_MIN)
    h = _interpolate((ln_k_table - _LN_K0) / _DLN_K, pos_v)
    f = jnp.exp(h - _MU * ln_k_table + ln_f0)
    return jnp.where(ln_k <= _LN_K_MAX, f, jnp.nan)


def b12_fourier(k: ArrayLike, beta: ArrayLike) -> jax.Array:
    """F(k; beta) = Int_0^inf t^1.7 (1 + t)^-beta sin(kt)/(kt) dt from the static table.

    Parameters
    ----------
    k : array_like
        k = q xc [dimensionless], > 0; table to 1e6 (NaN above; flat H below 1e-9).
    beta : array_like
        Outer slope (broadcast against `k`), in [2.75, 22.7] (NaN outside).

    Returns
    -------
    Array of the broadcast shape. Relative error < 1e-4 for k <= 1e3
    (tests/test_battaglia12.py, against scipy adaptive quadrature).
    """
    k, beta = jnp.broadcast_arrays(jnp.asarray(k, dtype=float), jnp.asarray(beta, dtype=float))
    pos_v, ln_f0, inside = _beta_part(beta)
    return jnp.where(inside, _fourier_from_parts(jnp.log(k), pos_v, ln_f0), jnp.nan)


def _over_ell(per_halo: jax.Array, ones: jax.Array) -> jax.Array:
    """(n_z, n_m) -> (n_z, n_m, n_ell) as an outer product with ones.

    Its reverse-mode transpose is then a matrix product (a reduction over ell XLA runs on the
    materialised cotangent) rather than a reduce that XLA would fuse with the table reads and
    run without vectorisation (measured 5x slower).
    """
    return jnp.einsum("zm,l->zml", per_halo, ones)


def y_ell_grid(ell: jax.Array, z: jax.Array, mass: jax.Array, cosmo: CosmoParams, profile: ProfileParamsB12,
               precision: Precision, d_a: jax.Array, e_z: jax.Array) -> jax.Array:
    """y_ell [sr] of halos of mass M200c on the (z, M, ell) grid.

    Parameters
    ----------
    ell : Array, shape (n_ell,)
        Multipoles.
    z : Array, shape (n_z,)
        Redshifts.
    mass : Array, shape (n_m,)
        M200c [Msun].
    cosmo : CosmoParams
        h and Omega_b / Omega_m (f_b).
    profile : ProfileParamsB12
    precision : Precision
        Static; only ``x_out = inf`` is accepted.
    d_a : Array, shape (n_z,)
        Angular-diameter distance [Mpc].
    e_z : Array, shape (n_z,)
        E(z) = H(z) / H0.

    Returns
    -------
    Array, shape (n_z, n_m, n_ell)
    """
    if not math.isinf(precision.x_out):
        raise ValueError(
            f"the Battaglia et al. 2012 profile is computed untruncated: Precision.x_out must be inf, "
            f"got {precision.x_out!r}"
        )
    zz, mm = jnp.asarray(z)[:, None], jnp.asarray(mass)[None, :]
    rho_c = RHO_CRIT_100 * h_of(cosmo) ** 2 * jnp.asarray(e_z)[:, None] ** 2
    r200 = (3.0 * mm / (4.0 * jnp.pi * 200.0 * rho_c)) ** (1.0 / 3.0)
    f_b = cosmo.omega_b / omega_m(cosmo)
    p200_ev_cm3 = _G_MPC_KMS2_PER_MSUN * mm * 200.0 * rho_c * f_b / (2.0 * r200) * _EV_CM3_PER_MSUN_KMS2_MPC3
    p0, xc, beta = b12_shape_parameters(mm, zz, profile)
    d_a2 = jnp.asarray(d_a)[:, None]
    amplitude = (Y_PER_EV_CM3_MPC * ELECTRON_PRESSURE_FACTOR * 4.0 * jnp.pi * r200**3 / d_a2**2
                 * p200_ev_cm3 * p0 * xc**3)
    pos_v, ln_f0, inside = _beta_part(beta)
    ones = jnp.ones(jnp.shape(ell))
    ln_k = jnp.log(jnp.asarray(ell) + 0.5)[None, None, :] + _over_ell(jnp.log(r200 * xc / d_a2), ones)
    transform = _fourier_from_parts(ln_k, _over_ell(pos_v, ones), _over_ell(ln_f0 + jnp.log(amplitude), ones))
    return jnp.where(jnp.all(inside), transform, jnp.nan)
