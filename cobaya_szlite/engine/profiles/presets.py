"""Named parameter sets of the GNFW pressure profile (published fits).

``gnfw_preset(name)`` returns a `GNFWPreset`: the parameter pytree (its type selects the
P0 h-scaling: `ProfileParamsA10` h70^-3/2, `ProfileParamsGNFWSZ` h70^-1), the h exponent,
the mass-bias convention and the reference. All presets keep A10's P500 (alpha_p = 0.12)
and the engine's mass-bias convention: the profile of a halo of true mass M500c is that of
M500c / B, B = 1 / (1 - b); every preset sets B = 1.25 (1 - b = 0.8, the value of the
Planck tSZ analyses and pyccl's default ``mass_bias``). Change B (or any field) with
``preset.profile._replace(...)``.

=============  ======  =====  ======  ======  ======  =========  ==========================
name           P0      c500   gamma   alpha   beta    P0 scales  fit
=============  ======  =====  ======  ======  ======  =========  ==========================
a10            8.130   1.156  0.3292  1.062   5.4807  h70^-3/2   engine default (A10 set
                                                                  of the Planck analyses)
a10_rexcess    8.403   1.177  0.3081  1.0510  5.4905  h70^-3/2   A10 eq. 12 (REXCESS +
                                                                  simulations)
planck13       6.41    1.81   0.31    1.33    4.13    h70^-1     Planck 2013 Int. Res. V
                                                                  (62 clusters, SZ + X-ray)
=============  ======  =====  ======  ======  ======  =========  ==========================
"""

from typing import NamedTuple

from ..params import ProfileParamsA10
from .gnfw_sz import ProfileParamsGNFWSZ

__all__ = ["GNFW_PRESETS", "GNFWPreset", "gnfw_preset"]


class GNFWPreset(NamedTuple):
    """A published GNFW parameter set.

    Attributes
    ----------
    name : str
    profile : ProfileParamsA10 or ProfileParamsGNFWSZ
        The parameter pytree (B = 1.25).
    p0_h_exponent : float
        P0 multiplies h70^p0_h_exponent (fixed by the type of `profile`).
    mass_bias : str
        Convention of the hydrostatic mass bias.
    reference : str
    """

    name: str
    profile: ProfileParamsA10
    p0_h_exponent: float
    mass_bias: str
    reference: str


_MASS_BIAS = ("profile at M500c / B of the true mass, B = 1/(1-b) = 1.25 (1-b = 0.8); "
              "the published fit is in hydrostatic (X-ray) masses")

GNFW_PRESETS: dict[str, GNFWPreset] = {
    "a10": GNFWPreset(
        "a10", ProfileParamsA10(), -1.5, _MASS_BIAS,
        "Arnaud et al. 2010, A&A 517, A92 (the engine's default set)",
    ),
    "a10_rexcess": GNFWPreset(
        "a10_rexcess", ProfileParamsA10(P0=8.403, c500=1.177, gamma=0.3081, alpha=1.0510, beta=5.4905), -1.5,
        _MASS_BIAS, "Arnaud et al. 2010, A&A 517, A92, eq. 12 (REXCESS universal profile)",
    ),
    "planck13": GNFWPreset(
        "planck13", ProfileParamsGNFWSZ(P0=6.41, c500=1.81, gamma=0.31, alpha=1.33, beta=4.13), -1.0,
        _MASS_BIAS + "; the paper's masses are from the Y-M relation (hydrostatic calibration)",
        "Planck Collaboration Int. Res. V 2013, A&A 550, A131 (pyccl HaloProfilePressureGNFW default, P0_hexp = -1)",
    ),
}
"""Every preset by name."""


def gnfw_preset(name: str) -> GNFWPreset:
    """The named GNFW preset ("a10", "a10_rexcess" or "planck13").

    Parameters
    ----------
    name : str

    Returns
    -------
    GNFWPreset

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones).
    """
    try:
        return GNFW_PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown GNFW preset {name!r}; known: {sorted(GNFW_PRESETS)}") from None
