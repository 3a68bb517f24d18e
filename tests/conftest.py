"""Session fixtures shared by the engine tests: parameter sets and compiled functions.

JAX compile time dominates the suite on CI, so every jitted function is built once here.
"""

import jax
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)  # the engine needs float64; importing it does not switch it on

import cobaya_szlite as sz  # noqa: E402

#: Multipoles used across the engine tests (the range the issue names: 10 <= ell <= 5000).
ELL = np.geomspace(10.0, 5000.0, 30)

#: Two cosmologies (Planck-like and a deliberately different one) for reference tests.
_COSMOLOGIES = {
    "planck18": sz.CosmoParams(),
    "shifted": sz.CosmoParams(omega_b=0.0210, omega_cdm=0.1300, H0=72.0, n_s=0.950, sigma8=0.750),
}


@pytest.fixture(scope="session", params=sorted(_COSMOLOGIES))
def reference_cosmo(request):
    """Each reference cosmology in turn (Planck 2018-like, and a deliberately shifted one)."""
    return _COSMOLOGIES[request.param]


@pytest.fixture(scope="session")
def ell():
    return ELL


@pytest.fixture(scope="session")
def cosmo():
    return sz.CosmoParams()


@pytest.fixture(scope="session")
def profile():
    return sz.ProfileParamsA10()


@pytest.fixture(scope="session")
def cl_jit():
    """`cl_yy` compiled once at the default precision for the fixed `ELL`."""
    return jax.jit(lambda c, p: sz.cl_yy(c, p, ELL))


@pytest.fixture(scope="session")
def jac_jit():
    """Jacobians of (C1h, C2h) with respect to every field of both parameter pytrees."""
    return jax.jit(jax.jacfwd(lambda c, p: sz.cl_yy(c, p, ELL), argnums=(0, 1)))


@pytest.fixture(scope="session")
def pyccl_ref():
    """The pyccl reference module; the test is skipped where pyccl is not installed."""
    pytest.importorskip("pyccl")
    import pyccl_reference

    return pyccl_reference
