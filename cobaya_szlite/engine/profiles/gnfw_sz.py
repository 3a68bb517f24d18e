"""GNFW pressure with an SZ-calibrated normalisation: P0 scales as h70^-1 (Planck 2013 Int. Res. V).

The same profile as `gnfw` (A10 form, masses M500c evaluated at M/B), except that P0
multiplies h70^-1 instead of A10's X-ray h70^-3/2: an SZ-based fit of Y = Int P dV / d_A^2
constrains P0 h70^-1 (pyccl's ``HaloProfilePressureGNFW`` uses ``P0_hexp = -1`` for its
Planck 2013 default). At h = 0.7 the two conventions agree; elsewhere y differs by h70^(1/2).

The variant is selected statically by the parameter type, `ProfileParamsGNFWSZ` (a subclass
of `ProfileParamsA10` with the same fields, so everything that accepts an A10 point accepts it).
"""

import jax
from jax.typing import ArrayLike

from ..params import CosmoParams, ProfileParamsA10
from . import gnfw

__all__ = [
    "MASS_DEFINITION",
    "P0_H_EXPONENT",
    "RULES",
    "SELF_SIMILAR",
    "ProfileParamsGNFWSZ",
    "prefactor_m",
    "prefactor_z",
    "scale_radius",
    "shape",
]

SELF_SIMILAR = True
"""y_ell = prefactor u(q) with one u(q) for every mass and redshift."""

MASS_DEFINITION = gnfw.MASS_DEFINITION
"""Masses are true M500c [Msun]."""

P0_H_EXPONENT = -1.0
"""P0 multiplies h70^P0_H_EXPONENT (SZ-calibrated normalisation)."""

RULES = gnfw.RULES
shape = gnfw.shape
scale_radius = gnfw.scale_radius
prefactor_m = gnfw.prefactor_m


class ProfileParamsGNFWSZ(ProfileParamsA10):
    """GNFW parameters (fields and meaning of `ProfileParamsA10`) with P0 scaling as h70^-1."""

    __slots__ = ()


def prefactor_z(z: ArrayLike, cosmo: CosmoParams, d_a: ArrayLike, e_z: ArrayLike | None = None) -> jax.Array:
    """Redshift factor of the y_ell prefactor [sr Msun^-1], with P0 h70^-1.

    Parameters
    ----------
    z : array_like
        Redshift.
    cosmo : CosmoParams
    d_a : array_like
        Angular-diameter distance d_A(z) [Mpc].
    e_z : array_like, optional
        E(z) = H(z)/H0 at `z`; None: `background.E_z(z, cosmo)`.

    Returns
    -------
    Array of the shape of `z`.
    """
    return gnfw._prefactor_z(z, cosmo, d_a, e_z, P0_H_EXPONENT)
