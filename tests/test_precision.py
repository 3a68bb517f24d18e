"""Precision settings: refused outside their hard limits, warned outside the tested range,
and a profile table sized so that every accepted setting gives finite C_ell."""

import math
import re
import warnings

import numpy as np
import pytest

import cobaya_szlite as sz

ELL = np.array([2.0, 11.0, 100.0, 1000.0, 3000.0])


def _hard_violations():
    """(field, value) just outside every finite hard limit."""
    cases = []
    for name, limit in sz.PRECISION_LIMITS.items():
        lo, hi = limit.hard
        step = 1 if limit.integer else None
        cases.append((name, lo - 2 if step else lo / 10))
        if math.isfinite(hi):
            cases.append((name, hi + 2 if step else hi * 10))
    return cases


@pytest.mark.parametrize("name, value", _hard_violations())
def test_outside_hard_limits_is_refused_naming_field_and_range(name, value):
    limit = sz.PRECISION_LIMITS[name]
    with pytest.raises(ValueError) as err:
        sz.make_precision(**{name: value})
    message = str(err.value)
    assert f"Precision.{name}" in message and f"[{limit.hard[0]:g}, {limit.hard[1]:g}]" in message


@pytest.mark.parametrize(
    "settings, text",
    [
        ({"n_z": 61.7}, "Precision.n_z = 61.7 must be an integer"),
        ({"n_m": 3}, "Precision.n_m = 3 is outside"),
        ({"x_out": 0.01}, "Precision.x_out = 0.01 is outside"),
        ({"m_min": 1.0}, "Precision.m_min = 1.0 is outside"),
        ({"n_z": 60}, "must be odd"),
        ({"z_min": math.nan}, "Precision.z_min = nan"),
        ({"z_min": 0.05, "z_max": 0.04}, "outside"),
        ({"nz": 61}, "Unknown Precision field(s) ['nz']"),
    ],
)
def test_known_bad_settings_are_refused(settings, text):
    with pytest.raises(ValueError) as err:
        sz.make_precision(**settings)
    assert text in str(err.value)


def test_non_number_is_a_type_error():
    with pytest.raises(TypeError, match="Precision.n_x = '400' is not a number"):
        sz.make_precision(n_x="400")


def test_integral_floats_and_numpy_numbers_are_accepted():
    """YAML may give 61.0; numpy scalars work too; the result holds Python numbers."""
    p = sz.make_precision(n_z=61.0, n_m=np.int64(61), z_max=np.float64(3.0))
    assert p == sz.Precision() and type(p.n_z) is int and type(p.z_max) is float


def test_defaults_give_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sz.make_precision() == sz.Precision()


@pytest.mark.parametrize(
    "name, value",
    [("n_z", 31), ("n_m", 25), ("n_x", 40), ("n_k", 120), ("z_min", 0.05), ("m_min", 1e12),
     ("m_max", 2e15), ("z_max", 2.0), ("q_min", 1e-3)],
)
def test_untested_region_warns_naming_field(name, value):
    """Inside the hard limits but outside the tested-converged range: a PrecisionWarning."""
    with pytest.warns(sz.PrecisionWarning, match=f"Precision.{name} = .*tested-converged"):
        sz.make_precision(**{name: value})


def test_warning_is_given_once_per_precision():
    with pytest.warns(sz.PrecisionWarning):
        sz.make_precision(n_m=29)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sz.make_precision(n_m=29)


@pytest.fixture(scope="module")
def default_cl(cosmo, profile):
    return [np.asarray(c) for c in sz.cl_yy(cosmo, profile, ELL)]


@pytest.mark.parametrize("name, refused, accepted", [("n_m", 15, 21), ("n_k", 64, 100)])
@pytest.mark.slow
def test_hard_limit_is_where_the_error_exceeds_one_percent(cosmo, profile, default_cl, name, refused, accepted):
    """The stated limits are measured: just below the hard limit C_ell is off by more than
    1% from the converged defaults, at the limit by less (bypassing the check with a raw
    Precision, which `cl_yy` refuses)."""
    from cobaya_szlite.engine import grids as grids_module

    def clear():
        grids_module.grids.cache_clear()
        grids_module.fourier_table.cache_clear()

    def deviation(value):
        precision = sz.Precision()._replace(**{name: value})
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(grids_module, "check_precision", lambda *args, **kwargs: None)
            clear()
            cl = [np.asarray(c) for c in sz.cl_yy(cosmo, profile, ELL, precision)]
        clear()
        return max(np.max(np.abs(a / b - 1)) for a, b in zip(cl, default_cl))

    assert deviation(refused) > 0.01
    assert deviation(accepted) < 0.01


def test_cl_yy_refuses_a_raw_precision_outside_the_limits(cosmo, profile):
    """Precision(...) built without make_precision is checked when cl_yy first uses it."""
    with pytest.raises(ValueError, match=r"Precision.n_m = 3 is outside"):
        sz.cl_yy(cosmo, profile, ELL, sz.Precision(n_m=3))


@pytest.mark.slow
def test_low_z_min_with_default_table_is_finite(cosmo, profile):
    """Regression: z_min = 1e-5 with the default (automatic) q table used to give NaN at
    every ell; now finite up to ell = 3000 and identical to an explicitly huge table
    (same q nodes: q_min and the ln q step are unchanged)."""
    auto = sz.make_precision(z_min=1e-5)
    big = sz.make_precision(z_min=1e-5, q_max=1e9)
    ell = np.array([2.0, 10.0, 100.0, 1000.0, 3000.0])
    a = [np.asarray(c) for c in sz.cl_yy(cosmo, profile, ell, auto)]
    b = [np.asarray(c) for c in sz.cl_yy(cosmo, profile, ell, big)]
    for x, y in zip(a, b):
        assert np.all(np.isfinite(x)) and np.all(x > 0)
        np.testing.assert_allclose(x, y, rtol=1e-12)


@pytest.mark.slow
def test_huge_m_max_is_finite_and_converged(cosmo, profile, default_cl):
    """Regression: m_max = 1e20: finite, and within 0.5% of m_max = 5e15 (no halos above)."""
    cl = [np.asarray(c) for c in sz.cl_yy(cosmo, profile, ELL, sz.make_precision(m_max=1e20))]
    for a, b in zip(cl, default_cl):
        assert np.all(np.isfinite(a))
        assert np.max(np.abs(a / b - 1)) < 5e-3


def test_required_q_max_covers_ell_max_at_the_sizing_corners(profile):
    """The automatic table reaches ell_max for B = SIZING_B_MIN and H0 = 100 (validate
    agrees), and is refused just beyond."""
    precision = sz.make_precision(z_min=1e-4, ell_max=5e3)
    corner = sz.CosmoParams(H0=100.0, omega_cdm=0.3)
    weak_b = profile._replace(B=sz.SIZING_B_MIN)
    sz.validate(corner, weak_b, ell=[5e3], precision=precision)
    with pytest.raises(ValueError, match=r"ell = 20000 needs the profile transform.*Precision.ell_max"):
        sz.validate(corner, weak_b, ell=[2e4], precision=precision)


@pytest.mark.slow
def test_explicit_q_max_too_small_is_refused_with_the_value_that_works():
    with pytest.raises(ValueError) as err:
        sz.make_precision(z_min=1e-5, q_max=1e4)
    needed = sz.required_q_max(sz.Precision(z_min=1e-5))
    assert "Precision.q_max = 10000" in str(err.value) and f"q_max >= {needed:.3g}" in str(err.value)
    assert np.isfinite(sz.cl_yy(sz.CosmoParams(), sz.ProfileParamsA10(), np.array([3000.0]),
                                sz.make_precision(z_min=1e-5, q_max=needed))[0][0])


def test_explicit_q_max_short_of_the_sizing_corners_warns():
    """q_max enough at the fiducial point but not for every B >= 0.5, H0 <= 100: a warning."""
    precision = sz.Precision(z_min=1e-5, ell_max=1e4)
    nominal_ok = 0.7 * sz.required_q_max(precision)
    with pytest.warns(sz.PrecisionWarning, match="Precision.q_max"):
        sz.make_precision(z_min=1e-5, ell_max=1e4, q_max=nominal_ok)


def test_sz_theory_builds_its_precision_with_make_precision():
    """SZTheory refuses a non-integer n_z and logs a warning for an untested n_k."""
    cobaya_log = pytest.importorskip("cobaya.log")
    from cobaya_szlite.theory import SZTheory

    with pytest.raises(cobaya_log.LoggedError, match=r"Invalid 'precision'.*n_z = 61.7 must be an integer"):
        SZTheory({"precision": {"n_z": 61.7}})
    theory = SZTheory({"precision": {"n_k": 120}})
    assert theory._precision == sz.make_precision(n_k=120, ell_max=float(theory.ell_max))


def test_docstring_table_lists_the_limits():
    """The table in the Precision docstring is PRECISION_LIMITS (and the defaults)."""
    pattern = re.compile(r"^\s*(\w+)\s+(\S+)\s+\[(\S+), (\S+)\]\s+\[(\S+), (\S+)\]\s*$")
    rows = {}
    for line in sz.Precision.__doc__.splitlines():
        match = pattern.match(line)
        if match and match.group(1) in sz.Precision._fields:
            rows[match.group(1)] = match.groups()[1:]
    assert set(rows) == set(sz.Precision._fields)
    for name, limit in sz.PRECISION_LIMITS.items():
        default, *bounds = rows[name]
        assert (None if default == "None" else float(default)) == getattr(sz.Precision(), name)
        assert tuple(float(v) for v in bounds) == limit.hard + limit.tested
