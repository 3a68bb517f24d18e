"""GNFW presets: the published numbers, the P0 h-scaling of the SZ-calibrated variant, and the
Planck 2013 preset against pyccl's HaloProfilePressureGNFW (whose default it is)."""

from unittest import mock

import jax
import numpy as np
import pytest

import cobaya_szlite as sz
from cobaya_szlite.engine.profiles import GNFW_PRESETS, ProfileParamsGNFWSZ, gnfw_preset, gnfw_sz, profile_component

ELL_REF = np.array([10.0, 30.0, 100.0, 300.0, 1000.0, 2000.0, 5000.0])
SMALL = sz.Precision(n_z=41, n_m=31, n_x=200)


def test_presets_hold_the_published_numbers():
    """Values as published (Arnaud et al. 2010 eq. 12; Planck Int. Res. V 2013), B = 1.25."""
    expected = {
        "a10": (8.130, 1.156, 0.3292, 1.062, 5.4807, -1.5),
        "a10_rexcess": (8.403, 1.177, 0.3081, 1.0510, 5.4905, -1.5),
        "planck13": (6.41, 1.81, 0.31, 1.33, 4.13, -1.0),
    }
    assert sorted(GNFW_PRESETS) == sorted(expected)
    for name, (p0, c500, gamma, alpha, beta, h_exp) in expected.items():
        preset = gnfw_preset(name)
        assert preset.name == name
        p = preset.profile
        assert (p.P0, p.c500, p.gamma, p.alpha, p.beta, p.alpha_p, p.B) == (p0, c500, gamma, alpha, beta, 0.12, 1.25)
        assert preset.p0_h_exponent == h_exp == profile_component(p).P0_H_EXPONENT
        assert profile_component(p).MASS_DEFINITION == "500c"
        assert "B = 1/(1-b)" in preset.mass_bias
    assert type(gnfw_preset("planck13").profile) is ProfileParamsGNFWSZ
    assert type(gnfw_preset("a10").profile) is sz.ProfileParamsA10
    with pytest.raises(ValueError, match="unknown GNFW preset 'p13'.*planck13"):
        gnfw_preset("p13")


@pytest.mark.slow
def test_sz_variant_scales_as_h70_to_the_minus_one():
    """Same numbers under the two types: y differs by h70^(1/2) exactly, so both C_ell terms by
    h70 (to rounding); the SZ type keeps its type through jit and grad."""
    cosmo = sz.CosmoParams(H0=63.0)
    a10 = sz.ProfileParamsA10(P0=6.41, c500=1.81, gamma=0.31, alpha=1.33, beta=4.13)
    sz_type = ProfileParamsGNFWSZ(*a10)
    ell = np.array([30.0, 3000.0])
    ref, var = sz.cl_yy(cosmo, a10, ell, SMALL), sz.cl_yy(cosmo, sz_type, ell, SMALL)
    for r, v in zip(ref, var):
        np.testing.assert_allclose(np.asarray(v) / np.asarray(r), 63.0 / 70.0, rtol=1e-12)
    grad = jax.grad(lambda p: sz.cl_yy(cosmo, p, ell, SMALL)[0][1])(sz_type)
    assert type(grad) is ProfileParamsGNFWSZ
    assert gnfw_sz.RULES is profile_component(a10).RULES


def _pyccl_planck13(pyccl_ref, preset):
    """pyccl's own HaloProfilePressureGNFW with the preset's numbers, P0_hexp = -1 and
    mass_bias = 1/B (its q table at the matched settings of tests/pyccl_reference.py)."""
    import pyccl

    p = preset.profile
    prof = pyccl.halos.HaloProfilePressureGNFW(
        mass_def=pyccl.halos.MassDef(500, "critical"), mass_bias=1.0 / p.B, P0=p.P0, c500=p.c500,
        alpha=p.alpha, beta=p.beta, gamma=p.gamma, alpha_P=p.alpha_p, P0_hexp=preset.p0_h_exponent,
        qrange=pyccl_ref.PROFILE_QRANGE, nq=pyccl_ref.PROFILE_NQ,
    )
    return lambda profile=None, x_out=np.inf: prof


@pytest.mark.slow
def test_planck13_preset_matches_pyccl(pyccl_ref, reference_cosmo):
    """Required 1-halo 1%, 2-halo 2% (as for A10, tests/test_cl_yy.py); measured 4.2e-5 and
    1.4e-3 (the 2-halo residual is delta_c, as for A10). pyccl's profile object
    is built natively (P0_hexp = -1, not through the A10-matched helper), so the h-scaling is
    tested too: at the two cosmologies (h70 = 0.967 and 1.029) h70^-1.5 instead of h70^-1
    would move C_ell by 3.4% and 2.9%."""
    preset = gnfw_preset("planck13")
    ours_1h, ours_2h = (np.asarray(c) for c in sz.cl_yy(reference_cosmo, preset.profile, ELL_REF))
    with mock.patch.object(pyccl_ref, "pyccl_profile", _pyccl_planck13(pyccl_ref, preset)):
        ref_1h, ref_2h = pyccl_ref.cl_yy(reference_cosmo, preset.profile, ELL_REF)
    r1, r2 = ours_1h / ref_1h, ours_2h / ref_2h
    assert np.all(np.abs(r1 - 1) < 0.01), f"1h ratios {r1}"
    assert np.all(np.abs(r2 - 1) < 0.02), f"2h ratios {r2}"
