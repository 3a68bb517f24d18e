"""Why a point has zero likelihood, and how that is reported (free of Cobaya).

The engine returns non-finite C_ell for a point it refuses (a parameter outside its
allowed range, or multipoles beyond the profile table of its `Precision`);
`non_finite_reason` names the cause with the engine's own `validate`.
`ZeroLikelihoodReport` logs the first few occurrences and then every n-th, with a count,
so the reason reaches the user at the default log level without flooding a long run.
"""

from __future__ import annotations

import logging

import numpy as np

from .engine import CosmoParams, HaloModel, Precision, ProfileParamsA10, validate

__all__ = ["ZeroLikelihoodReport", "non_finite_reason"]

#: Start of `validate`'s messages about the profile table (a precision setting).
_TABLE_MESSAGE = "needs the profile transform"


def non_finite_reason(
    cosmo: CosmoParams, profile: ProfileParamsA10, ell: np.ndarray, precision: Precision,
    model: HaloModel = HaloModel(),
) -> tuple[str, bool]:
    """Why the engine gave non-finite output at a point.

    Parameters
    ----------
    cosmo, profile : CosmoParams, ProfileParamsA10 (or another profile pytree)
        The point (concrete values).
    ell : array_like
        Multipoles computed.
    precision : Precision
        Engine precision in use.
    model : HaloModel
        The static halo model in use.

    Returns
    -------
    (reason, is_setting) : (str, bool)
        The reason; ``is_setting`` is True when a precision setting, not a parameter
        value, is the cause (then every point may be affected).
    """
    try:
        validate(cosmo, profile, ell, precision=precision, model=model)
    except ValueError as excpt:
        message = str(excpt)
        if _TABLE_MESSAGE in message:
            return f"{message} (SZTheory/Planck2015TSZ option 'precision')", True
        return message, False
    reason = (
        f"non-finite result although every parameter is in its allowed range "
        f"(precision {dict(precision._asdict())})"
    )
    return reason, True


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

    def __init__(self, log: logging.Logger, first: int = 5, every: int = 100) -> None:
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
