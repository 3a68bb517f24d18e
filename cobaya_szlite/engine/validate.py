"""Allowed parameter ranges: an eager `validate` that names the offender, and a traced mask.

One table of rules serves both, so the eager check and the in-graph guard of `cl_yy`
(non-finite output for an unphysical point) can never disagree.
"""

import math

import jax.numpy as jnp
import numpy as np

from .constants import OMEGA_R_H2

_COSMO_RULES = (
    ("omega_b", "omega_b > 0", lambda c: c.omega_b > 0),
    ("omega_cdm", "omega_cdm > 0", lambda c: c.omega_cdm > 0),
    ("H0", "H0 > 0 [km/s/Mpc]", lambda c: c.H0 > 0),
    (
        "omega_cdm",
        "Omega_m + Omega_r < 1, i.e. omega_b + omega_cdm < (H0/100)^2 - omega_r (flat, Omega_Lambda > 0)",
        lambda c: c.omega_b + c.omega_cdm + OMEGA_R_H2 < (c.H0 / 100.0) ** 2,
    ),
    ("n_s", "0 < n_s < 2", lambda c: (c.n_s > 0) & (c.n_s < 2)),
    ("sigma8", "sigma8 > 0", lambda c: c.sigma8 > 0),
)

_PROFILE_RULES = (
    ("P0", "P0 > 0", lambda p, x_out: p.P0 > 0),
    ("c500", "c500 > 0", lambda p, x_out: p.c500 > 0),
    ("alpha", "alpha > 0", lambda p, x_out: p.alpha > 0),
    ("gamma", "gamma < 3 (integrable centre)", lambda p, x_out: p.gamma < 3),
    ("beta", "beta > gamma", lambda p, x_out: p.beta > p.gamma),
    (
        "beta",
        "beta > 3 when x_out = inf (finite total pressure)",
        lambda p, x_out: (p.beta > 3) | (x_out < math.inf),
    ),
    ("alpha_p", "|alpha_p| < 1", lambda p, x_out: jnp.abs(p.alpha_p) < 1),
    ("B", "B > 0", lambda p, x_out: p.B > 0),
)


def physical_mask(cosmo, profile, x_out):
    """Traced boolean: True where every parameter is inside its allowed range."""
    ok = jnp.array(True)
    for _, _, rule in _COSMO_RULES:
        ok = ok & rule(cosmo)
    for _, _, rule in _PROFILE_RULES:
        ok = ok & rule(profile, x_out)
    return ok


def _check_precision(precision):
    p = precision
    checks = (
        ("z_min", "0 < z_min < z_max", 0 < p.z_min < p.z_max),
        ("m_min", "0 < m_min < m_max [Msun]", 0 < p.m_min < p.m_max),
        ("x_out", "x_out > 0 (math.inf allowed)", p.x_out > 0),
        ("n_z", "odd integer >= 3", isinstance(p.n_z, int) and p.n_z >= 3 and p.n_z % 2 == 1),
        ("n_m", "odd integer >= 3", isinstance(p.n_m, int) and p.n_m >= 3 and p.n_m % 2 == 1),
        ("n_x", "integer >= 16", isinstance(p.n_x, int) and p.n_x >= 16),
        ("n_k", "integer >= 16", isinstance(p.n_k, int) and p.n_k >= 16),
        ("q_min", "0 < q_min < q_max", 0 < p.q_min < p.q_max),
    )
    for name, allowed, ok in checks:
        if not ok:
            raise ValueError(f"Precision.{name} = {getattr(p, name)!r} is not allowed: need {allowed}")


def validate(cosmo, profile, ell=None, precision=None):
    """Raise ValueError naming the first parameter outside its allowed range.

    Parameters
    ----------
    cosmo : CosmoParams
    profile : ProfileParamsA10
    ell : array_like, optional
        Multipoles; all must be finite and > 0.
    precision : Precision, optional

    Eager (concrete values only); inside `jax.jit` use the non-finite output of `cl_yy`.
    """
    x_out = math.inf if precision is None else precision.x_out
    if precision is not None:
        _check_precision(precision)
    for name, value in zip(type(cosmo)._fields, cosmo):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"CosmoParams.{name} = {value!r} is not finite")
    for name, value in zip(type(profile)._fields, profile):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"ProfileParamsA10.{name} = {value!r} is not finite")
    for name, allowed, rule in _COSMO_RULES:
        if not np.all(rule(cosmo)):
            raise ValueError(f"CosmoParams.{name} = {getattr(cosmo, name)!r} is outside the allowed range: {allowed}")
    for name, allowed, rule in _PROFILE_RULES:
        if not np.all(rule(profile, x_out)):
            raise ValueError(
                f"ProfileParamsA10.{name} = {getattr(profile, name)!r} is outside the allowed range: {allowed}"
            )
    if ell is not None:
        ell = np.asarray(ell, dtype=float)
        if ell.size == 0 or not np.all(np.isfinite(ell)) or np.any(ell <= 0):
            raise ValueError(f"ell must be finite and > 0, got min {np.min(ell) if ell.size else 'empty'}")
