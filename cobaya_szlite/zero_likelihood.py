"""Why a point has zero likelihood, and how that is reported (free of Cobaya).

The engine returns non-finite C_ell for a point it refuses (a parameter outside its
allowed range, or multipoles needing the profile transform beyond ``Precision.q_max``);
`non_finite_reason` names the cause. `ZeroLikelihoodReport` logs the first few
occurrences and then every n-th, with a count, so the reason reaches the user at the
default log level without flooding a long run.
"""

from __future__ import annotations

import logging

import numpy as np

from .engine import (
    CosmoParams,
    Precision,
    ProfileParamsA10,
    angular_diameter_distance,
    r500,
    validate,
)

__all__ = ["ZeroLikelihoodReport", "non_finite_reason", "q_needed"]


def q_needed(cosmo: CosmoParams, profile: ProfileParamsA10, ell_max: float, precision: Precision) -> float:
    """Largest q = k r500 [dimensionless] the profile transform is needed at.

    Parameters
    ----------
    cosmo, profile
        The point (concrete values).
    ell_max : float
        Largest multipole computed.
    precision : Precision
        Its z_min and m_max set the extreme: q = (ell_max + 1/2) r500(m_max / B, z_min) / d_A(z_min).

    Returns
    -------
    float
    """
    z = precision.z_min
    radius = r500(precision.m_max / profile.B, z, cosmo)
    return float((ell_max + 0.5) * radius / angular_diameter_distance(z, cosmo))


def non_finite_reason(
    cosmo: CosmoParams, profile: ProfileParamsA10, ell: np.ndarray, precision: Precision
) -> tuple[str, bool]:
    """Why the engine gave non-finite output at a point.

    Parameters
    ----------
    cosmo, profile
        The point (concrete values).
    ell : array_like
        Multipoles computed.
    precision : Precision
        Engine precision in use.

    Returns
    -------
    (reason, is_setting) : (str, bool)
        The reason; ``is_setting`` is True when a precision setting, not a parameter
        value, is the cause (then every point may be affected).
    """
    try:
        validate(cosmo, profile, precision=precision)
    except ValueError as excpt:
        return str(excpt), False
    ell_max = float(np.max(ell))
    needed = q_needed(cosmo, profile, ell_max, precision)
    if needed > precision.q_max:
        reason = (
            f"needs the profile transform beyond q_max: at ell = {ell_max:g} it is needed up to "
            f"q = (ell+1/2) r500(m_max/B, z_min)/d_A(z_min) = {needed:.3g} > precision "
            f"q_max = {precision.q_max:g} (z_min = {precision.z_min:g}, m_max = {precision.m_max:g}); "
            f"set the precision option q_max >= {_round_up(needed):g}, or raise z_min"
        )
        return reason, True
    reason = (
        f"non-finite result although every parameter is in its allowed range "
        f"(precision {dict(precision._asdict())})"
    )
    return reason, True


def _round_up(value: float) -> float:
    """``value`` rounded up to one significant figure above it (1.3e4 -> 2e4)."""
    exponent = 10.0 ** np.floor(np.log10(value))
    return float(np.ceil(value / exponent) * exponent)


class ZeroLikelihoodReport:
    """Rate-limited log of zero-likelihood points.

    Parameters
    ----------
    log : logging.Logger
        Where to log.
    first : int
        Occurrences logged one by one.
    every : int
        After ``first``, log every ``every``-th occurrence, with the running count.
    """

    def __init__(self, log: logging.Logger, first: int = 5, every: int = 100):
        self.log = log
        self.first = first
        self.every = every
        self.count = 0

    def __call__(self, what: str, reason: str, level: int = logging.WARNING) -> None:
        """Count one zero-likelihood point and log it if it is among those reported.

        Parameters
        ----------
        what : str
            The point (e.g. a repr of the parameter values).
        reason : str
            Why it has zero likelihood.
        level : int
            Logging level.
        """
        self.count += 1
        if self.count <= self.first or self.count % self.every == 0:
            suffix = ""
            if self.count == self.first:
                suffix = f" (further ones are logged every {self.every}th)"
            self.log.log(level, "Zero likelihood (#%d) at %s: %s%s", self.count, what, reason, suffix)
