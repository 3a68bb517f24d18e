"""C_ell under jax.grad / jacfwd / vmap / jit: exact gradients, one compilation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cobaya_szlite as sz

#: Every differentiable field at the defaults (logA is None there: its gradient is tested at a
#: logA point in tests/test_normalisation.py).
FIELDS = [("cosmo", f) for f, v in zip(sz.CosmoParams._fields, sz.CosmoParams()) if v is not None] + [
    ("profile", f) for f in sz.ProfileParamsA10._fields
]


def _with(cosmo, profile, which, field, value):
    if which == "cosmo":
        return cosmo._replace(**{field: value}), profile
    return cosmo, profile._replace(**{field: value})


@pytest.fixture(scope="module")
def jacobian(jac_jit, cosmo, profile):
    return jac_jit(cosmo, profile)


@pytest.mark.parametrize("which, field", FIELDS)
@pytest.mark.slow
def test_gradient_matches_central_difference(jacobian, cl_jit, cosmo, profile, which, field):
    """Every parameter of `FIELDS`, both terms, all 30 ells: jacfwd against central
    differences with relative step 1e-5 (absolute 1e-5 for wa = 0; truncation ~1e-10
    relative, round-off ~1e-11); required agreement 1e-6 of the largest derivative entry
    of that term."""
    x0 = getattr(cosmo if which == "cosmo" else profile, field)
    h = 1e-5 * (abs(x0) or 1.0)
    plus = cl_jit(*_with(cosmo, profile, which, field, x0 + h))
    minus = cl_jit(*_with(cosmo, profile, which, field, x0 - h))
    for term in range(2):
        jac = getattr(jacobian[term][0 if which == "cosmo" else 1], field)
        fd = (np.asarray(plus[term]) - np.asarray(minus[term])) / (2 * h)
        scale = np.max(np.abs(fd))
        worst = np.max(np.abs(np.asarray(jac) - fd)) / scale
        assert worst < 1e-6, f"{field} term {term}: worst relative difference {worst:.2e}"


@pytest.mark.slow
def test_grad_of_scalar_equals_jacobian_row_sum(jacobian, cosmo, profile, ell):
    """jax.grad of sum(C1h) returns pytrees of partials equal to the summed jacfwd rows."""
    g_cosmo, g_prof = jax.grad(lambda c, p: jnp.sum(sz.cl_yy(c, p, ell)[0]), argnums=(0, 1))(cosmo, profile)
    assert isinstance(g_cosmo, sz.CosmoParams) and isinstance(g_prof, sz.ProfileParamsA10)
    for tree_g, tree_j in ((g_cosmo, jacobian[0][0]), (g_prof, jacobian[0][1])):
        for a, b in zip(tree_g, tree_j):
            if a is not None:  # logA at a sigma8 point
                np.testing.assert_allclose(a, np.sum(b), rtol=1e-10)


@pytest.mark.slow
def test_design_matrix_shape(jacobian, ell):
    """jacfwd over all fields assembles the (n_ell x n_fields) design matrix (None fields have no column)."""
    cols = [np.asarray(c) for tree in jacobian[0] for c in tree if c is not None]
    design = np.stack(cols, axis=1)
    assert design.shape == (len(ell), len(FIELDS)) and np.all(np.isfinite(design))


@pytest.mark.slow
def test_vmap_matches_python_loop(cl_jit, cosmo, profile):
    s8 = jnp.array([0.7, 0.8, 0.9])
    bs = jnp.array([1.1, 1.3, 1.5])
    batch_c = cosmo._replace(sigma8=s8)
    batch_p = profile._replace(B=bs)
    axes_c = sz.CosmoParams(None, None, None, None, 0, None, None, None, None)
    axes_p = sz.ProfileParamsA10(None, None, None, None, None, None, 0)
    v1h, v2h = jax.vmap(cl_jit, in_axes=(axes_c, axes_p))(batch_c, batch_p)
    for i in range(3):
        l1h, l2h = cl_jit(cosmo._replace(sigma8=float(s8[i])), profile._replace(B=float(bs[i])))
        np.testing.assert_allclose(v1h[i], l1h, rtol=1e-12)
        np.testing.assert_allclose(v2h[i], l2h, rtol=1e-12)


@pytest.mark.slow
def test_jit_traces_once_for_new_parameter_values(cosmo, profile, ell):
    """The whole path compiles once: new parameter values reuse the trace."""
    traces = []

    def counted(c, p):
        traces.append(1)
        return sz.cl_yy(c, p, ell)

    f = jax.jit(counted)
    f(cosmo, profile)
    f(cosmo._replace(sigma8=0.7, H0=70.0), profile._replace(beta=5.0, B=1.4))
    f(sz.CosmoParams(omega_cdm=0.13), sz.ProfileParamsA10(alpha_p=0.0))
    assert len(traces) == 1


def test_pytree_round_trip(cosmo, profile):
    for tree in (cosmo, profile):
        leaves, treedef = jax.tree_util.tree_flatten(tree)
        assert jax.tree_util.tree_unflatten(treedef, leaves) == tree
    assert jax.tree_util.tree_leaves(sz.Precision()) == []


@pytest.mark.slow
def test_precision_is_static_under_jit(cosmo, profile, ell):
    """Passing a Precision positionally into a jitted function works (it has no leaves)."""
    f = jax.jit(sz.cl_yy)
    small = sz.Precision(n_z=21, n_m=21, n_x=100, n_k=100)
    a = f(cosmo, profile, ell[:3], small)
    b = sz.cl_yy(cosmo, profile, ell[:3], small)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12)


@pytest.mark.slow
def test_trispectrum_and_covariance_gradients(cosmo, profile):
    """jax.grad through the trispectrum and the covariance against central differences."""
    ell = np.array([100.0, 1000.0])

    def f(s8):
        return sz.cl_yy_covariance(cosmo._replace(sigma8=s8), profile, ell, 50.0, 0.47)[0, 1]

    g = float(jax.grad(f)(cosmo.sigma8))
    h = 1e-5
    fd = (float(f(cosmo.sigma8 + h)) - float(f(cosmo.sigma8 - h))) / (2 * h)
    assert abs(g / fd - 1) < 1e-6, (g, fd)
