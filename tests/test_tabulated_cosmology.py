"""C_ell^yy from a cosmology tabulated by a Boltzmann code (`engine.tables`): against pyccl
fed by CAMB, against the engine's own path, derivatives, and refusal of bad tables."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import cobaya_szlite as sz
from cobaya_szlite.engine.tables import (
    CosmologyTables,
    cl_yy_tabulated,
    cl_yy_trispectrum_tabulated,
    engine_redshifts,
    tables_from_engine,
)

ELL_REF = np.array([10.0, 30.0, 100.0, 300.0, 1000.0, 2000.0, 5000.0])
SMALL = sz.Precision(n_z=41, n_m=41, n_x=200, n_k=150)
ELL_SMALL = np.array([10.0, 100.0, 1000.0, 3000.0])
#: Table wavenumbers for CAMB (what a Boltzmann code is asked for) [Mpc^-1].
K_TABLE = np.geomspace(1e-4, 50.0, 1000)
#: Wide, dense table wavenumbers for the engine's own tables [Mpc^-1] (interpolation error < 1e-7).
K_WIDE = np.geomspace(1e-5, 1e3, 2000)

#: Two cosmologies: massless neutrinos and a shifted point; Planck-like with one 0.06 eV neutrino.
CAMB_COSMOLOGIES = {
    "massless_shifted": sz.CosmoParams(omega_b=0.0210, omega_cdm=0.1300, H0=72.0, n_s=0.950, logA=3.00, m_nu=0.0),
    "planck_mnu006": sz.CosmoParams(omega_b=0.02242, omega_cdm=0.11933, H0=67.66, n_s=0.9665, logA=3.047, m_nu=0.06),
}


def _camb_results(cosmo, redshifts):
    """CAMB 2.0.5 linear run (default accuracy), T_CMB = 2.7255 K, N_eff = 3.044, the mass in one
    massive species (CosmoParams.N_MASSIVE_NU = 1), P(k) up to 60 Mpc^-1 at `redshifts`."""
    import camb

    pars = camb.set_params(
        H0=cosmo.H0, ombh2=cosmo.omega_b, omch2=cosmo.omega_cdm, mnu=cosmo.m_nu,
        num_massive_neutrinos=1 if cosmo.m_nu > 0 else 0, nnu=3.044, TCMB=2.7255,
        As=np.exp(cosmo.logA) * 1e-10, ns=cosmo.n_s, WantCls=False, WantTransfer=True,
    )
    pars.set_matter_power(redshifts=np.sort(redshifts)[::-1], kmax=60.0)
    return camb.get_results(pars)


def _camb_tables(results):
    """CosmologyTables as the Boltzmann mode builds them: comoving_radial_distance,
    hubble_parameter and the delta_nonu x delta_nonu linear interpolator (no h units)."""
    z = engine_redshifts()
    pk = results.get_matter_power_interpolator(nonlinear=False, var1="delta_nonu", var2="delta_nonu",
                                               hubble_units=False, k_hunit=False)
    return CosmologyTables(z, results.comoving_radial_distance(z), results.hubble_parameter(z),
                           K_TABLE, pk.P(z, K_TABLE)), pk


def _pyccl_kwargs(cosmo):
    h = cosmo.H0 / 100.0
    return dict(Omega_c=cosmo.omega_cdm / h**2, Omega_b=cosmo.omega_b / h**2, h=h, n_s=cosmo.n_s,
                A_s=np.exp(cosmo.logA) * 1e-10, Neff=3.044, T_CMB=2.7255, m_nu=cosmo.m_nu,
                mass_split="single", w0=-1.0, wa=0.0)


def _with_fine_splines(pyccl_ref, build):
    """Build a pyccl Cosmology with the raised spline settings of tests/pyccl_reference.py, leaving
    pyccl's globals and CAMB's AccuracyTarget (which pyccl's CAMB call sets to 0) as they were."""
    import camb
    import pyccl

    saved = {name: pyccl.spline_params[name] for name in pyccl_ref._SPLINE_OVERRIDES}
    accuracy = getattr(camb.config, "AccuracyTarget", None)
    for name, value in pyccl_ref._SPLINE_OVERRIDES.items():
        pyccl.spline_params[name] = value
    try:
        cosmo = build()
        cosmo.compute_distances()
        cosmo.compute_linear_power()
        cosmo.compute_sigma()
        return cosmo
    finally:
        for name, value in saved.items():
            pyccl.spline_params[name] = value
        if accuracy is not None:
            camb.config.AccuracyTarget = accuracy


def _cb_mass_def():
    """pyccl's MassDef(500, 'critical') whose Delta relative to the mean density is taken with
    rho_cb(z) (CDM + baryons: matter less massive neutrinos) instead of rho_m(z)."""
    import pyccl

    class MassDef500cOverCB(pyccl.halos.MassDef):
        def _get_Delta_m(self, cosmo, a):
            om_cb = cosmo.omega_x(a, "matter") - cosmo.omega_x(a, "neutrinos_massive")
            return self.get_Delta(cosmo, a) * cosmo.omega_x(a, "critical") / om_cb

    return MassDef500cOverCB(500, "critical")


def _cb_halo_model(pyccl_ref, pyccl_cosmo):
    """(dn/dlog10M, b) callables of the CDM+baryon prescription from pyccl's Tinker08 / Tinker10.

    pyccl's halo model uses rho_m (neutrinos included) for the Lagrangian radius and the
    number density. With R and n built on rho_cb instead, n_cb(M) = n_pyccl(M') and
    b_cb(M) = b_pyccl(M') at M' = M rho_m / rho_cb (same radius; the factors M'/M and
    rho_cb/rho_m cancel), with sigma from the P_cb of `pyccl_cosmo` and Delta relative to rho_cb.
    """
    import pyccl

    mass_def = _cb_mass_def()
    hmf = pyccl.halos.MassFuncTinker08(mass_def=mass_def)
    hbf = pyccl.halos.HaloBiasTinker10(mass_def=mass_def)
    ratio = pyccl_cosmo["Omega_m"] / (pyccl_cosmo["Omega_c"] + pyccl_cosmo["Omega_b"])
    return (lambda c, M, a: hmf(c, M * ratio, a)), (lambda c, M, a: hbf(c, M * ratio, a))


@pytest.fixture(scope="module")
def pyccl_comparison(pyccl_ref):
    """{name: (ours 1h, ours 2h, reference 1h, reference 2h)} at ELL_REF for both cosmologies."""
    pytest.importorskip("camb")
    import pyccl

    out = {}
    profile = sz.ProfileParamsA10()
    for name, cosmo in CAMB_COSMOLOGIES.items():
        z_dense = np.linspace(0.0, 3.5, 41)
        results = _camb_results(cosmo, np.union1d(engine_redshifts(), z_dense))
        tables, pk = _camb_tables(results)
        ours = [np.asarray(c) for c in cl_yy_tabulated(tables, cosmo, profile, ELL_REF)]
        if cosmo.m_nu == 0:
            # pyccl runs CAMB itself (same kmax as the tables); P_cb = P_m without massive neutrinos.
            ccl = _with_fine_splines(pyccl_ref, lambda cosmo=cosmo: pyccl.Cosmology(
                **_pyccl_kwargs(cosmo), transfer_function="boltzmann_camb", matter_power_spectrum="linear",
                extra_parameters={"camb": {"kmax": 50.0}}))
            ref = pyccl_ref.cl_yy(ccl, profile, ELL_REF)
        else:
            # pyccl's own massive-neutrino background; linear power: CAMB's P_cb (delta_nonu).
            pk_linear = {"a": 1.0 / (1.0 + z_dense[::-1]), "k": K_TABLE,
                         "delta_matter:delta_matter": pk.P(z_dense, K_TABLE)[::-1]}
            ccl = _with_fine_splines(pyccl_ref, lambda cosmo=cosmo, pk_linear=pk_linear: pyccl.CosmologyCalculator(
                **_pyccl_kwargs(cosmo), pk_linear=pk_linear))
            hmf, hbf = _cb_halo_model(pyccl_ref, ccl)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(pyccl_ref, "_HMF", hmf)
                patch.setattr(pyccl_ref, "_HBF", hbf)
                ref = pyccl_ref.cl_yy(ccl, profile, ELL_REF)
        out[name] = (*ours, *ref)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CAMB_COSMOLOGIES))
def test_camb_tables_match_pyccl(pyccl_comparison, name):
    """cl_yy_tabulated of CAMB tables against pyccl's halo model (Tinker08 + Tinker10 at 500c,
    A10, z in [0.005, 3], M500c in [1e10, 5e15] Msun; Limber and mass integrals assembled from
    pyccl's ingredients, so without pyccl's low-mass 2-halo counterterm, which cl_yy leaves out).
    Massless neutrinos: pyccl with transfer_function="boltzmann_camb" (its own CAMB run).
    m_nu = 0.06 eV: pyccl's neutrino background, CAMB's P_cb, and pyccl's mass function and
    bias in the CDM+baryon prescription of the engine (sigma from P_cb, rho_cb for the radius and
    the number density, Delta relative to rho_cb). Required: 1h 1%, 2h 2%. Measured (worst over
    ell): 1.4e-4 and 1.3e-3 (massless), 1.9e-3 and 1.3e-3 (m_nu = 0.06). pyccl's native halo
    model with boltzmann_camb at m_nu = 0.06 (sigma from total-matter P, rho_m, Delta relative
    to rho_m) is 1.7% (1h) and 1.2-1.7% (2h) below the engine: the prescription, not the code."""
    ours_1h, ours_2h, ref_1h, ref_2h = pyccl_comparison[name]
    r1, r2 = ours_1h / ref_1h, ours_2h / ref_2h
    assert np.all(np.abs(r1 - 1) < 0.01), f"1h worst ratio {r1[np.argmax(abs(r1 - 1))]:.5f}: {r1}"
    assert np.all(np.abs(r2 - 1) < 0.02), f"2h worst ratio {r2[np.argmax(abs(r2 - 1))]:.5f}: {r2}"


@pytest.fixture(scope="module")
def engine_tables(cosmo):
    return tables_from_engine(cosmo, K_WIDE)


@pytest.mark.slow
def test_engine_tables_reproduce_cl_yy(cosmo, engine_tables):
    """The engine's own background and P as tables give cl_yy back: the same formula path, up to
    the interpolation of ln P in ln k (measured 3e-8 (1h), 2e-7 (2h) with K_WIDE; required 1e-6)."""
    profile = sz.ProfileParamsA10(B=1.4)
    for got, ref in zip(cl_yy_tabulated(engine_tables, cosmo, profile, ELL_REF), sz.cl_yy(cosmo, profile, ELL_REF)):
        np.testing.assert_allclose(got, ref, rtol=1e-6)
    ell = ELL_REF[::2]
    np.testing.assert_allclose(cl_yy_trispectrum_tabulated(engine_tables, cosmo, profile, ell),
                               sz.cl_yy_trispectrum(cosmo, profile, ell), rtol=1e-6)


@pytest.mark.slow
def test_power_amplitude_comes_from_the_tables(cosmo, profile):
    """The tabulated path does not read the engine's P: tables made at sigma8 = 0.7 give cl_yy at
    sigma8 = 0.7 when `cosmo` has another sigma8 (measured agreement 2e-7; required 1e-6)."""
    other = cosmo._replace(sigma8=0.7)
    tables = tables_from_engine(other, K_WIDE, SMALL)
    got = cl_yy_tabulated(tables, cosmo, profile, ELL_SMALL, SMALL)
    for a, b in zip(got, sz.cl_yy(other, profile, ELL_SMALL, SMALL)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.slow
def test_jit_and_profile_gradients_match_finite_differences(cosmo):
    """d C_ell / d profile parameters of cl_yy_tabulated (jit of jacfwd, tables traced under the outer
    jit) against central finite differences (relative step 1e-5: truncation ~1e-10, rounding
    ~1e-11); required 1e-6 relative to the largest derivative of each spectrum."""
    tables = tables_from_engine(cosmo, K_WIDE, SMALL)
    profile = sz.ProfileParamsA10(B=1.4)

    def spectra(prof, tabs):
        return jnp.concatenate(cl_yy_tabulated(tabs, cosmo, prof, ELL_SMALL, SMALL))

    compiled = jax.jit(spectra)
    np.testing.assert_allclose(compiled(profile, tables), spectra(profile, tables), rtol=1e-13)
    jac = jax.jit(jax.jacfwd(spectra))(profile, tables)
    for field in sz.ProfileParamsA10._fields:
        value = getattr(profile, field)
        step = 1e-5 * abs(value)
        up = np.asarray(spectra(profile._replace(**{field: value + step}), tables))
        down = np.asarray(spectra(profile._replace(**{field: value - step}), tables))
        fd = (up - down) / (2 * step)
        ad = np.asarray(getattr(jac, field))
        n = ELL_SMALL.size
        for part in (slice(0, n), slice(n, 2 * n)):
            scale = np.max(np.abs(fd[part]))
            assert np.max(np.abs(ad[part] - fd[part])) < 1e-6 * scale, (field, ad[part], fd[part])


def _small_tables(cosmo):
    z = engine_redshifts(SMALL)
    k = np.geomspace(1e-4, 50.0, 64)
    hubble = cosmo.H0 * np.sqrt(0.3 * (1 + z) ** 3 + 0.7)
    return CosmologyTables(z, 4000.0 * z, hubble, k, np.ones((z.size, k.size)))


@pytest.mark.parametrize("change, message", [
    (dict(chi=np.ones(5)), r"CosmologyTables.chi has shape \(5,\); expected \(41,\)"),
    (dict(hubble=np.ones((41, 1))), r"CosmologyTables.hubble has shape \(41, 1\); expected \(41,\)"),
    (dict(pk_cb=np.ones((41, 63))), r"CosmologyTables.pk_cb has shape \(41, 63\); expected \(n_z, n_k\) = \(41, 64\)"),
    (dict(z=engine_redshifts(SMALL) * 1.01), r"CosmologyTables.z are not engine_redshifts\(precision\)"),
    (dict(k=np.linspace(1e-4, 50.0, 64)), r"CosmologyTables.k must be increasing and log-spaced"),
    (dict(k=np.geomspace(1e-2, 50.0, 64)), r"CosmologyTables.k covers \[0.01, 50\] Mpc\^-1; it must start at or below"),
    (dict(k=np.geomspace(1e-4, 5.0, 64)), r"it must start at or below 0.001 and end at or above 10 Mpc\^-1"),
    (dict(pk_cb=-np.ones((41, 64))), r"CosmologyTables.pk_cb must be finite and positive"),
    (dict(chi=np.full(41, np.nan)), r"CosmologyTables.chi must be finite and positive"),
    (dict(hubble=1.01 * _small_tables(sz.CosmoParams()).hubble),
     r"CosmologyTables.hubble extrapolates to H0 = 68.3\d* km/s/Mpc at z = 0, but cosmo.H0 = 67.66"),
])
def test_bad_tables_are_refused_naming_the_field(cosmo, profile, change, message):
    tables = _small_tables(cosmo)._replace(**change)
    with pytest.raises(ValueError, match=message):
        cl_yy_tabulated(tables, cosmo, profile, ELL_SMALL, SMALL)
    with pytest.raises(ValueError, match=message):
        cl_yy_trispectrum_tabulated(tables, cosmo, profile, ELL_SMALL, SMALL)


def test_tables_for_another_precision_are_refused(cosmo, profile):
    """Tables made at the default z nodes do not fit a Precision with other nodes."""
    tables = _small_tables(cosmo)
    with pytest.raises(ValueError, match=r"expected \(61,\): one value per node of engine_redshifts"):
        cl_yy_tabulated(tables, cosmo, profile, ELL_SMALL)


@pytest.mark.filterwarnings("ignore::cobaya_szlite.PrecisionWarning")
def test_h0_check_accepts_consistent_tables_at_the_extreme_precision(cosmo):
    """H(z) extrapolated from the first three nodes recovers H0 to < 1e-4 even for the sparsest
    accepted z grid (z_min = 0.1, n_z = 21), well inside the tolerance."""
    from cobaya_szlite.engine.tables import check_tables

    sparse = sz.Precision(z_min=0.1, n_z=21)
    z = engine_redshifts(sparse)
    tables = CosmologyTables(z, np.asarray(sz.comoving_distance(z, cosmo)), cosmo.H0 * np.asarray(sz.E_z(z, cosmo)),
                             K_TABLE, np.ones((z.size, K_TABLE.size)))
    check_tables(tables, sparse, cosmo)
    h0 = np.polyval(np.polyfit(z[:3], tables.hubble[:3], 2), 0.0)
    assert abs(h0 / cosmo.H0 - 1) < 1e-4


def test_engine_redshifts_are_the_limber_nodes():
    z = engine_redshifts(SMALL)
    assert z.shape == (41,) and np.isclose(z[0], SMALL.z_min) and np.isclose(z[-1], SMALL.z_max)
    np.testing.assert_allclose(np.diff(np.log(z)), np.log(SMALL.z_max / SMALL.z_min) / 40, rtol=1e-12)
