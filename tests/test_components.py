"""Engine components: one formula path (the public building blocks are what cl_yy runs),
registries (a new backend, mass function or profile is one registration), the general
(non-self-similar) profile path, and float64 without import side effects."""

import collections
import subprocess
import sys
import types
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import pytest

import cobaya_szlite as sz
from cobaya_szlite.engine import linear_power as linear_power_package
from cobaya_szlite.engine import mass_function as mass_function_package
from cobaya_szlite.engine import profiles as profiles_package
from cobaya_szlite.engine.grids import grids
from cobaya_szlite.engine.profiles import gnfw
from cobaya_szlite.engine.tsz import _ingredients

ELL = np.array([10.0, 100.0, 1000.0, 3000.0])
SMALL = sz.Precision(n_z=41, n_m=41, n_x=200, n_k=150)


@pytest.fixture(scope="module")
def ingredients(cosmo, profile):
    return _ingredients(cosmo, profile, ELL, SMALL, sz.HaloModel())


@pytest.mark.slow
def test_public_building_blocks_are_what_cl_yy_runs(cosmo, ingredients):
    """dn/dlnM, bias, dV/dz and P_cb (the 2-halo spectrum, CDM + baryons) from the public
    functions on the grids of a Precision equal the arrays cl_yy integrates (same
    quadratures: agreement to rounding, 1e-12)."""
    g = grids(SMALL)
    z = g.z[:, None]
    halo = ingredients.halo
    number = np.asarray(sz.dndlnM(g.mass[None, :], z, cosmo, SMALL)) * g.mass_weights
    np.testing.assert_allclose(halo.number, number, rtol=1e-12)
    np.testing.assert_allclose(halo.bias, sz.halo_bias(g.mass[None, :], z, cosmo, SMALL), rtol=1e-12)
    np.testing.assert_allclose(halo.dvol, sz.dVdzdOmega(g.z, cosmo) * g.z_weights, rtol=1e-12)
    k = (ELL[None, :] + 0.5) / np.asarray(sz.comoving_distance(g.z, cosmo))[:, None]
    np.testing.assert_allclose(halo.p_lin, linear_power_package.linear_power_cb(k, z, cosmo), rtol=1e-12)


@pytest.mark.slow
def test_profile_terms_are_y_ell(cosmo, profile, ingredients):
    """prefactor x u(q) on the grid is the public y_ell (the self-similar fast path)."""
    g = grids(SMALL)
    terms = ingredients.profile
    from cobaya_szlite.engine.quadrature import lagrange4_interp

    u = lagrange4_interp(jnp.broadcast_to(terms.u, (g.z.size, terms.u.size)), terms.offset + 7)
    y_fast = np.asarray(terms.prefactor[:, 7:8] * u)
    y_public = np.asarray(sz.y_ell(ELL[None, :], g.mass[7], g.z[:, None], cosmo, profile, SMALL))
    np.testing.assert_allclose(y_fast, y_public, rtol=1e-10)


def test_unknown_component_names_the_registered_ones(cosmo, profile):
    for field in ("linear_power", "mass_function", "bias"):
        with pytest.raises(ValueError, match=f"HaloModel.{field} = 'nope' is not registered; available"):
            sz.cl_yy(cosmo, profile, ELL, SMALL, sz.HaloModel(**{field: "nope"}))


class _QuadrupledPower:
    """A backend whose P(k) is 4x EH98's: sigma doubles, so it must equal EH98 at 2 sigma8
    (the normalisation to sigma8 is the backend's job; this one ignores sigma8 on purpose)."""

    @staticmethod
    def power_z0(cosmo, k):
        return 4.0 * linear_power_package.eh98.power_z0(cosmo, k)


@pytest.mark.slow
def test_registered_linear_power_backend_is_used(cosmo, profile):
    sz.register_linear_power("eh98_x4", _QuadrupledPower)
    try:
        got = sz.cl_yy(cosmo, profile, ELL, SMALL, sz.HaloModel(linear_power="eh98_x4"))
        ref = sz.cl_yy(cosmo._replace(sigma8=2.0 * cosmo.sigma8), profile, ELL, SMALL)
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a, b, rtol=1e-11)
    finally:
        del linear_power_package.LINEAR_POWER_BACKENDS["eh98_x4"]


@pytest.mark.slow
def test_registered_mass_function_and_bias_are_used(cosmo, profile):
    """f -> 2 f doubles C1h and quadruples C2h; b -> 3 b multiplies C2h by 9 more."""
    sz.register_mass_function("double", lambda *a: 2.0 * mass_function_package.tinker08.multiplicity(*a))
    sz.register_bias("triple", lambda *a: 3.0 * mass_function_package.tinker10.bias(*a))
    try:
        base = sz.cl_yy(cosmo, profile, ELL, SMALL)
        doubled = sz.cl_yy(cosmo, profile, ELL, SMALL, sz.HaloModel(mass_function="double", bias="triple"))
        np.testing.assert_allclose(doubled[0], 2.0 * base[0], rtol=1e-12)
        np.testing.assert_allclose(doubled[1], 36.0 * base[1], rtol=1e-12)
    finally:
        del mass_function_package.MASS_FUNCTIONS["double"]
        del mass_function_package.BIASES["triple"]


#: A10 parameters under another type, routed through the general (per-node y_ell) path of cl_yy.
GeneralA10 = collections.namedtuple("GeneralA10", sz.ProfileParamsA10._fields, defaults=tuple(sz.ProfileParamsA10()))


def _general_y_ell_grid(ell, z, mass, cosmo, profile, precision, d_a, e_z):
    a10 = sz.ProfileParamsA10(*profile)
    return sz.y_ell(ell[None, None, :], mass[None, :, None], z[:, None, None], cosmo, a10, precision,
                    d_a[:, None, None], e_z[:, None, None])


_GENERAL = types.SimpleNamespace(SELF_SIMILAR=False, MASS_DEFINITION="500c", RULES=gnfw.RULES,
                                 y_ell_grid=_general_y_ell_grid)


@pytest.mark.slow
def test_general_profile_path_matches_the_self_similar_path(cosmo):
    """A profile registered without SELF_SIMILAR gets y_ell at every (z, M, ell) node. With
    the A10 kernel it reproduces the Hankel fast path. Interpolation in ln q is linear in
    the table, so for the 2-halo term (linear in u) summing interpolated values equals
    interpolating the sums (1e-10); the 1-halo term and the trispectrum interpolate u^2 on
    the fast path and square the interpolated u here, which differ by the 4-point Lagrange
    error (measured 1.2e-5 on C1h, required 1e-4; 1.2e-3 on the trispectrum at
    (ell, ell') = (10, 1000), where u falls steeply; required 3e-3)."""
    sz.register_profile(GeneralA10, _GENERAL)
    try:
        profile = GeneralA10(B=1.4)
        fast = sz.ProfileParamsA10(*profile)
        general_cl, fast_cl = sz.cl_yy(cosmo, profile, ELL, SMALL), sz.cl_yy(cosmo, fast, ELL, SMALL)
        np.testing.assert_allclose(general_cl[0], fast_cl[0], rtol=1e-4)
        np.testing.assert_allclose(general_cl[1], fast_cl[1], rtol=1e-10)
        np.testing.assert_allclose(
            sz.cl_yy_trispectrum(cosmo, profile, ELL, SMALL),
            sz.cl_yy_trispectrum(cosmo, fast, ELL, SMALL), rtol=3e-3,
        )
        assert np.all(np.isnan(sz.cl_yy(cosmo, profile._replace(B=-1.0), ELL, SMALL)[0]))
        with pytest.raises(ValueError, match="GeneralA10.B = -1.0"):
            sz.validate(cosmo, profile._replace(B=-1.0))
    finally:
        del profiles_package.PROFILES[GeneralA10]


class UnknownProfile(NamedTuple):
    """A profile pytree nobody registered."""

    P0: float = 8.130


def test_unregistered_profile_type_is_refused(cosmo):
    with pytest.raises(TypeError, match="no pressure profile registered for UnknownProfile"):
        sz.cl_yy(cosmo, UnknownProfile(), ELL, SMALL)
    with pytest.raises(TypeError, match="lacks"):
        sz.register_profile(UnknownProfile, types.SimpleNamespace(SELF_SIMILAR=True, RULES=()))


_NO_X64 = """
import jax, numpy as np
import cobaya_szlite as sz
assert not jax.config.jax_enable_x64, "importing cobaya_szlite switched float64 on"
calls = {
    "cl_yy": lambda: sz.cl_yy(sz.CosmoParams(), sz.ProfileParamsA10(), np.array([100.0])),
    "sigma_R": lambda: sz.sigma_R(8.0, 0.0, sz.CosmoParams()),
    "dndlnM": lambda: sz.dndlnM(1e14, 0.0, sz.CosmoParams()),
    "linear_power": lambda: sz.linear_power(0.1, 0.0, sz.CosmoParams()),
    "y_ell": lambda: sz.y_ell(100.0, 1e14, 0.1, sz.CosmoParams(), sz.ProfileParamsA10()),
}
for name, call in calls.items():
    try:
        call()
    except RuntimeError as err:
        print(err)
    else:
        raise SystemExit(name + " ran in float32")
"""


def test_import_leaves_jax_config_alone_and_float32_is_refused():
    """In a fresh process: the import does not enable float64, and cl_yy and the public
    building blocks refuse to run without it, naming the line to add."""
    out = subprocess.run([sys.executable, "-c", _NO_X64], capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count(sz.X64_LINE) == 5
