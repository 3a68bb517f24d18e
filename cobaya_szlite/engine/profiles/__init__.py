"""Electron-pressure profiles: one module per profile, found from the type of its parameters.

Profile contract
----------------
A profile component is a module (or any object) registered for a parameter pytree
type with `register_profile`. It provides

``SELF_SIMILAR``: bool
    True when y_ell(M, z) = prefactor_z(z) prefactor_m(M) u(q) with a single u(q),
    q = (ell + 1/2) scale_radius(M, z) / d_A(z).
``MASS_DEFINITION``: str
    The mass definition of the profile's masses ("500c", "200c"); the halo model must agree.
``RULES``: tuple of (field, allowed, rule(profile, x_out))
    The allowed parameter ranges (`validate` names the field and `allowed` text;
    under jit a point breaking a rule gives NaN).

and, when ``SELF_SIMILAR`` (the fast path of `cl_yy`: one profile table per point and
the mass integral as a Hankel matrix product),

``shape(x, profile)``: the dimensionless pressure shape p(x), x = r / scale radius;
``scale_radius(M, z, cosmo, profile, e_z=None)``: [Mpc], proportional to M^(1/3) at fixed z;
``prefactor_z(z, cosmo, d_a, e_z=None)`` [sr / Msun] and ``prefactor_m(M, cosmo, profile)`` [Msun].

Otherwise (a shape that depends on mass and redshift, e.g. Battaglia et al. 2012)

``y_ell_grid(ell, z, mass, cosmo, profile, precision, d_a, e_z)``: y_ell [sr] on the
(z, M, ell) grid, shape (n_z, n_m, n_ell), evaluated directly at every node.

Background: `cl_yy` and `cl_yy_tabulated` hand every component the background on their
z grid, d_A(z) [Mpc] and E(z) = H(z)/H0 (computed by the engine, or tabulated by a
Boltzmann code), and a profile must take its redshift dependence from them, not from
`cosmo` (which then only supplies h and the densities). With ``e_z=None`` (the public
functions below, `validate`) a self-similar profile computes E(z) from `cosmo`.

`cl_yy` dispatches on ``SELF_SIMILAR``; both paths share the mass function, bias,
background and Limber integrals.
"""

import types
from types import ModuleType

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..background import angular_diameter_distance
from ..grids import FourierTable, fourier_table
from ..params import CosmoParams, ProfileParamsA10
from ..precision import Precision
from ..quadrature import lagrange4_interp
from ..x64 import require_x64
from . import battaglia12, gnfw, gnfw_sz
from .battaglia12 import ProfileParamsB12
from .gnfw import P500, gnfw_shape
from .gnfw_sz import ProfileParamsGNFWSZ
from .presets import GNFW_PRESETS, GNFWPreset, gnfw_preset

__all__ = [
    "GNFW_PRESETS",
    "GNFWPreset",
    "P500",
    "PROFILES",
    "ProfileParamsB12",
    "ProfileParamsGNFWSZ",
    "fourier_on_table",
    "gnfw_preset",
    "gnfw_shape",
    "profile_component",
    "profile_fourier",
    "register_profile",
    "y_ell",
    "y_prefactor",
]

#: Registered profile components by parameter type.
PROFILES: dict[type, ModuleType] = {
    ProfileParamsA10: gnfw,
    ProfileParamsGNFWSZ: gnfw_sz,
    ProfileParamsB12: battaglia12,
}


def register_profile(params_type: type, component: types.ModuleType | types.SimpleNamespace) -> None:
    """Register the profile `component` for parameters of type `params_type`.

    Parameters
    ----------
    params_type : type
        A NamedTuple pytree of the profile parameters.
    component : module or object
        Implements the contract of the module docstring.
    """
    needed = ("SELF_SIMILAR", "RULES") + (
        ("shape", "scale_radius", "prefactor_z", "prefactor_m")
        if getattr(component, "SELF_SIMILAR", False) else ("y_ell_grid",)
    )
    missing = [name for name in needed if not hasattr(component, name)]
    if missing:
        raise TypeError(f"profile component for {params_type.__name__} lacks {missing}")
    PROFILES[params_type] = component


def profile_component(profile):
    """The registered component for the type of `profile` (TypeError if none).

    Parameters
    ----------
    profile : NamedTuple
        Profile parameters (e.g. `ProfileParamsA10`).

    Returns
    -------
    module
    """
    try:
        return PROFILES[type(profile)]
    except KeyError:
        raise TypeError(
            f"no pressure profile registered for {type(profile).__name__}; registered: "
            f"{[t.__name__ for t in PROFILES]}"
        ) from None


def fourier_on_table(profile, table: FourierTable) -> jax.Array:
    """u(q) = Int_0^x_out x^2 p(x) sin(qx)/(qx) dx at the nodes of `table`.

    Parameters
    ----------
    profile : NamedTuple
        Parameters of a self-similar profile.
    table : FourierTable

    Returns
    -------
    Array, shape (n_q,)
    """
    return table.weights @ (table.x**2 * profile_component(profile).shape(table.x, profile))


@jax.jit
def profile_fourier(q: ArrayLike, profile, precision: Precision = Precision()) -> jax.Array:
    """Dimensionless Fourier kernel u(q) = Int_0^x_out x^2 p(x) sin(qx)/(qx) dx.

    Parameters
    ----------
    q : array_like
        q = k r_scale [dimensionless], within the q table of `precision`.
    profile : NamedTuple
        Parameters of a self-similar profile (e.g. `ProfileParamsA10`).
    precision : Precision
        Static: `x_out`, `n_x`, the q range and (through the ln q spacing) `n_m`.

    Returns
    -------
    Array of the shape of `q`.

    Computed on the static q table of `cl_yy` (exact sine-integral weights) and
    interpolated with 4-point Lagrange interpolation in ln q: relative error < 1e-3 up
    to q = 1e3 for x_out = inf. A truncated profile's transform oscillates with period
    2 pi / x_out in q, resolved by the table up to q x_out ~ 10 (mass-integrated C_ell
    stay converged).
    """
    require_x64()
    table = fourier_table(precision)
    u = fourier_on_table(profile, table)
    t = (jnp.log(jnp.asarray(q, dtype=float)) - table.ln_q0) / table.dln_q
    return lagrange4_interp(u, t.reshape(-1)).reshape(jnp.shape(q))


def y_prefactor(M: ArrayLike, z: ArrayLike, cosmo: CosmoParams, profile, d_a: ArrayLike | None = None,
                e_z: ArrayLike | None = None) -> jax.Array:
    """y_ell / u(q) of a self-similar profile [sr]: prefactor_z(z) prefactor_m(M).

    Parameters
    ----------
    M : array_like
        True M500c [Msun].
    z : array_like
        Redshift (broadcast against `M`).
    cosmo : CosmoParams
    profile : NamedTuple
    d_a : array_like, optional
        d_A(z) [Mpc] when already known.
    e_z : array_like, optional
        E(z) = H(z)/H0 at `z` when already known (else from `cosmo`).

    Returns
    -------
    Array of the broadcast shape.
    """
    component = profile_component(profile)
    if d_a is None:
        d_a = angular_diameter_distance(z, cosmo)
    return component.prefactor_z(z, cosmo, d_a, e_z) * component.prefactor_m(M, cosmo, profile)


@jax.jit
def y_ell(ell: ArrayLike, M: ArrayLike, z: ArrayLike, cosmo: CosmoParams, profile,
          precision: Precision = Precision(), d_a: ArrayLike | None = None,
          e_z: ArrayLike | None = None) -> jax.Array:
    """Fourier-space Compton-y profile y_ell(M, z) of one halo [sr].

    Parameters
    ----------
    ell : array_like
        Multipole (broadcast against `M` and `z`).
    M : array_like
        True M500c [Msun].
    z : array_like
        Redshift.
    cosmo : CosmoParams
    profile : NamedTuple
        Parameters of a self-similar profile (e.g. `ProfileParamsA10`).
    precision : Precision, optional
    d_a, e_z : array_like, optional
        d_A(z) [Mpc] and E(z) = H(z)/H0 at `z` (broadcast like `z`) from another source
        (e.g. a Boltzmann code's tables); None: from `cosmo`.

    Returns
    -------
    Array of the broadcast shape.

    For A10: y_ell = (sigma_T/m_e c^2) (4 pi r500 / l500^2) P500 Int x^2 p(x)
    sin(qx)/(qx) dx, q = (ell + 1/2) / l500, l500 = d_A / r500, with r500 and P500 at M/B.
    """
    component = profile_component(profile)
    if d_a is None:
        d_a = angular_diameter_distance(z, cosmo)
    q = (jnp.asarray(ell) + 0.5) * component.scale_radius(M, z, cosmo, profile, e_z) / d_a
    return y_prefactor(M, z, cosmo, profile, d_a, e_z) * profile_fourier(q, profile, precision)
