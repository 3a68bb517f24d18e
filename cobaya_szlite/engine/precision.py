"""Numerical settings of the engine: the static `Precision`, its limits, and `make_precision`.

`Precision` is a NamedTuple registered as a pytree without leaves, so `jax.jit` treats it
as a compile-time constant. Every field has a hard range outside which results are known
to be wrong (or the tables unreasonably large), and a tested range inside which the
results have been measured converged; `check_precision` refuses the first and warns
outside the second. `make_precision` builds a checked `Precision` from user settings
(YAML values included), and `required_q_max` sizes the profile Fourier table so that
every accepted setting covers the multipoles it is asked for.
"""

import math
import numbers
import warnings
from typing import Any, NamedTuple

import jax
import numpy as np

from .background import _chi_of_z, _e_of_z
from .constants import RHO_CRIT_100

__all__ = [
    "PRECISION_LIMITS",
    "SIZING_B_MIN",
    "Precision",
    "PrecisionWarning",
    "QTable",
    "check_precision",
    "make_precision",
    "q_table",
    "required_q_max",
]


class Precision(NamedTuple):
    """Static numerical settings of the tSZ computation.

    Parameters
    ----------
    z_min, z_max : float
        Redshift range of the Limber integral. The default z_min = 0.005 is the
        matched-settings value of the pyccl comparison; halos below it still carry
        a factor 8.5 (ell = 2), 2.2 (ell = 11) and 1.5% (ell = 100) of C_1h
        (class_sz-style analyses use z_min = 1e-5).
    m_min, m_max : float
        Range of true masses [Msun] (no h) of the mass integral, in `HaloModel.mass_definition` (M500c by default).
    x_out : float
        Truncation radius of the pressure profile in units of r500;
        ``math.inf`` integrates the untruncated profile.
    n_z : int
        Number of redshift nodes (log-spaced in z, Simpson's rule; odd).
    n_m : int
        Number of mass nodes (log-spaced, Simpson's rule; odd).
    n_x : int
        Number of radial nodes of the profile Fourier transform.
    n_k : int
        Number of wavenumber nodes of the sigma(M) quadrature.
    q_min : float
        Lower end of the tabulated profile transform in q = k r500 [dimensionless];
        below it u(q) is taken flat (exact to < 1e-6 for q_min <= 1e-4).
    q_max : float or None
        Upper end of the table. None (default): sized automatically by
        `required_q_max` so that every multipole up to `ell_max` is covered for any
        cosmology with 40 <= H0 <= 100, 0.1 <= Omega_m <= 0.6 and B >= `SIZING_B_MIN`
        (other points are refused: NaN under jit, named by `validate`).
    ell_max : float
        Largest multipole the automatically sized table must cover (ignored when
        `q_max` is given; then `validate` names any ell the table cannot reach).

    Defaults are converged to better than 0.5% on C_ell against 4x denser grids
    (tests/test_cl_yy.py::test_defaults_converged_against_4x_denser_grids). Outside
    the hard range of a field results are known to be wrong and the setting is refused;
    outside the tested range `check_precision` warns. The measurement behind every
    limit is the ``reason`` of its entry in `PRECISION_LIMITS`:

    =======  =======  ==============  ==============
    field    default  hard range      tested range
    =======  =======  ==============  ==============
    z_min    0.005    [1e-6, 0.1]     [1e-6, 0.01]
    z_max    3        [1, 100]        [3, 100]
    m_min    1e10     [1e5, 1e14]     [1e5, 1e11]
    m_max    5e15     [1e15, 1e20]    [5e15, 1e20]
    x_out    inf      [1, inf]        [1, inf]
    n_z      61       [21, 4001]      [41, 4001]
    n_m      61       [21, 1001]      [31, 1001]
    n_x      400      [32, 4000]      [64, 4000]
    n_k      200      [100, 20000]    [150, 20000]
    q_min    1e-5     [1e-12, 1e-3]   [1e-12, 1e-4]
    q_max    None     [1e-2, 1e12]    [1e-2, 1e12]
    ell_max  1e5      [1, 1e7]        [1, 1e7]
    =======  =======  ==============  ==============

    n_z and n_m must be odd. The fields must be Python numbers: the object is a
    compile-time constant. Build user settings with `make_precision`.
    """

    z_min: float = 0.005
    z_max: float = 3.0
    m_min: float = 1e10
    m_max: float = 5e15
    x_out: float = math.inf
    n_z: int = 61
    n_m: int = 61
    n_x: int = 400
    n_k: int = 200
    q_min: float = 1e-5
    q_max: float | None = None
    ell_max: float = 1e5


jax.tree_util.register_static(Precision)


class PrecisionWarning(UserWarning):
    """A `Precision` field is inside its hard range but outside its tested-converged range."""


class _Limit(NamedTuple):
    """Hard range (refused outside), tested range (warning outside), and why."""

    integer: bool
    hard: tuple[float, float]
    tested: tuple[float, float]
    reason: str


#: Limits of every `Precision` field (inclusive ranges). Measured with the A10 profile at
#: the Planck 2018 cosmology, one field changed at a time from the defaults, ell in
#: {2, 11, 100, 1e3, 3e3, 1e4}; "off by" is the largest relative change of C_1h or C_2h
#: from the defaults. For the grid sizes the hard limit is the smallest measured value
#: off by < 1% and the tested range starts at the smallest one off by < 0.1%; for the
#: ranges (physical choices) the limits are where the stated loss of signal sets in.
#: The hard ranges also imply z_min < z_max, m_min < m_max and q_min < q_max.
#: benchmarks/precision_limits.py reproduces the measurements.
PRECISION_LIMITS: dict[str, _Limit] = {
    "z_min": _Limit(False, (1e-6, 0.1), (1e-6, 0.01),
                    "below 1e-6 the nearest halo would sit inside the Galaxy (d_A < 4 kpc; "
                    "z_min = 1e-8 ... 1e-5 agree to 1e-3); z_min = 0.05 removes 58% of C_1h at "
                    "ell = 100 and 0.1 removes 11% at ell = 1000; above 0.01 more than 7% "
                    "at ell = 100"),
    "z_max": _Limit(False, (1.0, 100.0), (3.0, 100.0),
                    "z_max = 1 misses 43% of C_1h at ell = 1e4; 2 misses 6% of C_2h at "
                    "ell = 3000; from 3 on C_ell changes by < 0.9% up to ell = 3000; the "
                    "growth solver starts at z = 999, and 3 ... 100 agree to 1e-3 there"),
    "m_min": _Limit(False, (1e5, 1e14), (1e5, 1e11),
                    "below 1e5 Msun the sigma(M) quadrature (k <= 1e3 / Mpc) no longer "
                    "resolves the halo scale (m_min = 1e3: C_ell off by 1.3% at ell = 2, "
                    "m_min = 1: by 58%); 1e5 ... 1e10 agree to 2e-3; m_min = 1e13 misses "
                    "54% of C_2h at ell = 1e4, 1e11 misses 1.6%; a cut up to 1e14 is accepted "
                    "(warned) as a modelling choice, e.g. class_sz's M_min = 5e13 h^-1 Msun"),
    "m_max": _Limit(False, (1e15, 1e20), (5e15, 1e20),
                    "m_max = 1e15 misses 49% of C_1h at ell <= 11 and 2e15 misses 15%; "
                    "5e15 ... 1e20 agree to 4e-3 (no halos above)"),
    "x_out": _Limit(False, (1.0, math.inf), (1.0, math.inf),
                    "truncating inside r500 removes the pressure the A10 fit is calibrated "
                    "on (x_out = 0.5: C_ell -94% at ell = 2, 0.01: C_ell = 0); x_out = 1, 2, "
                    "10, 100 agree with 4x denser grids to 3e-4"),
    "n_z": _Limit(True, (21, 4001), (41, 4001),
                  "Simpson's rule in ln z: n_z = 9 is off by 12%, 15 by 1.5%, 21 by 0.3%, "
                  "41 by < 0.1%"),
    "n_m": _Limit(True, (21, 1001), (31, 1001),
                  "Simpson's rule in ln M: n_m = 3 gives C_ell x 0.04 (some negative), 9 is "
                  "off by 25%, 15 by 2.5%, 21 by 0.6%, 31 by < 0.1%; above 1001 the q table "
                  "(3 rows per mass step) and its Hankel matrix no longer fit in memory"),
    "n_x": _Limit(True, (32, 4000), (64, 4000),
                  "radial nodes of the profile transform: n_x = 16 is off by 9%, 32 by 0.6%, "
                  "64 by < 0.1%; above 4000 the transform weights exceed 0.3 GB"),
    "n_k": _Limit(True, (100, 20000), (150, 20000),
                  "trapezoid rule of sigma(M) in ln k over [1e-5, 1e3] / Mpc: n_k = 48 is off "
                  "by 7%, 64 by 2.8%, 100 by 0.6%, 150 by < 0.1%"),
    "q_min": _Limit(False, (1e-12, 1e-3), (1e-12, 1e-4),
                    "u(q) is taken flat below q_min: q_min = 1e-2 loses 22% of C_1h at "
                    "ell = 2, 1e-3 loses 0.12%, 1e-4 ... 1e-9 agree to 1e-6"),
    "q_max": _Limit(False, (1e-2, 1e12), (1e-2, 1e12),
                    "table size; the value must also cover ell_max (see required_q_max)"),
    "ell_max": _Limit(False, (1.0, 1e7), (1.0, 1e7),
                      "largest multipole the profile table is sized for"),
}

#: Smallest hydrostatic mass bias B the automatic q table is sized for (b = 1 - 1/B >= -1).
SIZING_B_MIN = 0.5

# Corners of the cosmologies the automatic q table is sized for: (omega_b, omega_cdm, H0).
_SIZING_COSMOLOGIES = tuple(
    (0.02, om * (h0 / 100.0) ** 2 - 0.02, h0) for h0 in (40.0, 100.0) for om in (0.1, 0.6)
)

# Planck 2018 (omega_b, omega_cdm, H0): the nominal point of the q_max check.
_FIDUCIAL_COSMOLOGY = (0.02242, 0.11933, 67.66)

_WARNED: set = set()


def _convert(name: str, value: Any, limit: _Limit):
    """`value` as the Python int or float of field `name`, or ValueError."""
    if name == "q_max" and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Precision.{name} = {value!r} is not a number")
    if limit.integer:
        if not float(value).is_integer():
            raise ValueError(f"Precision.{name} = {value!r} must be an integer")
        return int(value)
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"Precision.{name} = nan is not a number")
    return value


def _range_text(bounds: tuple[float, float]) -> str:
    return f"[{bounds[0]:g}, {bounds[1]:g}]"


def check_precision(precision: Precision, warn: bool = True) -> None:
    """Refuse a `Precision` outside its hard limits; warn outside the tested ranges.

    Parameters
    ----------
    precision : Precision
    warn : bool
        Emit a `PrecisionWarning` (once per distinct `Precision`) for every field
        outside its tested-converged range.

    Raises
    ------
    ValueError
        Naming the field, its value and the allowed range.
    """
    for name, limit in PRECISION_LIMITS.items():
        value = _convert(name, getattr(precision, name), limit)
        if value is None:
            continue
        lo, hi = limit.hard
        if not lo <= value <= hi:
            raise ValueError(
                f"Precision.{name} = {value!r} is outside its allowed range "
                f"{_range_text(limit.hard)}: {limit.reason}"
            )
    for name in ("n_z", "n_m"):
        if getattr(precision, name) % 2 == 0:
            raise ValueError(f"Precision.{name} = {getattr(precision, name)!r} must be odd (Simpson's rule)")
    q_max_short = None
    if precision.q_max is not None:
        needed = required_q_max(precision)
        nominal = (precision.ell_max + 0.5) * _q_per_ell(precision, (_FIDUCIAL_COSMOLOGY,), 1.0)
        if precision.q_max < nominal:
            raise ValueError(
                f"Precision.q_max = {precision.q_max:g} does not reach ell_max = "
                f"{precision.ell_max:g} even at B = 1 and the fiducial cosmology (z_min = "
                f"{precision.z_min:g}, m_max = {precision.m_max:g}): use q_max >= {needed:.3g}, "
                f"leave q_max unset (sized automatically), or lower ell_max"
            )
        if precision.q_max < needed:
            q_max_short = needed
    if warn and precision not in _WARNED:
        _WARNED.add(precision)
        if q_max_short is not None:
            warnings.warn(
                f"Precision.q_max = {precision.q_max:g} covers ell_max = {precision.ell_max:g} "
                f"only near the fiducial cosmology; reaching it for every B >= {SIZING_B_MIN} "
                f"and H0 <= 100 needs q_max >= {q_max_short:.3g} (leave q_max unset to size "
                f"the table automatically)",
                PrecisionWarning,
                stacklevel=3,
            )
        for name, limit in PRECISION_LIMITS.items():
            value = getattr(precision, name)
            if value is not None and not limit.tested[0] <= value <= limit.tested[1]:
                warnings.warn(
                    f"Precision.{name} = {value!r} is outside the tested-converged range "
                    f"{_range_text(limit.tested)}: {limit.reason}",
                    PrecisionWarning,
                    stacklevel=3,
                )


def make_precision(**settings: Any) -> Precision:
    """Build a checked `Precision` from user settings (missing fields: defaults).

    Integer fields accept integral numbers only (61 or 61.0, not 61.7); every field
    must lie in its hard range (`PRECISION_LIMITS`); fields outside their tested range
    give a `PrecisionWarning` naming the field.

    Parameters
    ----------
    **settings
        Any fields of `Precision`.

    Returns
    -------
    Precision

    Raises
    ------
    ValueError
        For an unknown field, a non-integer integer field, or a value outside its
        allowed range (naming the field, the value and the range).
    TypeError
        For a value that is not a number (naming the field).
    """
    unknown = sorted(set(settings) - set(Precision._fields))
    if unknown:
        raise ValueError(f"Unknown Precision field(s) {unknown}; allowed: {list(Precision._fields)}")
    converted = {name: _convert(name, value, PRECISION_LIMITS[name]) for name, value in settings.items()}
    precision = Precision(**converted)
    check_precision(precision)
    return precision


def _q_step(precision: Precision) -> float:
    """ln q spacing of the profile table: one third of the ln M step."""
    return math.log(precision.m_max / precision.m_min) / (precision.n_m - 1) / 3.0


def required_q_max(precision: Precision, ell_max: float | None = None) -> float:
    """Upper end of the q table needed for multipoles up to `ell_max`.

    q = (ell + 1/2) r500(M/B, z) / d_A(z) is largest for the heaviest halo at the
    lowest redshift; it is evaluated at every z node of `precision` for M = m_max,
    B = `SIZING_B_MIN` and the corner cosmologies 40 <= H0 <= 100, 0.1 <= Omega_m
    <= 0.6, with three table rows to spare for the interpolation stencil.

    Parameters
    ----------
    precision : Precision
    ell_max : float, optional
        Largest multipole; default `precision.ell_max`.

    Returns
    -------
    float
        q_max [dimensionless].
    """
    ell_max = precision.ell_max if ell_max is None else ell_max
    bound = _q_per_ell(precision, _SIZING_COSMOLOGIES, SIZING_B_MIN)
    return (ell_max + 0.5) * bound * math.exp(3.0 * _q_step(precision))


def _q_per_ell(precision: Precision, cosmologies, b_min: float) -> float:
    """max over the z nodes and `cosmologies` of r500(m_max / b_min, z) / d_A(z).

    In NumPy (the background's NumPy path and r500 = (3 M / (4 pi 500 rho_crit))^(1/3)
    written out), so that sizing a static table compiles nothing."""
    z = np.geomspace(precision.z_min, precision.z_max, precision.n_z)
    m_b = precision.m_max / b_min
    worst = 0.0
    for omega_b, omega_cdm, h0 in cosmologies:
        cosmo = _SizingCosmology(omega_b, omega_cdm, h0)
        rho_c = RHO_CRIT_100 * (h0 / 100.0) ** 2 * _e_of_z(z, cosmo, np) ** 2
        radius = (3.0 * m_b / (4.0 * np.pi * 500.0 * rho_c)) ** (1.0 / 3.0)
        d_a = _chi_of_z(z, cosmo, np) / (1.0 + z)
        worst = max(worst, float(np.max(radius / d_a)))
    return worst


class _SizingCosmology(NamedTuple):
    omega_b: float
    omega_cdm: float
    H0: float
    m_nu: float = 0.0
    w0: float = -1.0
    wa: float = 0.0
    N_MASSIVE_NU = 1


class QTable(NamedTuple):
    """Log-spaced q nodes of the profile transform: q_i = exp(ln_q0 + i dln_q), i < n_q."""

    ln_q0: float
    dln_q: float
    n_q: int


def q_table(precision: Precision) -> QTable:
    """The q nodes of `precision` (`q_max`, or `required_q_max` when it is None).

    Parameters
    ----------
    precision : Precision
        Reads `q_min`, `q_max` (or what `required_q_max` needs) and the ln M step.

    Returns
    -------
    QTable
    """
    q_max = required_q_max(precision) if precision.q_max is None else precision.q_max
    dln_q = _q_step(precision)
    n_q = int(np.ceil(np.log(q_max / precision.q_min) / dln_q)) + 1
    return QTable(math.log(precision.q_min), dln_q, n_q)
