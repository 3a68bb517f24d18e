"""Allowed parameter ranges: an eager `validate` that names the offender, and a traced mask.

One table of rules serves both, so the eager check and the in-graph guard of `cl_yy`
(non-finite output for an unphysical point) can never disagree.
"""

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .background import angular_diameter_distance, omega_de
from .grids import grids
from .linear_power import linear_power_backend
from .params import CosmoParams, HaloModel
from .precision import Precision, check_precision, q_table
from .profiles import profile_component

__all__ = ["physical_mask", "validate"]

_COSMO_RULES = (
    ("omega_b", "omega_b > 0", lambda c: c.omega_b > 0),
    ("omega_cdm", "omega_cdm > 0", lambda c: c.omega_cdm > 0),
    ("H0", "H0 > 0 [km/s/Mpc]", lambda c: c.H0 > 0),
    ("n_s", "0 < n_s < 2", lambda c: (c.n_s > 0) & (c.n_s < 2)),
    ("sigma8", "sigma8 > 0", lambda c: True if c.sigma8 is None else c.sigma8 > 0),
    ("logA", "-10 < logA < 10 (ln 10^10 A_s)",
     lambda c: True if c.logA is None else (c.logA > -10) & (c.logA < 10)),
    ("m_nu", "0 <= m_nu < 5 [eV] (sum of neutrino masses)", lambda c: (c.m_nu >= 0) & (c.m_nu < 5)),
    ("w0", "-3 < w0 < 0", lambda c: (c.w0 > -3) & (c.w0 < 0)),
    ("wa", "w0 + wa < 0 (dark energy subdominant at early times)", lambda c: c.w0 + c.wa < 0),
    (
        "omega_cdm",
        "Omega_cb + Omega_nu + Omega_r < 1, i.e. omega_b + omega_cdm + omega_nu(m_nu) + omega_r < (H0/100)^2 "
        "(flat, dark energy density today > 0)",
        lambda c: omega_de(c) > 0,
    ),
)


def _backend_rules(model: HaloModel | None) -> tuple:
    """The `RULES` of the selected linear-power backend (its fitted box; none for EH98 or
    for `model` None: the linear power comes from elsewhere, e.g. a Boltzmann code's tables)."""
    return () if model is None else getattr(linear_power_backend(model), "RULES", ())


def physical_mask(cosmo: CosmoParams, profile, x_out: float, model: HaloModel | None = HaloModel()) -> jax.Array:
    """Traced boolean: True where every parameter is inside its allowed range.

    Parameters
    ----------
    cosmo : CosmoParams
    profile : NamedTuple
        Parameters of a registered profile (its component's `RULES` apply).
    x_out : float
        Static truncation radius (some profile rules depend on it).
    model : HaloModel or None, optional
        Static: the linear-power backend's fitted box (its `RULES`) applies too; None:
        no backend (the tabulated path).

    Returns
    -------
    Array, bool scalar
    """
    ok = jnp.array(True)
    for _, _, rule in _COSMO_RULES + _backend_rules(model):
        ok = ok & rule(cosmo)
    for _, _, rule in profile_component(profile).RULES:
        ok = ok & rule(profile, x_out)
    return ok


def validate(
    cosmo: CosmoParams, profile: NamedTuple, ell: ArrayLike | None = None, precision: Precision | None = None,
    model: HaloModel = HaloModel(),
) -> None:
    """Raise ValueError naming the first parameter outside its allowed range.

    Parameters
    ----------
    cosmo : CosmoParams
    profile : ProfileParamsA10 or another registered profile pytree
    ell : array_like, optional
        Multipoles; all must be finite and > 0, and inside the profile table of
        `precision` (default `Precision()`) at this point.
    precision : Precision, optional
        Also checked against its hard limits.
    model : HaloModel, optional
        The fitted parameter box (`RULES`) of its linear-power backend is checked too.

    Raises
    ------
    ValueError
        Naming the parameter (or setting), its value and the allowed range.

    Eager (concrete values only); inside `jax.jit` use the non-finite output of `cl_yy`.
    """
    x_out = math.inf if precision is None else precision.x_out
    if precision is not None:
        check_precision(precision, warn=False)
    for name, value in zip(type(cosmo)._fields, cosmo):
        if value is not None and not np.all(np.isfinite(value)):
            raise ValueError(f"CosmoParams.{name} = {value!r} is not finite")
    kind = type(profile).__name__
    for name, value in zip(type(profile)._fields, profile):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{kind}.{name} = {value!r} is not finite")
    for name, allowed, rule in _COSMO_RULES:
        if not np.all(rule(cosmo)):
            raise ValueError(f"CosmoParams.{name} = {getattr(cosmo, name)!r} is outside the allowed range: {allowed}")
    for name, allowed, rule in _backend_rules(model):
        if not np.all(rule(cosmo)):
            raise ValueError(
                f"CosmoParams.{name} = {getattr(cosmo, name)!r} is outside the fitted box of the linear-power "
                f"backend {model.linear_power!r}: {allowed}"
            )
    for name, allowed, rule in profile_component(profile).RULES:
        if not np.all(rule(profile, x_out)):
            raise ValueError(f"{kind}.{name} = {getattr(profile, name)!r} is outside the allowed range: {allowed}")
    if ell is not None:
        ell = np.asarray(ell, dtype=float)
        if ell.size == 0 or not np.all(np.isfinite(ell)) or np.any(ell <= 0):
            raise ValueError(f"ell must be finite and > 0, got min {np.min(ell) if ell.size else 'empty'}")
        _check_table_covers(cosmo, profile, ell, Precision() if precision is None else precision)


def _check_table_covers(cosmo: CosmoParams, profile, ell, precision: Precision) -> None:
    """Raise ValueError if the q table of `precision` cannot reach max(ell) at this point."""
    component = profile_component(profile)
    if not component.SELF_SIMILAR:
        return
    g = grids(precision)
    table = q_table(precision)
    ratio = np.max(
        np.asarray(component.scale_radius(g.mass[-1], g.z, cosmo, profile))
        / np.asarray(angular_diameter_distance(g.z, cosmo))
    )
    ell_top = float(np.max(ell))
    top_row = (np.log((ell_top + 0.5) * ratio) - table.ln_q0) / table.dln_q
    if top_row > table.n_q - 3:
        raise ValueError(
            f"ell = {ell_top:g} needs the profile transform up to q = {(ell_top + 0.5) * ratio:.3g} "
            f"at this point, beyond the table of this Precision (q_max = {precision.q_max}, "
            f"ell_max = {precision.ell_max:g}): raise Precision.ell_max (automatic q_max) or "
            f"Precision.q_max"
        )
