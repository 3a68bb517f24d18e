"""Sui et al. (2025) "syren-new" symbolic linear power spectrum: the "syren_new" backend.

Sui, Bartlett, Pandey, Desmond, Ferreira & Wandelt 2025, A&A 698, A1 (arXiv:2410.14623),
"syren-new: Precise formulae for the linear and nonlinear matter power spectra with
massive neutrinos and dynamical dark energy"; fitted constants as published with the
authors' MIT-licensed ``symbolic_pofk`` package (``symbolic_pofk/linear_new.py``).
The total-matter linear power spectrum of flat w0-wa CDM with Sum m_nu in three
degenerate species is

    P(k, a) = P_EH(k) D(k, a)^2 F(k) R(a) S(k),

with (k in h Mpc^-1, P in h^-3 Mpc^3 inside the fit)

* P_EH = 2 pi^2 / k^3 A_s (k h / 0.05 Mpc^-1)^(n_s - 1) (2 k^2 (c/H_100)^2 / (5 Omega_m))^2 T_zb^2,
  T_zb the Eisenstein & Hu (1998) zero-baryon transfer function (`bartlett23.transfer_no_wiggle`);
* D(k, a) the Eisenstein & Hu (1997) growth of the CDM + baryon + neutrino fluid
  (Bond, Efstathiou & Silk 1980 free-streaming suppression, Carroll, Press & Turner
  1992 growth with Omega_Lambda(a) of the w0-wa fluid), normalised to D -> a early on;
* F the Bartlett et al. (2023) LCDM correction (`bartlett23.log_correction`);
* R(a) = 1 + (1 - a) (...) a fitted growth correction (R(1) = 1) and log10 S(k) a fitted
  correction for m_nu and w0-wa.

Omega_m is the total matter today (CDM + baryons + massive neutrinos), Omega_nu h^2 =
Sum m_nu / 93.14 eV (the paper's convention) and T_CMB = 2.7255 K. The paper quotes an
rms error of 0.3% against the Boltzmann code over its parameter box (`BOX`) for
9e-3 <= k / (h Mpc^-1) <= 9 and 0 <= z <= 3, and 0.1% for its sigma8(A_s) relation.

Amplitude. The shape is normalised by the top-hat integral to sigma(8 h^-1 Mpc) = sigma8
(`sigma.normalised_power`, as for the other backends): `cosmo.sigma8`, or, with
`cosmo.logA` set, the paper's fitted sigma8(A_s, Omega_m, Omega_b, h, n_s, m_nu, w0, wa)
(`sigma8_from_logA`, its most precise expression). The derived sigma8 is then exactly the
sigma8 of the spectrum used. (Against CAMB this is as accurate as the paper's direct A_s
normalisation of P_EH, `power(..., as9=...)`: the sigma8 relation is good to 0.1%.)

Outside 9e-3 <= k / (h Mpc^-1) <= 9 the two fitted k-dependent corrections, F and S, are
held at their boundary values (continuous in k and the cosmology); P_EH and D are
physical fitting formulae and keep their k dependence. Against CAMB (PPF dark energy) over
24 cosmologies of the box at given sigma8: 0.22% rms and 1.3% worst inside the range;
0.8% worst for 9 < k/h <= 20 and for 4e-3 <= k/h < 9e-3; up to 8% at k/h = 1e-3, where
dark-energy perturbations near the horizon (absent from the fit) matter
(tests/test_linear_power_syren.py).

Outside the parameter box the backend refuses: `RULES` (applied by
`cobaya_szlite.engine.validate`) names the edge eagerly and turns a traced point into the
engine's non-finite guard. A_s itself is not restricted: P and sigma8 scale exactly as
A_s and A_s^1/2, so the fit's A_s range carries no approximation.

The power spectrum given is of total matter; the paper gives no CDM + baryon spectrum, so
the backend has no `power_cb_z0`.
"""

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..background import h_of
from ..constants import T_CMB
from ..params import CosmoParams
from .bartlett23 import fit_wavenumbers, log_correction, transfer_no_wiggle
from .sigma import normalised_power

__all__ = [
    "BOX",
    "K_H_MAX",
    "K_H_MIN",
    "RULES",
    "growth_correction",
    "growth_eh97",
    "log10_shape_correction",
    "omega_m_total",
    "power",
    "power_z0",
    "sigma8_from_logA",
]

K_H_MIN = 9e-3
"""Lowest k / h [h Mpc^-1] of the fitted range of the corrections F and S."""

K_H_MAX = 9.0
"""Highest k / h [h Mpc^-1] of the fitted range of the corrections F and S."""

OMEGA_NU_PER_EV = 1.0 / 93.14
"""Omega_nu h^2 per eV of Sum m_nu, the paper's conversion."""

BOX = {
    "Omega_m": (0.24, 0.40),
    "Omega_b": (0.04, 0.06),
    "h": (0.61, 0.73),
    "n_s": (0.92, 1.00),
    "m_nu": (0.0, 0.15),
    "w0": (-1.3, -0.7),
    "wa": (-0.7, 0.5),
}
"""Parameter box of the fit (the EuclidEmulator2 ranges, Euclid Collaboration: Knabenhans et al.
2021, on which the syren-new expressions were trained); m_nu in eV, the rest dimensionless."""

# log10 S(k): e_0 ... e_17.
_E = (0.2841, 0.1679, 0.0534, 0.0024, 0.1183, 0.3971, 0.0985, 0.0009, 0.1258, 0.2476,
      0.1841, 0.0316, 0.1385, 0.2825, 0.8098, 0.019, 0.1376, 0.3733)

# Growth correction R(a): d_0 ... d_17.
_D = (0.8545, 0.394, 0.7294, 0.5347, 0.4662, 4.6669, 0.4136, 1.4769, 0.5959, 0.4553,
      0.0799, 5.8311, 5.8014, 6.7085, 0.3445, 1.2498, 0.3756, 0.2136)

# sigma8 / sqrt(10^9 A_s), the most precise expression: b_0 ... b_36.
_S8 = (0.0246, 2.1062, 2.9355, 0.7626, 0.2962, 0.5096, 4.4025, 3.6495, 0.4144, 0.8615,
       0.6188, 0.1751, 0.824, 0.5466, 0.5519, 0.3689, 0.3261, 0.2002, 0.8892, 0.4462,
       1.215, 3.4829, 2.5852, 0.0242, 0.0051, 0.1614, 1.2991, 4.1426, 3.3055, 0.5716,
       6.0094, 1.9569, 2.1477, 1.1902, 0.128, 0.6931, 0.2661)

_C_OVER_H100 = 2998.0
"""c / (100 km s^-1 Mpc^-1) [h^-1 Mpc] as written in the fit."""

_K_PIVOT = 0.05
"""Pivot scale of A_s [Mpc^-1]."""

_M_NU_FLOOR = 1e-10
"""Added to Sum m_nu [eV] in the growth, as in the paper's code (finite at m_nu = 0)."""


def omega_m_total(cosmo: CosmoParams) -> jax.Array:
    """Total matter density today Omega_m h^2 = omega_b + omega_cdm + Sum m_nu / 93.14 eV.

    Parameters
    ----------
    cosmo : CosmoParams

    Returns
    -------
    Array, dimensionless.
    """
    return cosmo.omega_b + cosmo.omega_cdm + cosmo.m_nu * OMEGA_NU_PER_EV


def _fit_parameters(cosmo: CosmoParams):
    """(Omega_m, Omega_b, h) of the fit (Omega_m includes the neutrinos)."""
    h = h_of(cosmo)
    return omega_m_total(cosmo) / h**2, cosmo.omega_b / h**2, h


def _log_growth_eh97(k_h, a, om, h, m_nu, w0, wa):
    """ln D_cbnu(k, a) of `growth_eh97`, with three transcendental functions per k."""
    theta2 = (T_CMB / 2.7) ** 2
    ln_1_zeq = jnp.log1p(2.5e4 * om * h**2 / theta2**2)
    m_nu = m_nu + _M_NU_FLOOR
    matter = om * a**-3.0
    lam = (1.0 - om) * jnp.exp(-3.0 * (1.0 + w0 + wa) * jnp.log(a) - 3.0 * wa * (1.0 - a))
    e2 = matter + lam
    om_a, ol_a = matter / e2, lam / e2
    log_d1 = (ln_1_zeq + jnp.log(a) + jnp.log(2.5 * om_a)
              - jnp.log(om_a ** (4.0 / 7.0) - ol_a + (1.0 + om_a / 2.0) * (1.0 + ol_a / 70.0)))

    f_nu = m_nu * OMEGA_NU_PER_EV / h**2 / om
    p_cb = 6.0 * f_nu / (5.0 + jnp.sqrt(25.0 - 24.0 * f_nu))
    # y_fs = 17.2 f_nu (1 + 0.488 f_nu^(-7/6)) (N_nu q / f_nu)^2, N_nu = 3, q = k theta^2 / omega_m
    y_per_k2 = 17.2 * f_nu * (1.0 + 0.488 * f_nu ** (-7.0 / 6.0)) * (3.0 * theta2 / (om * h * f_nu)) ** 2
    y_fs = y_per_k2 * k_h**2
    first = jnp.exp(0.7 / p_cb * jnp.log1p(-f_nu))
    second = jnp.exp(0.7 * (log_d1 - jnp.log1p(y_fs)))
    return p_cb / 0.7 * jnp.log(first + second) + (1.0 - p_cb) * log_d1 - ln_1_zeq


def growth_eh97(k_h: ArrayLike, a: ArrayLike, om: ArrayLike, ob: ArrayLike, h: ArrayLike,
                m_nu: ArrayLike, w0: ArrayLike, wa: ArrayLike) -> jax.Array:
    """Eisenstein & Hu (1997) growth D_cbnu(k, a) of the paper, normalised to D -> a early.

    Carroll, Press & Turner (1992) growth D1(a) with the w0-wa Omega_Lambda(a), and the
    free-streaming suppression of three degenerate neutrino species:
    D = [f_cb^(0.7/p_cb) + (D1 / (1 + y_fs))^0.7]^(p_cb/0.7) D1^(1 - p_cb) / (1 + z_eq),
    D1 = (1 + z_eq) a 5/2 Omega_m(a) / (Omega_m(a)^(4/7) - Omega_L(a) + (1 + Omega_m(a)/2)
    (1 + Omega_L(a)/70)). Evaluated in logarithms (p_cb = 6 f_nu / (5 + sqrt(25 - 24 f_nu)),
    so that m_nu -> 0 is finite and smooth).

    Parameters
    ----------
    k_h : array_like
        k / h [h Mpc^-1].
    a : array_like
        Scale factor (broadcast against `k_h`).
    om, ob : array_like
        Omega_m (with neutrinos) and Omega_b today (Omega_b does not enter; kept for the
        paper's signature).
    h : array_like
        H0 / (100 km s^-1 Mpc^-1).
    m_nu : array_like
        Sum of the neutrino masses [eV].
    w0, wa : array_like
        Dark-energy equation of state w(a) = w0 + wa (1 - a).

    Returns
    -------
    Array, dimensionless.
    """
    return jnp.exp(_log_growth_eh97(jnp.asarray(k_h, dtype=float), a, om, h, m_nu, w0, wa))


def growth_correction(a: ArrayLike, om: ArrayLike, w0: ArrayLike, wa: ArrayLike) -> jax.Array:
    """The fitted growth correction R(a) of the paper (R = 1 at a = 1), P proportional to R.

    Parameters
    ----------
    a : array_like
        Scale factor.
    om : array_like
        Omega_m today (with neutrinos).
    w0, wa : array_like
        Dark-energy equation of state.

    Returns
    -------
    Array, dimensionless.
    """
    d = _D
    first = -1.0 / (a * d[1] + d[2] + (om * d[3] - a * d[4]) * jnp.log(-d[5] * w0 - d[6] * wa))
    second = -(om * d[7] - a * d[8] + jnp.log(-d[9] * w0 - d[10] * wa)) / (
        -a * d[11] + d[12] + d[13] * (om * d[14] + a * d[15] - 1.0) * (d[16] * w0 + d[17] * wa + 1.0))
    return 1.0 + (1.0 - a) * (d[0] + first + second)


def log10_shape_correction(k_h: ArrayLike, om: ArrayLike, ob: ArrayLike, h: ArrayLike,
                           m_nu: ArrayLike, w0: ArrayLike, wa: ArrayLike) -> jax.Array:
    """The fitted log10 S(k) of the paper (massive neutrinos and w0-wa), as written.

    Evaluated without clipping: `power` clips `k_h` to [K_H_MIN, K_H_MAX].

    Parameters
    ----------
    k_h : array_like
        k / h [h Mpc^-1].
    om, ob, h, m_nu, w0, wa : array_like
        As for `growth_eh97`.

    Returns
    -------
    Array of the shape of `k_h`, dimensionless.
    """
    e = _E
    k_h = jnp.asarray(k_h, dtype=float)
    constant = (
        -e[0] * h - e[1] * w0 - e[4] * h / (e[5] * h + m_nu)
        + (e[9] * ob - e[10] * w0 - e[11] * wa + (e[12] * w0 + e[13]) / (e[14] * wa + w0))
        / jnp.sqrt(e[15] + (om + e[16] * jnp.log(-e[17] * w0)) ** 2)
    )
    varying = (-e[2] * m_nu * jax.lax.rsqrt(e[3] + k_h**2)
               + e[6] * m_nu / h * jax.lax.rsqrt(e[7] + (om * e[8] + k_h) ** 2))
    return (constant + varying) / 10.0


def _sigma8_per_root_as(om, ob, h, n_s, m_nu, w0, wa):
    """sigma8 / sqrt(10^9 A_s): the paper's most precise sigma8 relation."""
    b = _S8
    first = b[0] * (om * b[1] + (b[2] * m_nu - b[3] * n_s + jnp.log(b[4] * h - b[5] * m_nu))
                    * (b[6] * h + b[7] * m_nu - b[8] * n_s + 1.0))
    second = b[9] * h - m_nu
    third = (
        b[10] * w0 - b[11] * m_nu
        - (b[12] * w0 - b[13] * wa - jnp.log(om * b[14]))
        * (om * b[15] + b[16] * w0 + b[17] * wa + jnp.log(-b[18] * w0 - b[19] * wa))
        - jnp.log(om * b[20] + jnp.log(-b[21] * w0 - b[22] * wa))
        + jnp.log(-b[23] * w0 - b[24] * wa)
    )
    fourth = (
        b[25] * m_nu - jnp.sqrt(ob) * b[26] - ob * b[27] + om * b[28] - b[29] * h + 1.0
        + (ob * b[30] - b[31] * h - jnp.log(om * b[32]))
        * (om * b[33] - b[34] * h - b[35] * m_nu - b[36] * n_s)
    )
    return first * second * third * fourth


def sigma8_from_logA(cosmo: CosmoParams) -> jax.Array:
    """sigma8 of total matter at z = 0 from ln(10^10 A_s): the paper's fitted relation.

    Parameters
    ----------
    cosmo : CosmoParams
        With `logA` set (a float).

    Returns
    -------
    Array, dimensionless (0.1% rms against the Boltzmann code in the paper's box).
    """
    om, ob, h = _fit_parameters(cosmo)
    root_as9 = jnp.exp(0.5 * cosmo.logA) / jnp.sqrt(10.0)
    return root_as9 * _sigma8_per_root_as(om, ob, h, cosmo.n_s, cosmo.m_nu, cosmo.w0, cosmo.wa)


def power(cosmo: CosmoParams, k: ArrayLike, a: ArrayLike = 1.0, as9: ArrayLike = 1.0) -> jax.Array:
    """The paper's P(k, a) [Mpc^3] for 10^9 A_s = `as9` (corrections held outside the k range).

    Parameters
    ----------
    cosmo : CosmoParams
        Its sigma8 / logA are not used here.
    k : array_like
        Comoving wavenumber [Mpc^-1].
    a : array_like, optional
        Scale factor (broadcast against `k`).
    as9 : array_like, optional
        10^9 A_s.

    Returns
    -------
    Array of the broadcast shape of `k` and `a`.

    With k_h = k / h, P_EH h^3 = 2 pi^2 A_s (2 (c/H_100)^2 / (5 Omega_m))^2 k_h (k / k_pivot)^(n_s - 1)
    T^2 = [2 pi^2 A_s (2 (c/H_100)^2 / (5 Omega_m))^2 k_pivot^(1 - n_s) / h] k^n_s T^2.
    """
    om, ob, h = _fit_parameters(cosmo)
    k = jnp.asarray(k, dtype=float)
    ln_k, k_fit, ln_k_fit = fit_wavenumbers(k, h)
    ln_amplitude = (jnp.log(2.0 * jnp.pi**2 * 1e-9 * as9) + 2.0 * jnp.log(2.0 * _C_OVER_H100**2 / (5.0 * om))
                    + (1.0 - cosmo.n_s) * jnp.log(_K_PIVOT) - 4.0 * jnp.log(h))
    ln_shape = (
        cosmo.n_s * ln_k
        + log_correction(k_fit, om, ob, h, ln_k_fit)
        + jnp.log(10.0) * log10_shape_correction(k_fit, om, ob, h, cosmo.m_nu, cosmo.w0, cosmo.wa)
        + jnp.log(growth_correction(a, om, cosmo.w0, cosmo.wa))
        + 2.0 * _log_growth_eh97(k / h, a, om, h, cosmo.m_nu, cosmo.w0, cosmo.wa)
    )
    return jnp.exp(ln_amplitude + ln_shape) * transfer_no_wiggle(k, om * h**2, ob * h**2) ** 2


def power_z0(cosmo: CosmoParams, k: ArrayLike) -> jax.Array:
    """Total-matter linear power spectrum at z = 0 [Mpc^3] (backend contract).

    The paper's shape normalised to sigma(8 h^-1 Mpc) = sigma8: `cosmo.sigma8`, or, with
    `cosmo.logA` set, `sigma8_from_logA(cosmo)`.

    Parameters
    ----------
    cosmo : CosmoParams
    k : array_like, shape (n,)
        Comoving wavenumbers [Mpc^-1].

    Returns
    -------
    Array, shape (n,)
    """
    return normalised_power(cosmo, lambda kk: power(cosmo, kk), k, sigma8_from_logA)


def _inside(value, edges):
    return (value >= edges[0]) & (value <= edges[1])


_DEFINITIONS = {
    "Omega_m": ", Omega_m = (omega_b + omega_cdm + m_nu / 93.14 eV) / h^2",
    "Omega_b": ", Omega_b = omega_b / h^2",
    "h": ", h = H0 / 100",
}


def _rule(label: str, of):
    lo, hi = BOX[label]
    text = f"syren_new fitted box: {lo} <= {label} <= {hi}{_DEFINITIONS.get(label, '')}"
    return text, lambda c: _inside(of(c), (lo, hi))


def _omega_m(c):
    return omega_m_total(c) / h_of(c) ** 2


RULES = (
    ("omega_cdm", *_rule("Omega_m", _omega_m)),
    ("omega_b", *_rule("Omega_b", lambda c: c.omega_b / h_of(c) ** 2)),
    ("H0", *_rule("h", h_of)),
    ("n_s", *_rule("n_s", lambda c: c.n_s)),
    ("m_nu", *_rule("m_nu", lambda c: c.m_nu)),
    ("w0", *_rule("w0", lambda c: c.w0)),
    ("wa", *_rule("wa", lambda c: c.wa)),
)
"""(field, allowed range, rule(cosmo) -> bool) of the fitted box (`BOX`); Omega_m includes
the neutrinos (`omega_m_total`), Omega_b = omega_b / h^2, h = H0 / 100."""
