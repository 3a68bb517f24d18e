"""The class_sz reference tSZ spectrum (``class_sz_2020_tSZ_c_ell_ref.txt`` of the Planck
2015 data folder) with the most accurate linear-power backend, at its parameters
(``class_sz_2020_tSZ_param_ref.txt``): omega_b = 0.0245, omega_cdm = 0.1225, h = 0.7,
n_s = 0.95, A_s = 1.884e-9, three degenerate 0.02 eV neutrinos, A10 profile with
B = 1.41, M500c in [5e13, 1e16] h^-1 Msun, z in [1e-5, 4].
"""

import os
import warnings

import numpy as np
import pytest

import cobaya_szlite as sz
from cobaya_szlite.engine.linear_power import sigma8_of

from cobaya_fixtures import PLANCK_FOLDER, needs_planck_data

H = 0.7
COSMO = sz.CosmoParamsDegenerateNu(omega_b=0.0245, omega_cdm=0.1225, H0=100 * H, n_s=0.95,
                                   logA=float(np.log(1e10 * 1.884e-9)), m_nu=0.06)
PROFILE = sz.ProfileParamsA10(B=1.41)
#: The reference's redshift and mass ranges; its mass cut is above the tested-converged
#: range of m_min (a modelling choice, warned), hence the filter.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", sz.PrecisionWarning)
    PRECISION = sz.make_precision(z_min=1e-5, z_max=4.0, m_min=5e13 / H, m_max=1e16 / H)

#: Below ell = 20 this spectrum (with the 5e13 h^-1 Msun cut) comes from the very nearest
#: halos: raising z_min from 1e-5 to 1e-3 lowers D_10 by 10%. The engine is converged there
#: (n_z = 61 and 201 agree to 1e-5) while the reference is 17-20% below it at ell = 10 and
#: 3% at 18, i.e. its redshift sampling near z_min is not converged; the comparison holds
#: from ell = 20 on.
ELL_COMPARED = 20.0
#: The required accuracy of the most accurate backend; measured worst 1.2% (ell = 3000).
RTOL = 0.02


@pytest.fixture(scope="module")
def reference():
    path = os.path.join(PLANCK_FOLDER, "class_sz_2020_tSZ_c_ell_ref.txt")
    ell, d_1h = np.loadtxt(path, unpack=True)
    return ell, d_1h


def _d_ell_1h(ell, backend):
    one_halo, _ = sz.cl_yy(COSMO, PROFILE, ell, PRECISION, sz.HaloModel(linear_power=backend))
    return 1e12 * ell * (ell + 1) / (2 * np.pi) * np.asarray(one_halo)


@needs_planck_data
def test_syren_new_reproduces_class_sz_reference(reference):
    ell, d_ref = reference
    ratio = _d_ell_1h(ell, "syren_new") / d_ref
    kept = ell >= ELL_COMPARED
    worst = np.argmax(np.abs(ratio[kept] - 1))
    assert np.all(np.abs(ratio[kept] - 1) < RTOL), (
        f"worst D_ell^1h ratio {ratio[kept][worst]:.4f} at ell = {ell[kept][worst]:g}: {np.round(ratio, 4)}"
    )
    assert kept.sum() >= 15


@needs_planck_data
def test_eh98_is_the_less_accurate_backend_here(reference):
    """EH98 at the same A_s: sigma8 1% high (0.776 vs syren_new's 0.769, CAMB-accurate to
    0.1%), so C_ell ~ sigma8^8 is 10-12% high; the reason syren_new is used above."""
    ell, d_ref = reference
    kept = ell >= ELL_COMPARED
    ratio = _d_ell_1h(ell, "eh98")[kept] / d_ref[kept]
    assert np.all((ratio > 1.05) & (ratio < 1.15)), np.round(ratio, 4)
    s8_eh, s8_syren = (float(sigma8_of(COSMO, sz.HaloModel(linear_power=b))) for b in ("eh98", "syren_new"))
    assert 1.005 < s8_eh / s8_syren < 1.015
