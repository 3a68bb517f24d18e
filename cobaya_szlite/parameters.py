"""Input parameters of the Cobaya components and their map to the engine (free of Cobaya).

One place for: the input names SZTheory accepts (`COSMO_INPUT_NAMES`: class_sz names and
their CAMB spellings; `PROFILE_PARAMS`), the `InputLayout` of one run (which of them are
inputs, in which order: it depends on the normalisation, sigma8 or logA, and on the
cosmology mode), the fiducial point (the truth of the packaged mock, the default
`fiducial` of `Planck2015TSZ`, the values a missing-parameter message offers to copy),
the map from a vector of input values to the engine pytrees (`to_pytrees`), and the
unit of the Cobaya products, D_ell x 1e12 (`d_ell_factor`), with the engine spectra in
that unit (`d_ell_spectra`, `d_ell_trispectrum`) and the derived parameters
(`derived_values`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .engine import (
    GNFW_PRESETS,
    CosmoParams,
    HaloModel,
    Precision,
    PrecisionWarning,
    ProfileParamsA10,
    ProfileParamsB12,
    cl_yy,
    cl_yy_and_trispectrum,
    cl_yy_trispectrum,
    make_precision,
)
from .engine import background as _background
from .engine import linear_power as _linear_power
from .engine.mass_function import PAIRED_BIAS as _PAIRED_BIAS

__all__ = [
    "B12_PARAMS",
    "COSMO_INPUT_NAMES",
    "DEFAULT_LAYOUT",
    "DERIVED_PARAMS",
    "FIDUCIAL_COSMO",
    "FIDUCIAL_LOGA",
    "FIDUCIAL_PARAMS",
    "FIDUCIAL_PROFILE",
    "INPUT_PARAMS",
    "LINEAR_POWER_OPTIONS",
    "MASS_FUNCTION_OPTIONS",
    "NORMALISATIONS",
    "OPTIONAL_COSMO",
    "PARAM_LATEX",
    "PROFILE_KINDS",
    "PROFILE_PARAMS",
    "REQUIRED_COSMO",
    "InputLayout",
    "InputLayoutError",
    "d_ell_factor",
    "d_ell_spectra",
    "d_ell_spectra_and_trispectrum",
    "d_ell_trispectrum",
    "derived_values",
    "fiducial_inputs",
    "f_sz",
    "halo_model",
    "input_layout",
    "precision_option",
    "profile_defaults",
    "profile_inputs",
    "to_pytrees",
    "to_values",
]

#: CosmoParams field -> the input names SZTheory accepts for it (engine mode): the
#: class_sz name first, then CAMB's spelling where it differs. Give each field under
#: one name only; with `camb` in the same input use CAMB's, so both codes read one value.
COSMO_INPUT_NAMES: dict[str, tuple[str, ...]] = {
    "omega_b": ("omega_b", "ombh2"),
    "omega_cdm": ("omega_cdm", "omch2"),
    "H0": ("H0",),
    "n_s": ("n_s", "ns"),
    "sigma8": ("sigma8",),
    "logA": ("logA",),
    "m_nu": ("m_nu", "mnu"),
    "w0": ("w0", "w"),
    "wa": ("wa",),
}
#: The two normalisations: exactly one is an input, the other a derived parameter.
NORMALISATIONS: tuple[str, str] = ("sigma8", "logA")
#: Cosmological fields every engine-mode input must give (besides one normalisation).
REQUIRED_COSMO: tuple[str, ...] = ("omega_b", "omega_cdm", "H0", "n_s")
#: Optional cosmological fields and the value the engine takes when the input omits them
#: (Sum m_nu = 0.06 eV in one massive species, w0 = -1, wa = 0: CAMB's defaults too).
OPTIONAL_COSMO: dict[str, float] = {f: CosmoParams._field_defaults[f] for f in ("m_nu", "w0", "wa")}
if set(COSMO_INPUT_NAMES) != set(CosmoParams._fields):
    raise ImportError("COSMO_INPUT_NAMES does not follow the CosmoParams fields")

#: Profile input names (class_sz) -> ProfileParamsA10 fields, in engine order.
PROFILE_PARAMS: dict[str, str] = {
    "P0GNFW": "P0",
    "c500": "c500",
    "gammaGNFW": "gamma",
    "alphaGNFW": "alpha",
    "betaGNFW": "beta",
    "alpha_p": "alpha_p",
    "B": "B",
}
if tuple(PROFILE_PARAMS.values()) != ProfileParamsA10._fields:
    raise ImportError("PROFILE_PARAMS does not follow the ProfileParamsA10 fields")

#: Battaglia et al. 2012 input names (class_sz) -> ProfileParamsB12 fields, in engine order.
B12_PARAMS: dict[str, str] = {
    "P0_B12": "P0",
    "alpha_m_P0_B12": "alpha_m_P0",
    "alpha_z_P0_B12": "alpha_z_P0",
    "xc_B12": "xc",
    "alpha_m_xc_B12": "alpha_m_xc",
    "alpha_z_xc_B12": "alpha_z_xc",
    "beta_B12": "beta",
    "alpha_m_beta_B12": "alpha_m_beta",
    "alpha_z_beta_B12": "alpha_z_beta",
}
if tuple(B12_PARAMS.values()) != ProfileParamsB12._fields:
    raise ImportError("B12_PARAMS does not follow the ProfileParamsB12 fields")

#: Values of SZTheory's option ``profile``: the GNFW presets of
#: `cobaya_szlite.engine.GNFW_PRESETS` (inputs `PROFILE_PARAMS`, M500c) and "battaglia12"
#: (inputs `B12_PARAMS`, M200c).
PROFILE_KINDS: tuple[str, ...] = (*GNFW_PRESETS, "battaglia12")
#: Values of the option ``mass_function`` (each with its paired bias, see `halo_model`).
MASS_FUNCTION_OPTIONS: tuple[str, ...] = ("tinker08", "tinker10", "bocquet16")
#: Values of the option ``linear_power`` (engine mode only).
LINEAR_POWER_OPTIONS: tuple[str, ...] = ("eh98", "bartlett23", "syren_new")

#: Every input name SZTheory accepts -> its engine field (cosmology in every spelling,
#: then the profile inputs of every profile kind).
INPUT_PARAMS: dict[str, str] = {
    **{name: field for field, names in COSMO_INPUT_NAMES.items() for name in names},
    **PROFILE_PARAMS,
    **B12_PARAMS,
}

#: Derived parameters SZTheory computes in the engine mode, in `derived_values` order:
#: Omega_m (total matter, massive neutrinos included), sigma8, logA = ln(10^10 A_s), F_sz.
DERIVED_PARAMS: tuple[str, ...] = ("Omega_m", "sigma8", "logA", "F_sz")


class InputLayoutError(ValueError):
    """The input parameters of a run do not make one cosmology (message names the fix)."""


class InputLayout(NamedTuple):
    """Which input names one run gives SZTheory, in the order of its vector of values.

    Hashable (part of the compiled-function cache key). ``cosmo``: (input name,
    CosmoParams field) pairs in CosmoParams field order (empty in the Boltzmann mode,
    where the cosmology comes from an upstream theory); ``profile``: the profile input
    names (`profile_inputs` of ``profile_kind``); ``profile_kind``: a `PROFILE_KINDS`
    value, which fixes the engine profile pytree type; ``model``: the static engine
    `HaloModel` (`halo_model`).
    """

    cosmo: tuple[tuple[str, str], ...]
    profile: tuple[str, ...] = tuple(PROFILE_PARAMS)
    profile_kind: str = "a10"
    model: HaloModel = HaloModel()

    @property
    def names(self) -> tuple[str, ...]:
        """Input names in value order."""
        return tuple(name for name, _ in self.cosmo) + self.profile

    @property
    def normalisation(self) -> str | None:
        """'sigma8' or 'logA' (the input one); None without cosmological inputs."""
        fields = {field for _, field in self.cosmo}
        return next((n for n in NORMALISATIONS if n in fields), None)


#: The fiducial point: Planck 2018-like flat LCDM (omega_b, omega_cdm [Omega h^2],
#: H0 [km/s/Mpc], n_s, sigma8) and the Arnaud et al. 2010 profile with B = 1.25.
FIDUCIAL_COSMO = CosmoParams(omega_b=0.02242, omega_cdm=0.11933, H0=67.66, n_s=0.9665, sigma8=0.8102)
#: ln(10^10 A_s) of the same Planck 2018 fit (TT,TE,EE+lowE+lensing+BAO), offered with the
#: other fiducial values when an input lacks its cosmology.
FIDUCIAL_LOGA = 3.047
FIDUCIAL_PROFILE = ProfileParamsA10(
    P0=8.130, c500=1.156, gamma=0.3292, alpha=1.062, beta=5.4807, alpha_p=0.12, B=1.25
)

_DEFAULT_COSMO_FIELDS = REQUIRED_COSMO + ("sigma8",)
#: The layout of the fiducial: class_sz names, sigma8 normalisation, default m_nu, w0, wa.
DEFAULT_LAYOUT = InputLayout(tuple((field, field) for field in _DEFAULT_COSMO_FIELDS))
#: The fiducial as input parameters (class_sz names, DEFAULT_LAYOUT order).
FIDUCIAL_PARAMS: dict[str, float] = {
    **{field: float(getattr(FIDUCIAL_COSMO, field)) for field in _DEFAULT_COSMO_FIELDS},
    **dict(zip(PROFILE_PARAMS, map(float, FIDUCIAL_PROFILE), strict=True)),
}

#: LaTeX labels of the Battaglia et al. 2012 inputs (X = A (M200c/1e14 Msun)^alpha_m (1+z)^alpha_z).
_B12_LATEX = {
    "P0_B12": r"P_{0}^\mathrm{B12}",
    "alpha_m_P0_B12": r"\alpha_{m,P_0}^\mathrm{B12}",
    "alpha_z_P0_B12": r"\alpha_{z,P_0}^\mathrm{B12}",
    "xc_B12": r"x_{c}^\mathrm{B12}",
    "alpha_m_xc_B12": r"\alpha_{m,x_c}^\mathrm{B12}",
    "alpha_z_xc_B12": r"\alpha_{z,x_c}^\mathrm{B12}",
    "beta_B12": r"\beta^\mathrm{B12}",
    "alpha_m_beta_B12": r"\alpha_{m,\beta}^\mathrm{B12}",
    "alpha_z_beta_B12": r"\alpha_{z,\beta}^\mathrm{B12}",
}
_COSMO_LATEX = {
    "omega_b": r"\omega_\mathrm{b}",
    "omega_cdm": r"\omega_\mathrm{cdm}",
    "H0": "H_0",
    "n_s": r"n_\mathrm{s}",
    "sigma8": r"\sigma_8",
    "logA": r"\log(10^{10} A_\mathrm{s})",
    "m_nu": r"\sum m_\nu",
    "w0": "w_0",
    "wa": "w_a",
}
#: LaTeX labels of the input and derived parameters.
PARAM_LATEX: dict[str, str] = {
    **{name: _COSMO_LATEX[field] for name, field in INPUT_PARAMS.items() if field in _COSMO_LATEX},
    "P0GNFW": "P_0",
    "c500": "c_{500}",
    "gammaGNFW": r"\gamma",
    "alphaGNFW": r"\alpha",
    "betaGNFW": r"\beta",
    "alpha_p": r"\alpha_p",
    "B": "B",
    **_B12_LATEX,
    "Omega_m": r"\Omega_\mathrm{m}",
    "F_sz": r"F_\mathrm{SZ}",
}


def profile_inputs(kind: str) -> dict[str, str]:
    """Input names of the profile ``kind`` -> fields of its engine pytree (engine order).

    Parameters
    ----------
    kind : str
        A `PROFILE_KINDS` value.

    Returns
    -------
    dict
        `B12_PARAMS` for "battaglia12", `PROFILE_PARAMS` for the GNFW presets.

    Raises
    ------
    ValueError
        For an unknown kind (the message lists `PROFILE_KINDS`).
    """
    if kind == "battaglia12":
        return B12_PARAMS
    if kind in GNFW_PRESETS:
        return PROFILE_PARAMS
    raise ValueError(f"unknown profile {kind!r}; allowed: {list(PROFILE_KINDS)}")


def _profile_type(kind: str) -> type:
    """The engine pytree type of the profile ``kind`` (GNFW: the preset's, which fixes
    the h-scaling of P0)."""
    return ProfileParamsB12 if kind == "battaglia12" else type(GNFW_PRESETS[kind].profile)


def precision_option(option: Mapping | None, ell_max: float) -> tuple[Precision, list[str]]:
    """The engine `Precision` of a component's ``precision`` option (SZTheory's and
    Planck2015TSZ's), its profile table sized for ``ell_max`` unless the option sets it.

    Parameters
    ----------
    option : mapping or None
        `Precision` field -> value (None or empty: the defaults).
    ell_max : float
        Largest multipole the component evaluates.

    Returns
    -------
    precision : Precision
    notes : list of str
        The `PrecisionWarning` messages (settings outside the tested-converged range).

    Raises
    ------
    ValueError
        An unknown field (named, with the allowed ones) or an invalid value (the option
        and the reason).
    """
    settings = dict(option or {})
    unknown = sorted(set(settings) - set(Precision._fields))
    if unknown:
        raise ValueError(f"Unknown precision setting(s) {unknown}; allowed: {list(Precision._fields)}.")
    settings.setdefault("ell_max", float(ell_max))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PrecisionWarning)
            precision = make_precision(**settings)
    except (TypeError, ValueError) as excpt:
        raise ValueError(f"Invalid 'precision' option {dict(option or {})!r}: {excpt}") from None
    return precision, [str(warning.message) for warning in caught if issubclass(warning.category, PrecisionWarning)]


def fiducial_inputs(layout: InputLayout) -> dict[str, float]:
    """The fiducial value of every input of ``layout`` (cosmology: `FIDUCIAL_PARAMS`,
    `FIDUCIAL_LOGA` and the `OPTIONAL_COSMO` defaults, under the run's spellings; profile:
    `profile_defaults` of its kind).

    Parameters
    ----------
    layout : InputLayout

    Returns
    -------
    dict
        Input name -> value, in ``layout.names`` order.
    """
    cosmo = {**FIDUCIAL_PARAMS, "logA": FIDUCIAL_LOGA, **OPTIONAL_COSMO}
    values = {name: float(cosmo[field]) for name, field in layout.cosmo}
    return {**values, **profile_defaults(layout.profile_kind)}


def profile_defaults(kind: str) -> dict[str, float]:
    """Default values of the profile inputs of ``kind`` (input names, engine order).

    GNFW kinds: the preset's values (B = 1.25; "a10" is `FIDUCIAL_PROFILE`);
    "battaglia12": the published AGN-feedback fit (`ProfileParamsB12` defaults).

    Parameters
    ----------
    kind : str
        A `PROFILE_KINDS` value.

    Returns
    -------
    dict
        Input name -> value (units of the engine pytree fields).
    """
    names = profile_inputs(kind)
    values = ProfileParamsB12() if kind == "battaglia12" else GNFW_PRESETS[kind].profile
    return dict(zip(names, map(float, values), strict=True))


def halo_model(profile: str = "a10", mass_function: str = "tinker08",
               linear_power: str = "eh98") -> HaloModel:
    """The static engine `HaloModel` of SZTheory's options.

    The mass definition follows the profile ("200c" for "battaglia12", whose fit is in
    M200c; "500c" for the GNFW presets), so the mass function, the bias and the profile
    always use one definition; the bias is the one paired with the mass function
    (`cobaya_szlite.engine.mass_function.PAIRED_BIAS`).

    Parameters
    ----------
    profile, mass_function, linear_power : str
        Values of the options (`PROFILE_KINDS`, `MASS_FUNCTION_OPTIONS`,
        `LINEAR_POWER_OPTIONS`).

    Returns
    -------
    HaloModel

    Raises
    ------
    ValueError
        For a value not among the allowed ones (the message names the option and them).
    """
    for option, value, allowed in (("profile", profile, PROFILE_KINDS),
                                   ("mass_function", mass_function, MASS_FUNCTION_OPTIONS),
                                   ("linear_power", linear_power, LINEAR_POWER_OPTIONS)):
        if value not in allowed:
            raise ValueError(f"option {option!r} must be one of {list(allowed)}; got {value!r}")
    return HaloModel(linear_power=linear_power, mass_function=mass_function,
                     bias=_PAIRED_BIAS[mass_function],
                     mass_definition="200c" if profile == "battaglia12" else "500c")


def _fiducial_text(fields: Iterable[str]) -> str:
    """YAML lines ``name: value`` of the fiducial for ``fields`` (class_sz names)."""
    values = {**FIDUCIAL_PARAMS, "logA": FIDUCIAL_LOGA, **OPTIONAL_COSMO}
    return "".join(f"\n  {field}: {values[field]!r}" for field in fields)


def input_layout(names: Iterable[str], cosmology: bool = True, profile: str = "a10",
                 model: HaloModel = HaloModel()) -> InputLayout:
    """The `InputLayout` of a run whose SZTheory inputs are ``names``.

    Parameters
    ----------
    names : iterable of str
        The input parameters given to SZTheory (any order; names not in INPUT_PARAMS are
        ignored: they are another component's).
    cosmology : bool
        True (engine mode): the cosmology is among the inputs. False (Boltzmann mode):
        it comes from an upstream theory, so no cosmological input is accepted.
    profile : str
        The profile kind (`PROFILE_KINDS`): its inputs (`profile_inputs`) are the
        profile part of the layout.
    model : HaloModel
        The static halo model of the run (`halo_model`).

    Returns
    -------
    InputLayout

    Raises
    ------
    InputLayoutError
        A field given twice (two spellings), both or neither of sigma8/logA, a required
        field missing (the message lists the fiducial values to copy), or a cosmological
        input in the Boltzmann mode.
    """
    names = set(names)
    given: dict[str, list[str]] = {}
    for field, spellings in COSMO_INPUT_NAMES.items():
        found = [name for name in spellings if name in names]
        if found:
            given[field] = found
    if not cosmology:
        if given:
            raise InputLayoutError(
                f"With cosmology: boltzmann the cosmology comes from the Boltzmann code; "
                f"SZTheory takes no cosmological input, but got {sorted(sum(given.values(), []))}. "
                f"Give the cosmological parameters in the Boltzmann code's names "
                f"(docs/boltzmann.md)."
            )
        return InputLayout((), tuple(profile_inputs(profile)), profile, model)
    twice = {field: found for field, found in given.items() if len(found) > 1}
    if twice:
        raise InputLayoutError(
            f"Each cosmological parameter takes one name; got {sorted(twice.values())} "
            f"(the class_sz and CAMB spellings of one parameter): keep one of each."
        )
    normalisation = [field for field in NORMALISATIONS if field in given]
    if len(normalisation) == 2:
        raise InputLayoutError(
            "Exactly one of sigma8 and logA (= ln(10^10 A_s)) can be an input parameter of "
            "SZTheory (the other is derived); got both."
        )
    missing = [field for field in REQUIRED_COSMO if field not in given]
    if missing or not normalisation:
        shown = missing + ([] if normalisation else list(NORMALISATIONS))
        raise InputLayoutError(
            "SZTheory needs the cosmological input parameter(s) "
            + ", ".join(missing)
            + ("" if normalisation else
               f"{' and ' if missing else ''}one of sigma8 and logA (= ln(10^10 A_s); the "
               f"other is derived; if logA has 'drop: true' to feed As to CAMB, remove "
               f"'drop' so that SZTheory receives it too)")
            + ". They have no defaults, so that one value reaches every code of the run. "
            "Add them to 'params', e.g. the fiducial (CAMB spellings ombh2, omch2, ns, mnu, "
            "w work too):" + _fiducial_text(shown)
        )
    cosmo = tuple((found[0], field) for field, found in given.items())
    return InputLayout(cosmo, tuple(profile_inputs(profile)), profile, model)


def to_pytrees(values: Sequence[float] | ArrayLike,
               layout: InputLayout = DEFAULT_LAYOUT) -> tuple[CosmoParams | None, NamedTuple]:
    """Split input values (a sequence in ``layout.names`` order) into engine pytrees.

    Parameters
    ----------
    values : sequence or array
        Input parameter values in ``layout.names`` order (NumPy or JAX; traced allowed).
    layout : InputLayout
        Which inputs the values are; cosmological fields it lacks take `OPTIONAL_COSMO`.

    Returns
    -------
    (CosmoParams or None, profile pytree)
        None for a layout without cosmological inputs (Boltzmann mode); the profile of
        the type of ``layout.profile_kind`` (ProfileParamsA10, ProfileParamsGNFWSZ or
        ProfileParamsB12).
    """
    n_cosmo = len(layout.cosmo)
    profile = _profile_type(layout.profile_kind)(*(values[i] for i in range(n_cosmo, n_cosmo + len(layout.profile))))
    if not layout.cosmo:
        return None, profile
    fields = {field: values[i] for i, (_, field) in enumerate(layout.cosmo)}
    return CosmoParams(**{**OPTIONAL_COSMO, **fields}), profile


def to_values(params: Mapping[str, float], layout: InputLayout = DEFAULT_LAYOUT) -> np.ndarray:
    """Input values in ``layout.names`` order from a mapping of (at least) those names.

    Parameters
    ----------
    params : mapping
        Input parameter name -> value.
    layout : InputLayout

    Returns
    -------
    numpy.ndarray, shape (len(layout.names),)
    """
    return np.array([params[name] for name in layout.names], dtype=float)


def derived_values(cosmo: CosmoParams, profile: NamedTuple,
                   model: HaloModel = HaloModel()) -> jax.Array:
    """Omega_m, sigma8, logA and F_sz at a point (traceable; `DERIVED_PARAMS` order).

    Parameters
    ----------
    cosmo : CosmoParams
        Either normalisation; the other follows from the linear-power backend of ``model``.
    profile : profile pytree
        For B in F_sz; a profile without a mass bias (Battaglia et al. 2012, calibrated
        on simulation masses) gives F_sz with B = 1.
    model : HaloModel
        Static; selects the linear-power backend.

    Returns
    -------
    array, shape (4,)
        Omega_m (total matter incl. massive neutrinos, `background.omega_m` / h^2),
        sigma8, logA = ln(10^10 A_s), F_sz (sigma8 and logA from the linear-power
        backend: `linear_power.sigma8_of`, `linear_power.logA_of`).
    """
    h = cosmo.H0 / 100.0
    omega_m = _background.omega_m(cosmo) / h**2
    if cosmo.sigma8 is not None:
        sigma8 = jnp.asarray(cosmo.sigma8, dtype=float)
        log_a = _linear_power.logA_of(cosmo, model)
    else:
        sigma8 = _linear_power.sigma8_of(cosmo, model)
        log_a = cosmo.logA
    mass_bias = getattr(profile, "B", 1.0)
    return jnp.stack([jnp.asarray(v, dtype=float) for v in
                      (omega_m, sigma8, log_a, f_sz(sigma8, omega_m, mass_bias, cosmo.H0))])


def f_sz(sigma8: ArrayLike, Omega_m: ArrayLike, B: ArrayLike, H0: ArrayLike) -> ArrayLike:
    """F_sz = sigma8 (Omega_m / B)^0.40 h^-0.21, the combination tSZ power constrains
    (Bolliet et al. 2018); NumPy broadcasting.

    Parameters
    ----------
    sigma8, Omega_m, B : array_like
        Dimensionless (Omega_m the total matter density parameter at z = 0; B = 1/(1-b)
        the hydrostatic mass bias, 1 for a profile without one such as Battaglia et al.
        2012).
    H0 : array_like
        Hubble constant [km s^-1 Mpc^-1].

    Returns
    -------
    array_like
        F_sz, dimensionless.
    """
    return sigma8 * (Omega_m / B) ** 0.40 * (H0 / 100.0) ** -0.21


def d_ell_factor(ell: ArrayLike) -> ArrayLike:
    """1e12 ell (ell + 1) / (2 pi): C_ell (dimensionless) -> D_ell x 1e12, the Cobaya unit.

    Parameters
    ----------
    ell : array_like
        Multipoles (NumPy or JAX).

    Returns
    -------
    array, the shape of ``ell``
    """
    return 1e12 * ell * (ell + 1) / (2 * math.pi)


def d_ell_spectra(values: ArrayLike, ell: ArrayLike, precision: Precision,
                  layout: InputLayout = DEFAULT_LAYOUT) -> jax.Array:
    """D_ell^1h and D_ell^2h x 1e12 of the engine at input values (traceable).

    Parameters
    ----------
    values : array
        Input values in ``layout.names`` order.
    ell : array, shape (n_ell,)
        Multipoles.
    precision : Precision
        Engine precision (static).
    layout : InputLayout
        The inputs ``values`` holds (engine mode: with the cosmology), the profile kind
        and the static `HaloModel`.

    Returns
    -------
    array, shape (2, n_ell)
        Rows 1-halo, 2-halo; non-finite where the engine refuses the point.
    """
    one_halo, two_halo = cl_yy(*to_pytrees(values, layout), ell, precision=precision, model=layout.model)
    to_d = d_ell_factor(ell)
    return jnp.stack([one_halo * to_d, two_halo * to_d])


def d_ell_trispectrum(values: ArrayLike, ell: ArrayLike, precision: Precision,
                      layout: InputLayout = DEFAULT_LAYOUT) -> jax.Array:
    """Full-sky 1-halo trispectrum in (D_ell x 1e12)^2 at input values (traceable).

    Parameters
    ----------
    values, ell, precision, layout : as for `d_ell_spectra`

    Returns
    -------
    array, shape (n_ell, n_ell)
        1e24 [l(l+1)/2pi][l'(l'+1)/2pi] T_ll'; non-finite where the engine refuses the point.
    """
    to_d = d_ell_factor(ell)
    return cl_yy_trispectrum(*to_pytrees(values, layout), ell, precision=precision,
                             model=layout.model) * jnp.outer(to_d, to_d)


def d_ell_spectra_and_trispectrum(values: ArrayLike, ell: ArrayLike, precision: Precision,
                                  layout: InputLayout = DEFAULT_LAYOUT) -> tuple[jax.Array, jax.Array]:
    """`d_ell_spectra` and `d_ell_trispectrum` at the same multipoles from one evaluation of
    the engine ingredients (traceable; under reverse-mode differentiation this shares the
    backward pass of the ingredients, which XLA does not merge for two separate calls).

    Parameters
    ----------
    values, ell, precision, layout : as for `d_ell_spectra`

    Returns
    -------
    d_ell : array, shape (2, n_ell)
        As `d_ell_spectra`.
    trispectrum : array, shape (n_ell, n_ell)
        As `d_ell_trispectrum`.
    """
    one_halo, two_halo, trispectrum = cl_yy_and_trispectrum(*to_pytrees(values, layout), ell,
                                                            precision=precision, model=layout.model)
    to_d = d_ell_factor(ell)
    return jnp.stack([one_halo * to_d, two_halo * to_d]), trispectrum * jnp.outer(to_d, to_d)
