"""Bad input: eager errors that name the parameter and range; non-finite output under jit."""

import math

import jax
import numpy as np
import pytest

import cobaya_szlite as sz

BAD = [
    ("cosmo", "omega_b", -0.01, "omega_b > 0"),
    ("cosmo", "omega_cdm", 0.0, "omega_cdm > 0"),
    ("cosmo", "sigma8", 0.0, "sigma8 > 0"),
    ("cosmo", "sigma8", -0.5, "sigma8 > 0"),
    ("cosmo", "H0", -70.0, "H0 > 0"),
    ("cosmo", "H0", 30.0, "Omega_cb + Omega_nu + Omega_r < 1"),
    ("cosmo", "m_nu", -0.1, "0 <= m_nu < 5"),
    ("cosmo", "w0", -3.5, "-3 < w0 < 0"),
    ("cosmo", "wa", 1.2, "w0 + wa < 0"),
    ("cosmo", "n_s", 2.5, "0 < n_s < 2"),
    ("profile", "beta", 0.3, "beta > gamma"),
    ("profile", "beta", 2.5, "beta > 3"),
    ("profile", "gamma", 3.5, "gamma < 3"),
    ("profile", "B", 0.0, "B > 0"),
    ("profile", "P0", -1.0, "P0 > 0"),
    ("profile", "c500", 0.0, "c500 > 0"),
    ("profile", "alpha", -1.0, "alpha > 0"),
    ("cosmo", "omega_b", math.nan, "not finite"),
]


def _point(which, field, value):
    cosmo, prof = sz.CosmoParams(), sz.ProfileParamsA10()
    if which == "cosmo":
        return cosmo._replace(**{field: value}), prof
    return cosmo, prof._replace(**{field: value})


@pytest.mark.parametrize("which, field, value, allowed", BAD)
def test_validate_names_field_and_range(which, field, value, allowed):
    cosmo, prof = _point(which, field, value)
    with pytest.raises(ValueError) as err:
        sz.validate(cosmo, prof)
    assert field in str(err.value) and allowed in str(err.value)


@pytest.mark.parametrize("which, field, value, allowed", [b for b in BAD if "finite" not in b[3]])
def test_unphysical_point_is_non_finite_under_jit(cl_jit, which, field, value, allowed):
    """Inside jit no error can be raised: every output is NaN, never a finite wrong number."""
    cl_1h, cl_2h = cl_jit(*_point(which, field, value))
    assert np.all(np.isnan(cl_1h)) and np.all(np.isnan(cl_2h))


def test_valid_point_passes(cosmo, profile, ell):
    sz.validate(cosmo, profile, ell, sz.Precision())


@pytest.mark.parametrize("bad_ell", [[0.0, 10.0], [-5.0], [np.inf], []])
def test_bad_ell(cosmo, profile, bad_ell):
    with pytest.raises(ValueError, match="ell"):
        sz.validate(cosmo, profile, ell=bad_ell)


@pytest.mark.slow
def test_non_positive_ell_is_nan_under_jit(cosmo, profile):
    out = jax.jit(sz.cl_yy)(cosmo, profile, np.array([-1.0, 100.0]))
    assert np.all(np.isnan(out[0]))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"z_min": 3.0, "z_max": 1.0}, "z_min"),
        ({"z_min": 0.0}, "z_min"),
        ({"m_min": 1e16}, "m_min"),
        ({"n_z": 40}, "n_z"),
        ({"n_m": 2}, "n_m"),
        ({"x_out": -1.0}, "x_out"),
        ({"q_min": 1e5}, "q_min"),
    ],
)
def test_bad_precision(cosmo, profile, kwargs, name):
    with pytest.raises(ValueError, match=f"Precision.{name}"):
        sz.validate(cosmo, profile, precision=sz.Precision(**kwargs))


@pytest.mark.slow
def test_unphysical_gradient_is_nan_not_crash(cosmo, profile):
    g = jax.grad(lambda s8: sz.cl_yy(cosmo._replace(sigma8=s8), profile, np.array([100.0]))[0][0])(-0.1)
    assert np.isnan(g)


@pytest.mark.slow
def test_ell_beyond_profile_table_is_nan_not_clamped(cosmo, profile):
    """An ell beyond the q table of the Precision (sized for ell_max) is refused: NaN under
    jit, a ValueError naming ell_max from validate; raising ell_max makes it computable."""
    ell = np.array([5e5])
    assert np.isnan(sz.cl_yy(cosmo, profile, ell)[0][0])
    with pytest.raises(ValueError, match="Precision.ell_max"):
        sz.validate(cosmo, profile, ell, sz.Precision())
    wider = sz.make_precision(ell_max=5e5)
    sz.validate(cosmo, profile, ell, wider)
    assert np.isfinite(sz.cl_yy(cosmo, profile, ell, wider)[0][0])
