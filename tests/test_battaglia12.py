"""Battaglia et al. (2012) profile: its Fourier table against scipy adaptive quadrature, y_ell and
C_ell against a direct integral (scipy quadrature of the profile at every node), gradients of the
nine inputs against finite differences, and the refusals (x_out, beta off the table)."""

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import cobaya_szlite as sz
from cobaya_szlite.engine import tsz
from cobaya_szlite.engine.grids import grids
from cobaya_szlite.engine.profiles import ProfileParamsB12, battaglia12, profile_component

#: Halo model at M200c where the engine has the field (mass-definition plumbing), else the default.
MODEL = (sz.HaloModel(mass_definition="200c") if "mass_definition" in sz.HaloModel._fields
         else sz.HaloModel())
ELL = np.array([10.0, 100.0, 1000.0, 5000.0])
SMALL = sz.Precision(n_z=41, n_m=31, n_x=200)

# Independent constants (SI; Msun = IAU nominal GM_sun / G, 2018 CODATA G).
_G, _MSUN, _MPC, _EV = 6.67430e-11, 1.988409870698051e30, 3.085677581491367e22, 1.602176634e-19
_SIGMA_T, _ME_C2_EV = 6.6524587321e-29, 510998.95


def _f_quad(k: float, beta: float) -> float:
    """F(k; beta) = Int_0^inf t^1.7 (1+t)^-beta sin(kt)/(kt) dt by scipy quad: ln t on
    [1e-12, 1/k] (relative 1e-11), QUADPACK QAWF (weight sin) on the tail [1/k, inf)."""
    x_split = 1.0 / k

    def in_ln_t(u):
        t = math.exp(u)
        kt = k * t
        return t**2.7 * (1.0 + t) ** -beta * (math.sin(kt) / kt if kt > 1e-6 else 1.0 - kt * kt / 6.0)

    pieces = [math.log(1e-12)] + [p for p in (0.0,) if math.log(1e-12) < p < math.log(x_split)] + [math.log(x_split)]
    head = sum(integrate.quad(in_ln_t, a, b, limit=500, epsabs=0.0, epsrel=1e-11)[0]
               for a, b in zip(pieces, pieces[1:]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        tail = integrate.quad(lambda t: t**0.7 * (1.0 + t) ** -beta, x_split, np.inf, weight="sin", wvar=k,
                              limlst=500)[0]
    return head + tail / k


@pytest.mark.parametrize("beta", [2.9, 3.5, 4.35, 6.0, 12.0, 20.0])
def test_fourier_table_matches_adaptive_quadrature(beta):
    """Required 0.1% up to q = 1e3 (k = q xc, xc < 1): measured < 3e-5 (the cubic-convolution
    error at the table spacing 0.05 in ln k and ln(beta - 2.7)); F(0) is the Euler beta function
    B(2.7, beta - 2.7)."""
    k = np.geomspace(1e-6, 1e3, 19)
    ours = np.asarray(battaglia12.b12_fourier(k, beta))
    ref = np.array([_f_quad(float(kk), beta) for kk in k])
    np.testing.assert_allclose(ours, ref, rtol=1e-4)
    # below the table (k < 1e-9) F is held at F(1e-9); F(0) - F(k) ~ k^(beta - 2.7) there. The
    # rotated integral loses digits as k -> 0 (rounding 1e-16 |J| / (k F): 1e-5 at k = 1e-9, beta = 12)
    assert float(battaglia12.b12_fourier(1e-12, beta)) == float(battaglia12.b12_fourier(1e-9, beta))
    if beta > 4:
        from scipy.special import beta as euler_beta
        np.testing.assert_allclose(float(battaglia12.b12_fourier(1e-12, beta)), euler_beta(2.7, beta - 2.7),
                                   rtol=1e-4)


def test_fourier_derivative_in_beta_matches_the_exact_one():
    """dF/dbeta of the interpolant against a central difference of the quadrature (step 1e-3,
    error ~1e-7): required 1e-3, the cubic interpolant's derivative error at the table spacing."""
    for beta in (3.3, 4.35, 7.0):
        for k in (1e-3, 0.3, 3.0, 100.0):
            ours = float(jax.grad(battaglia12.b12_fourier, argnums=1)(k, beta))
            ref = (_f_quad(k, beta + 1e-3) - _f_quad(k, beta - 1e-3)) / 2e-3
            assert abs(ours / ref - 1) < 1e-3, (beta, k, ours, ref)


def test_off_table_and_truncation_are_refused(cosmo):
    """beta(M, z) outside [2.75, 22.7] gives NaN (whole grid); x_out < inf is refused at trace time."""
    assert np.isnan(float(battaglia12.b12_fourier(1.0, 2.72)))
    assert np.isnan(float(battaglia12.b12_fourier(1.0, 30.0)))
    assert np.isnan(float(battaglia12.b12_fourier(2e6, 4.0)))
    g = grids(SMALL)
    d_a = np.ones(g.z.size) * 1e3
    with pytest.raises(ValueError, match="Precision.x_out must be inf"):
        battaglia12.y_ell_grid(jnp.asarray(ELL), g.z, g.mass, cosmo, ProfileParamsB12(), SMALL._replace(x_out=4.0),
                               d_a, np.ones(g.z.size))
    steep = ProfileParamsB12(alpha_z_beta=1.9)  # beta(z = 3) = 4.35 * 4^1.9 = 60: off the table
    y = battaglia12.y_ell_grid(jnp.asarray(ELL), g.z, g.mass, cosmo, steep, SMALL, d_a, np.ones(g.z.size))
    assert np.all(np.isnan(np.asarray(y)))
    with pytest.raises(ValueError, match=r"ProfileParamsB12.xc = -0.5 is outside the allowed range: xc > 0"):
        sz.validate(cosmo, ProfileParamsB12(xc=-0.5))
    assert profile_component(ProfileParamsB12()) is battaglia12
    assert battaglia12.MASS_DEFINITION == "200c" and not battaglia12.SELF_SIMILAR


def _y_direct(ell, z, mass, cosmo, p, d_a, e_z):
    """y_ell [sr] at every (z, M, ell) node from the formula, with scipy quadrature of the profile."""
    h = cosmo.H0 / 100.0
    rho_c = 3.0 * (cosmo.H0 * 1e3 / _MPC) ** 2 / (8 * math.pi * _G) * e_z**2 * _MPC**3 / _MSUN  # Msun / Mpc^3
    f_b = cosmo.omega_b / (cosmo.omega_b + cosmo.omega_cdm)
    assert cosmo.m_nu == 0.0 and h > 0
    out = np.empty((z.size, mass.size, ell.size))
    for i, zz in enumerate(z):
        r200 = (3 * mass / (800 * math.pi * rho_c[i])) ** (1 / 3)                          # Mpc
        p200 = _G * (mass * _MSUN) * 200 * (rho_c[i] * _MSUN / _MPC**3) * f_b / (2 * r200 * _MPC)  # J m^-3
        p_e = p200 / _EV / 1e6 * 2 * 1.76 / (5 * 0.76 + 3)                                # eV cm^-3
        p0, xc, beta = (a * (mass / 1e14) ** am * (1 + zz) ** az for a, am, az in (
            (p.P0, p.alpha_m_P0, p.alpha_z_P0), (p.xc, p.alpha_m_xc, p.alpha_z_xc),
            (p.beta, p.alpha_m_beta, p.alpha_z_beta)))
        for j in range(mass.size):
            q = (ell + 0.5) * r200[j] / d_a[i]
            u = p0[j] * xc[j] ** 3 * np.array([_f_quad(qq * xc[j], beta[j]) for qq in q])
            # sigma_T/(m_e c^2) 4 pi R^3/d_A^2 P_e u, pressure in eV cm^-3 -> eV m^-3, lengths in m
            out[i, j] = (_SIGMA_T / _ME_C2_EV * 1e6 * 4 * math.pi * (r200[j] * _MPC) ** 3 / (d_a[i] * _MPC) ** 2
                         * p_e[j] * u)
    return out


@pytest.mark.slow
def test_cl_yy_matches_direct_integral(pyccl_ref, reference_cosmo):
    """C_ell with the B12 table against the same halo-model sums with y_ell from scipy quadrature
    at every node and the background (d_A, E(z)) from pyccl: required 0.5%, measured < 1e-4.
    The mass function, bias, volume and P_lin weights are the engine's (their own tests compare
    them with pyccl), so this isolates the profile: the formula of P200c (independent constants),
    the electron-pressure factor, the table and the general (per-node) path of cl_yy."""
    cosmo, profile = reference_cosmo, ProfileParamsB12()
    g = grids(SMALL)
    ing = tsz._ingredients(cosmo, profile, jnp.asarray(ELL), SMALL, MODEL)
    d_a = pyccl_ref.angular_diameter_distance(g.z, cosmo)
    e_z = pyccl_ref.E_z(g.z, cosmo)
    y = _y_direct(ELL, g.z, g.mass, cosmo, profile, d_a, e_z)
    np.testing.assert_allclose(np.asarray(ing.profile.y), y, rtol=1e-4)
    halo = ing.halo
    dvol, number, bias, p_lin = (np.asarray(a) for a in (halo.dvol, halo.number, halo.bias, halo.p_lin))
    ref_1h = np.einsum("z,zm,zml->l", dvol, number, y**2)
    ref_2h = np.einsum("z,zl,zl->l", dvol, p_lin, np.einsum("zm,zml->zl", number * bias, y) ** 2)
    ours_1h, ours_2h = (np.asarray(c) for c in sz.cl_yy(cosmo, profile, ELL, SMALL, MODEL))
    np.testing.assert_allclose(ours_1h, ref_1h, rtol=5e-3)
    np.testing.assert_allclose(ours_2h, ref_2h, rtol=5e-3)


@pytest.mark.slow
def test_gradients_of_the_nine_inputs_match_finite_differences(cosmo):
    """Reverse-mode gradients of C1h and C2h (4 ells) in every field against central differences
    (relative step 1e-6 of max(|x|, 0.1)): required 1e-6 relative to the largest |gradient| entry
    of each field (the interpolant is C^1: a step across a table node adds an error of order
    step x the jump of its second derivative)."""
    profile = ProfileParamsB12()
    cl = jax.jit(lambda p: jnp.concatenate(sz.cl_yy(cosmo, p, ELL, SMALL, MODEL)))
    base = np.asarray(cl(profile))
    scale = np.abs(base)
    jac = jax.jacrev(lambda p: cl(p) / scale)(profile)
    for name in ProfileParamsB12._fields:
        x = getattr(profile, name)
        step = 1e-6 * max(abs(x), 0.1)
        up = np.asarray(cl(profile._replace(**{name: x + step}))) / scale
        down = np.asarray(cl(profile._replace(**{name: x - step}))) / scale
        fd = (up - down) / (2 * step)
        ad = np.asarray(getattr(jac, name))
        err = np.max(np.abs(ad - fd)) / np.max(np.abs(ad))
        assert err < 1e-6, (name, err, ad, fd)
