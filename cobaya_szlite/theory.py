"""Cobaya theory component: the tSZ power spectrum from the JAX engine.

`SZTheory` provides ``Cl_sz`` = ``{"ell", "1h", "2h"}`` in D_ell x 1e12 = 1e12 ell(ell+1)
C_ell^yy / (2 pi) at the multipoles its likelihoods request, plus derived parameters.
Options are in ``SZTheory.yaml`` beside this module; the input names, the fiducial point
and the map to the engine in `cobaya_szlite.parameters`.

Two cosmology modes (option ``cosmology``):

``engine``     the engine computes the cosmology. The cosmological parameters are inputs
               of SZTheory with no defaults (class_sz or CAMB names,
               `parameters.COSMO_INPUT_NAMES`): omega_b, omega_cdm, H0, n_s and exactly
               one of sigma8 / logA = ln(10^10 A_s) are required, m_nu [eV], w0, wa
               optional (0.06, -1, 0). Derived: Omega_m, F_sz and the normalisation that
               is not an input (sigma8 or logA).
``boltzmann``  an upstream theory (camb, classy) gives P_cb(k, z), H(z), chi(z) and the
               densities (`cobaya_szlite.boltzmann`); SZTheory takes only the profile
               inputs. Derived: Omega_m (the upstream one) and F_sz.

Halo-model options (all static: each choice compiles its own function): ``profile``
("a10" default, "a10_rexcess", "planck13": GNFW presets with inputs P0GNFW, c500,
gammaGNFW, alphaGNFW, betaGNFW, alpha_p, B defaulting to the preset's values; "battaglia12":
Battaglia et al. 2012 with inputs P0_B12, alpha_m_P0_B12, alpha_z_P0_B12, xc_B12,
alpha_m_xc_B12, alpha_z_xc_B12, beta_B12, alpha_m_beta_B12, alpha_z_beta_B12 defaulting to
the published fit, masses M200c, untruncated so precision x_out must stay inf),
``mass_function`` ("tinker08" default, "tinker10", "bocquet16", each with its paired bias,
in the profile's mass definition) and ``linear_power`` ("eh98" default, "bartlett23",
"syren_new"; engine mode only), mapped to the engine by `parameters.halo_model`. An input
of the profile family not chosen is refused by name. F_sz uses the profile's B; the
Battaglia profile has no mass bias and its F_sz takes B = 1.

Nothing of the cosmology is a fixed default of SZTheory's ``params``, so no value of it
reaches another component (Cobaya hands every input parameter to each component that
supports it): the user writes the cosmology once, and each code reads that value.

Only when a likelihood requests it, it also provides ``Tll_sz`` = ``{"ell", "Tll", "params"}``:
the full-sky 1-halo tSZ trispectrum in (D_ell x 1e12)^2, i.e.
1e24 [ell(ell+1)/2pi][ell'(ell'+1)/2pi] T_ll' (the units of the published Planck
reference file), and with ``Tll_sz: {ell: [...], gradient: True}`` its derivatives
``"dTll"`` (shape (n_params, n_ell, n_ell), one slice per name in ``"params"``, in input
order). ``Cl_sz_grad`` (derivatives of ``Cl_sz``) and the ``Tll_sz`` gradient take all
input params, or only those listed in the requirement's ``params`` (forward mode: the
cost grows with their number). In the Boltzmann mode derivatives exist for the profile
inputs only; `cobaya_szlite.posterior_gradient` (GradMinimize) takes finite differences
for the cosmological parameters.

Everything requested is computed by one jitted function of the input values (and, in
the Boltzmann mode, of the upstream tables), built by `_compiled` (cached on a hashable
`_Request`) and returning an `_Evaluation`, in `SZTheory.calculate`; the getters only
read the state.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from cobaya.log import LoggedError
from cobaya.theory import Theory
from cobaya.typing import empty_dict

from . import boltzmann
from .engine import Precision, engine_redshifts
from .parameters import (
    B12_PARAMS,
    COSMO_INPUT_NAMES,
    DERIVED_PARAMS,
    INPUT_PARAMS,
    LINEAR_POWER_OPTIONS,
    PARAM_LATEX,
    PROFILE_KINDS,
    PROFILE_PARAMS,
    InputLayout,
    InputLayoutError,
    d_ell_spectra,
    d_ell_spectra_and_trispectrum,
    d_ell_trispectrum,
    derived_values,
    f_sz,
    fiducial_inputs,
    halo_model,
    input_layout,
    precision_option,
    profile_defaults,
    profile_inputs,
    to_pytrees,
    to_values,
)
from .zero_likelihood import ZeroLikelihoodReport, non_finite_reason

__all__ = ["COSMOLOGY_MODES", "FixedPointError", "SZTheory"]

#: Values of the option ``cosmology``.
COSMOLOGY_MODES = ("engine", "boltzmann")
#: Input names of every profile kind (those of the kinds not chosen are refused by name).
_ALL_PROFILE_INPUTS = (*PROFILE_PARAMS, *B12_PARAMS)
#: Other codes' spellings of cosmological quantities that SZTheory does not read
#: (CLASS's) -> the quantity: in the engine mode such an input gives two values of one.
_FOREIGN_SPELLINGS = {"m_ncdm": "m_nu", "w0_fld": "w0", "wa_fld": "wa", "Omega_b": "omega_b",
                      "Omega_cdm": "omega_cdm", "h": "H0"}


class FixedPointError(ValueError):
    """No trispectrum at a fixed point (`SZTheory.trispectrum_at`); ``is_setting``: a
    precision setting, not the point, is the cause."""

    def __init__(self, message: str, is_setting: bool = False) -> None:
        super().__init__(message)
        self.is_setting = is_setting


class _Request(NamedTuple):
    """What one compiled evaluation computes (hashable: the cache key of `_compiled`).

    ``layout``: the inputs and their order (no cosmological input: Boltzmann mode, the
    function then also takes the upstream tables). ``grad_indices`` /
    ``tll_grad_indices``: indices (layout order) of the inputs ``Cl_sz`` / ``Tll_sz`` are
    differentiated in; None: no derivatives. ``tll_ells`` empty: no trispectrum.
    """

    ells: tuple[float, ...]
    precision: Precision
    layout: InputLayout
    grad_indices: tuple[int, ...] | None = None
    tll_ells: tuple[float, ...] = ()
    tll_grad_indices: tuple[int, ...] | None = None


class _Evaluation(NamedTuple):
    """Output of the compiled evaluation at one point (None where not requested).

    ``d_ell`` (2, n_ell): D_ell^1h, D_ell^2h x 1e12; ``d_ell_jacobian`` (2, n_ell, n_grad):
    their derivatives per unit of each param; ``tll`` (n_tll, n_tll) in (D_ell x 1e12)^2;
    ``tll_jacobian`` (n_tll_grad, n_tll, n_tll); ``derived`` (4,): `DERIVED_PARAMS`
    (engine mode only).
    """

    d_ell: jax.Array
    d_ell_jacobian: jax.Array | None
    tll: jax.Array | None
    tll_jacobian: jax.Array | None
    derived: jax.Array | None


def _value_and_jacobian(function: Callable, values: jax.Array,
                        indices: tuple[int, ...]) -> tuple[jax.Array, jax.Array]:
    """``function(values)`` and its forward-mode Jacobian in ``values[indices]`` (last
    axis: the indices), from one trace of ``function``."""
    if not indices:
        value = function(values)
        return value, jnp.zeros(value.shape + (0,))
    index = np.asarray(indices)

    def restricted(sub_values):
        out = function(values.at[index].set(sub_values))
        return out, out

    jacobian, value = jax.jacfwd(restricted, has_aux=True)(values[index])
    return value, jacobian


@functools.lru_cache(maxsize=8)
def _compiled(request: _Request) -> Callable[[np.ndarray, Any], _Evaluation]:
    """The jitted map (input values, upstream) -> `_Evaluation` for ``request``.

    ``upstream`` is None in the engine mode and (CosmoParams, table arrays) in the
    Boltzmann mode. Cached, so models built again in one process (tests, notebooks)
    reuse the compiled code. Compiling C_ell, the trispectrum and their derivatives
    together lets XLA compute the ingredients they share (background, sigma(M), mass
    function, profile table) once.
    """
    ell = jnp.asarray(request.ells)
    tll_ell = jnp.asarray(request.tll_ells)
    layout = request.layout
    tabulated = not layout.cosmo

    def evaluate(values, upstream):
        if tabulated:
            def d_ell(v):
                return boltzmann.d_ell_spectra_tabulated(v, upstream, ell, request.precision, layout)

            def tll(v):
                return boltzmann.d_ell_trispectrum_tabulated(v, upstream, tll_ell, request.precision, layout)
        else:
            def d_ell(v):
                return d_ell_spectra(v, ell, request.precision, layout)

            def tll(v):
                return d_ell_trispectrum(v, tll_ell, request.precision, layout)

        if request.grad_indices is None:
            d_ell_value, d_ell_jacobian = d_ell(values), None
        else:
            d_ell_value, d_ell_jacobian = _value_and_jacobian(d_ell, values, request.grad_indices)
        tll_value = tll_jacobian = None
        if request.tll_ells:
            if request.tll_grad_indices is None:
                tll_value = tll(values)
            else:
                tll_value, tll_jacobian = _value_and_jacobian(tll, values, request.tll_grad_indices)
                tll_jacobian = jnp.moveaxis(tll_jacobian, -1, 0)
        derived = None if tabulated else derived_values(*to_pytrees(values, layout), layout.model)
        return _Evaluation(d_ell_value, d_ell_jacobian, tll_value, tll_jacobian, derived)

    return jax.jit(evaluate)


def _default_params(cosmology: str, profile: str, boltzmann_names: Any = None) -> dict:
    """Cobaya ``params`` defaults: the inputs of the chosen profile fixed at its defaults
    (`parameters.profile_defaults`) and the derived parameters (`_own_derived`; no
    cosmological input: see the module docstring). An unknown ``profile`` declares no profile input (the
    option is refused in `SZTheory.initialize`)."""
    defaults = profile_defaults(profile) if profile in PROFILE_KINDS else {}
    params = {name: {"value": value, "latex": PARAM_LATEX[name]} for name, value in defaults.items()}
    params.update({name: {"derived": True, "latex": PARAM_LATEX[name]}
                   for name in _own_derived(cosmology, boltzmann_names)})
    return params


def _own_derived(cosmology: str, boltzmann_names: Any) -> tuple[str, ...]:
    """The derived parameters SZTheory declares: in the engine mode `DERIVED_PARAMS` (its
    cosmology is the engine's); in the Boltzmann mode F_sz, and Omega_m as a copy of the
    upstream value only where the upstream theory names it differently (camb's ``omegam``),
    so that a quantity the upstream theory provides under the same name is never claimed
    twice (classy's ``Omega_m``; sigma8 is always the upstream theory's)."""
    if cosmology != "boltzmann":
        return DERIVED_PARAMS
    try:
        names = boltzmann.upstream_names(boltzmann_names)
    except ValueError:  # refused with a LoggedError in SZTheory.initialize
        names = {"Omega_m": "Omega_m"}
    return ("Omega_m", "F_sz") if names["Omega_m"] != "Omega_m" else ("F_sz",)


class SZTheory(Theory):
    """tSZ C_ell^yy (1-halo and 2-halo) from `cobaya_szlite.cl_yy` (or, in the Boltzmann
    mode, from the engine fed with an upstream theory's cosmology).

    One jitted function of the input parameters is compiled at the first
    evaluation after the requested products are known and reused for every
    later point (and by any model in the process with the same request).
    Unphysical points (those `cobaya_szlite.validate` rejects, or multipoles beyond
    the engine's profile table, where the engine returns non-finite C_ell) return
    False: zero likelihood, never NaN; the reason is logged (rate-limited).
    """

    # Options (defaults and comments in SZTheory.yaml)
    cosmology: str
    profile: str
    mass_function: str
    linear_power: str
    boltzmann_names: dict
    precision: dict
    ell_min: float
    ell_max: float
    n_ell_default: int

    @classmethod
    def get_modified_defaults(cls, defaults: dict, input_options: Mapping = empty_dict) -> dict:
        """Add the parameter defaults to the options of ``SZTheory.yaml``.

        The inputs of the chosen ``profile`` are fixed at its defaults
        (`parameters.profile_defaults`: the preset's values, for "a10" the fiducial; for
        "battaglia12" the published fit; give any of them a prior in the input to sample
        it), those of the other profile family are not declared; the cosmological inputs have no
        default (see the module docstring); the derived parameters are declared (engine
        mode: Omega_m, sigma8, logA, F_sz, the input normalisation overriding its derived
        entry; Boltzmann mode: F_sz, and Omega_m where the upstream theory calls it
        otherwise, as camb's omegam).

        Parameters
        ----------
        defaults : dict
            The options read from ``SZTheory.yaml``.
        input_options : Mapping
            The user's options for this component (``cosmology`` selects the mode,
            ``profile`` the profile inputs, ``boltzmann_names`` the upstream names).

        Returns
        -------
        dict
            ``defaults`` with ``params`` filled in.
        """
        defaults = dict(defaults)
        options = input_options or {}
        cosmology = options.get("cosmology", defaults.get("cosmology"))
        profile = options.get("profile", defaults.get("profile"))
        names = options.get("boltzmann_names", defaults.get("boltzmann_names"))
        defaults["params"] = {**_default_params(cosmology, profile, names), **(defaults.get("params") or {})}
        return defaults

    def initialize(self) -> None:
        """Enable float64 in JAX, check the options, build the engine `Precision` and the
        static `HaloModel` (`parameters.halo_model`)."""
        jax.config.update("jax_enable_x64", True)
        if self.cosmology not in COSMOLOGY_MODES:
            raise LoggedError(self.log, "Option 'cosmology' must be one of %s; got %r.",
                              list(COSMOLOGY_MODES), self.cosmology)
        try:
            self._model = halo_model(self.profile, self.mass_function, self.linear_power)
        except ValueError as excpt:
            raise LoggedError(self.log, "%s.", excpt) from None
        if self.cosmology == "boltzmann" and self.linear_power != LINEAR_POWER_OPTIONS[0]:
            raise LoggedError(
                self.log,
                "Option 'linear_power: %s' applies to cosmology: engine only (with cosmology: "
                "boltzmann the linear power comes from the upstream theory); remove it.",
                self.linear_power,
            )
        if not 0 < float(self.ell_min) < float(self.ell_max):
            raise LoggedError(
                self.log,
                "Options need 0 < ell_min < ell_max; got ell_min=%r, ell_max=%r.",
                self.ell_min,
                self.ell_max,
            )
        # the profile table is sized for the largest multipole this theory accepts
        try:
            self._precision, notes = precision_option(self.precision, float(self.ell_max))
        except ValueError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
        for note in notes:
            self.log.warning("%s", note)
        if self.profile == "battaglia12" and np.isfinite(self._precision.x_out):
            raise LoggedError(
                self.log,
                "profile: battaglia12 is computed untruncated: precision x_out must be inf "
                "(the default); got x_out = %r. Remove 'x_out' from 'precision'.",
                self._precision.x_out,
            )
        self._tabulated = self.cosmology == "boltzmann"
        if self._tabulated:
            self._initialize_boltzmann()
        self._ells = np.zeros(0)
        self._tll_ells = np.zeros(0)
        # input params the derivatives are taken with respect to (None: all; set(): none
        # requested yet), and whether each derivative was requested
        self._grad_params = self._tll_grad_params = set()
        self._grad_requested = self._tll_grad_requested = False
        self._layout = None
        self._evaluate = None
        self._fd_logged = False
        self._zero_report = ZeroLikelihoodReport(self.log)

    def _initialize_boltzmann(self) -> None:
        """Check ``boltzmann_names`` and the engine's tabulated API; set the z nodes."""
        try:
            names = boltzmann.upstream_names(self.boltzmann_names)
        except ValueError as excpt:
            raise LoggedError(self.log, "Option %s.", excpt) from None
        self._upstream_names = names
        self._z_nodes = np.asarray(engine_redshifts(self._precision), dtype=float)
        self.log.info(
            "cosmology: boltzmann: the upstream theory (camb or classy) must provide "
            "Pk_interpolator %s (linear, k <= %g/Mpc), Hubble and comoving_radial_distance at "
            "%d redshifts in [%g, %g], and the parameters %s (option 'boltzmann_names').",
            boltzmann.PK_PAIR, boltzmann.TABLE_K[-1], len(self._z_nodes), self._z_nodes[0],
            self._z_nodes[-1], sorted(set(names.values())),
        )

    def get_can_support_params(self) -> list[str]:
        """Input names SZTheory takes besides its declared ``params``: in the engine mode
        every spelling of the cosmological parameters (`parameters.COSMO_INPUT_NAMES`);
        in both modes the inputs of the profile kinds not chosen, so that such an input
        reaches `initialize_with_params` and is refused there by name.

        Returns
        -------
        list of str
        """
        other_profile = [name for name in _ALL_PROFILE_INPUTS if name not in profile_inputs(self.profile)]
        if self.cosmology == "boltzmann":
            return other_profile
        return [name for names in COSMO_INPUT_NAMES.values() for name in names] + other_profile

    def get_requirements(self) -> dict:
        """Boltzmann mode: the upstream products and parameters (`boltzmann.requirements`).

        Returns
        -------
        dict
            Empty in the engine mode.
        """
        if not self._tabulated:
            return {}
        return boltzmann.requirements(self._z_nodes, self._upstream_names)

    def initialize_with_params(self) -> None:
        """Fix the input layout from the assigned input parameters.

        Raises `LoggedError` when they do not make one cosmology (both or neither of
        sigma8/logA, a missing parameter with the fiducial to copy, two spellings of one,
        a cosmological input in the Boltzmann mode), when the engine lacks what the
        normalisation needs, or for an input of a profile kind not chosen (named, with the
        chosen profile's inputs).
        """
        names = set(self.input_params)
        if self._tabulated:
            names -= set(self._upstream_names.values())
        accepted = profile_inputs(self.profile)
        unused = sorted(name for name in names & set(_ALL_PROFILE_INPUTS) if name not in accepted)
        if unused:
            raise LoggedError(
                self.log,
                "Input parameter(s) %s are not used by profile: %s, whose parameters are %s "
                "(defaults %s). Remove them, or choose the profile that takes them "
                "(option 'profile', one of %s).",
                unused, self.profile, list(accepted), profile_defaults(self.profile), list(PROFILE_KINDS),
            )
        try:
            layout = input_layout(names, cosmology=not self._tabulated, profile=self.profile, model=self._model)
        except InputLayoutError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
        if layout != self._layout:
            self._layout = layout
            self._evaluate = None
        self.log.debug("Input parameters (in order): %s", list(layout.names))

    def initialize_with_provider(self, provider: Any) -> None:
        """Check that the run has one value of each cosmological quantity, and log which
        component computes each derived parameter of the run that SZTheory could compute.

        Engine mode: refuse a run where another theory reads a cosmological parameter
        under another name than SZTheory (two values of one parameter). Boltzmann mode:
        refuse a run where an upstream parameter SZTheory requests is an input that no
        other theory reads (the upstream code would silently use its own default).

        Parameters
        ----------
        provider : cobaya.theory.Provider
        """
        super().initialize_with_provider(provider)
        others = [c for c in getattr(provider.model, "theory", {}).values() if c is not self]
        self._log_derived_providers(provider.model)
        if self._tabulated:
            self._check_upstream_inputs(provider.model, others)
            return
        given = dict(self._layout.cosmo)
        for component in others:
            foreign = sorted(set(component.input_params) & set(_FOREIGN_SPELLINGS))
            if foreign:
                raise LoggedError(
                    self.log,
                    "%s reads %s, which SZTheory does not read (it takes %s from its own inputs "
                    "or defaults): the two codes would use different cosmologies. Use "
                    "cosmology: boltzmann with %s (docs/boltzmann.md).",
                    component.get_name(), foreign,
                    sorted({_FOREIGN_SPELLINGS[name] for name in foreign}), component.get_name(),
                )
            if component.get_allow_agnostic():
                self.log.warning(
                    "%s takes only the input parameters no other component takes, so "
                    "SZTheory's cosmological inputs %s do not reach it and the two codes may "
                    "use different cosmologies: use cosmology: boltzmann (docs/boltzmann.md).",
                    component.get_name(), sorted(given),
                )
            supported = set(component.get_can_support_params())
            clashes = {name: [s for s in COSMO_INPUT_NAMES[field] if s != name and s in supported]
                       for name, field in given.items()}
            clashes = {name: other for name, other in clashes.items() if other}
            if clashes:
                raise LoggedError(
                    self.log,
                    "%s reads %s, but the input gives SZTheory %s: the two codes would use "
                    "different values. Write each under the name both read (SZTheory accepts "
                    "%s), once.",
                    component.get_name(),
                    sorted(sum(clashes.values(), [])),
                    sorted(clashes),
                    sorted(sum(clashes.values(), [])),
                )

    def _log_derived_providers(self, model: Any) -> None:
        """Log the component that computes each cosmological derived parameter of the run
        (and F_sz), so that a chain's column says whose value it is; in the engine mode,
        warn where another theory of the run computes a quantity of the same name too."""
        interesting = {"F_sz", "Omega_m", "sigma8", "logA", *self._upstream_derived_names()}
        providers = {name: component.get_name() for component in model.components
                     for name in component.output_params if name in interesting}
        if providers:
            self.log.info("Derived parameters of this run and the component computing each: %s.", providers)
        if self._tabulated:
            return
        for component in model.theory.values():
            if component is self:
                continue
            shared = sorted(set(self.output_params) & set(component.get_can_provide_params()))
            if shared:
                self.log.warning(
                    "%s in this run are SZTheory's (cosmology: engine, linear power '%s'), not %s's, "
                    "which computes them too; its values differ at the level of the backend's "
                    "accuracy. For the Boltzmann code's values use cosmology: boltzmann "
                    "(docs/boltzmann.md).",
                    shared, self.linear_power, component.get_name(),
                )

    def _upstream_derived_names(self) -> set[str]:
        """Upstream names of Omega_m and sigma8 (Boltzmann mode; empty otherwise)."""
        if not self._tabulated:
            return set()
        return {self._upstream_names["Omega_m"], self._upstream_names["sigma8"]}

    def _check_upstream_inputs(self, model: Any, others: list) -> None:
        """Boltzmann mode: every requested upstream parameter that is an input parameter of
        the run must also reach another theory (the upstream code)."""
        inputs = set(model.parameterization.input_params())
        read_by_others = {name for component in others for name in component.input_params}
        lost = sorted(name for name in set(self._upstream_names.values()) & inputs
                      if name not in read_by_others)
        if lost:
            raise LoggedError(
                self.log,
                "cosmology: boltzmann requests %s from the upstream theory, but they are input "
                "parameters that no other theory reads (Cobaya gives a parameter-agnostic code "
                "such as classy only the inputs no other component takes): the upstream code "
                "would use its defaults. With classy use boltzmann_names: classy; otherwise give "
                "'boltzmann_names' names of parameters the upstream theory computes (derived) or "
                "declares it reads.",
                lost,
            )

    def trispectrum_at(self, changes: Mapping[str, float], ell: np.ndarray,
                       precision: Precision | None = None) -> tuple[np.ndarray, dict]:
        """The trispectrum of this run's halo model (profile, mass function, P(k) backend,
        input spellings) at a fixed point: its inputs at their fiducial values
        (`parameters.fiducial_inputs`) changed by ``changes``.

        Parameters
        ----------
        changes : mapping
            Input name -> value; names must be inputs of this run.
        ell : array, shape (n,)
            Multipoles.
        precision : Precision, optional
            Engine precision (default: the theory's).

        Returns
        -------
        tll : numpy.ndarray, shape (n, n)
            Full-sky trispectrum in (D_ell x 1e12)^2.
        point : dict
            The input values used.

        Raises
        ------
        FixedPointError
            Boltzmann mode (the cosmology needs the upstream code at that point), a name
            that is not an input of this run, or a non-finite trispectrum (with the reason
            and whether a precision setting causes it).
        """
        if self._tabulated:
            raise FixedPointError("cosmology: boltzmann takes the cosmology from the upstream code at "
                                  "each point, so there is no trispectrum at a fixed point")
        layout = self._layout
        unknown = sorted(set(changes) - set(layout.names))
        if unknown:
            raise FixedPointError(f"{unknown} are not inputs of {self.get_name()} in this run (its inputs: "
                                  f"{list(layout.names)})")
        point = {**fiducial_inputs(layout), **{name: float(v) for name, v in changes.items()}}
        precision = precision or self._precision
        values = to_values(point, layout)
        tll = np.asarray(d_ell_trispectrum(values, np.asarray(ell, dtype=float), precision, layout))
        if not np.all(np.isfinite(tll)):
            reason, is_setting = non_finite_reason(*to_pytrees(values, layout), ell, precision, self._model)
            raise FixedPointError(reason, is_setting=is_setting)
        return tll, point

    def jax_products(self, ell: np.ndarray, trispectrum: bool = False) -> tuple[tuple[str, ...], Callable] | None:
        """``Cl_sz`` (and ``Tll_sz``) as one pure JAX function of the input values, for
        `cobaya_szlite.jax_posterior` (after Cobaya has assigned the parameters).

        Parameters
        ----------
        ell : array, shape (n,)
            Multipoles.
        trispectrum : bool
            Whether the function also returns the trispectrum at ``ell``.

        Returns
        -------
        (names, function) or None
            ``names``: the input parameters in the order of the function's argument;
            ``function(values) -> (d_ell (2, n), tll (n, n) or None)`` in D_ell x 1e12 and
            its square (the units of the products). None in the Boltzmann mode (the
            cosmology passes through a code that is not JAX).
        """
        if self._tabulated:
            return None
        ell = jnp.asarray(ell, dtype=float)
        precision, layout = self._precision, self._layout
        if trispectrum:
            def function(values):
                return d_ell_spectra_and_trispectrum(values, ell, precision, layout)
        else:
            def function(values):
                return d_ell_spectra(values, ell, precision, layout), None
        return layout.names, function

    @property
    def engine_precision(self) -> Precision:
        """The engine `Precision` built from the ``precision`` option (after initialisation)."""
        return self._precision

    @property
    def layout(self) -> InputLayout | None:
        """The `InputLayout` of this run: which input names, in which order (None until
        Cobaya has assigned the parameters)."""
        return self._layout

    @property
    def tabulated(self) -> bool:
        """True in the Boltzmann-code mode (``cosmology: boltzmann``)."""
        return self._tabulated

    def get_can_provide(self) -> list[str]:
        """The products available through ``provider.get_<name>()``.

        Returns
        -------
        list of str
            ``["Cl_sz", "Tll_sz", "Cl_sz_grad"]``.
        """
        return ["Cl_sz", "Tll_sz", "Cl_sz_grad"]

    def must_provide(self, **requirements: Any) -> None:
        """Record the multipoles requested with ``Cl_sz: {ell: [...]}`` (and ``Tll_sz``,
        ``Cl_sz_grad``).

        Without ``ell``, ``n_ell_default`` log-spaced multipoles over
        [ell_min, ell_max] are computed (as class_sz computes its own grid).
        Multipoles from several likelihoods are merged.

        Parameters
        ----------
        **requirements : dict or None
            Product name -> its options: ``Cl_sz: {ell}``, ``Tll_sz: {ell, gradient,
            params}``, ``Cl_sz_grad: {params}`` (ell dimensionless). Other options raise
            `LoggedError`.
        """
        super().must_provide(**requirements)
        self._evaluate = None
        if "Cl_sz_grad" in requirements:
            self._check_grad_requirement(requirements["Cl_sz_grad"])
        if "Tll_sz" in requirements:
            self._must_provide_tll(dict(requirements["Tll_sz"] or {}))
        if "Cl_sz" not in requirements:
            return
        options = dict(requirements["Cl_sz"] or {})
        unknown = sorted(set(options) - {"ell"})
        if unknown:
            raise LoggedError(
                self.log, "Unknown 'Cl_sz' requirement option(s) %s; allowed: ['ell'].", unknown
            )
        ell = options.get("ell")
        if ell is None:
            ell = np.geomspace(self.ell_min, self.ell_max, int(self.n_ell_default))
        ell = np.atleast_1d(np.asarray(ell, dtype=float))
        outside = ell[~((ell >= self.ell_min) & (ell <= self.ell_max))]
        if ell.ndim != 1 or len(outside):
            raise LoggedError(
                self.log,
                "Cl_sz requested at ell = %s, outside this theory's range "
                "[ell_min, ell_max] = [%g, %g] (options 'ell_min', 'ell_max').",
                outside.tolist() if ell.ndim == 1 else ell.tolist(),
                self.ell_min,
                self.ell_max,
            )
        self._ells = np.union1d(self._ells, ell)

    def _must_provide_tll(self, options: dict) -> None:
        """Record ``Tll_sz: {ell: [...], gradient: bool, params: [...]}`` (ell required)."""
        unknown = sorted(set(options) - {"ell", "gradient", "params"})
        if unknown or options.get("ell") is None:
            raise LoggedError(
                self.log,
                "Tll_sz needs {ell: [...]} and optionally gradient: True and params: "
                "[input params to differentiate in]; got %r.",
                options,
            )
        ell = np.atleast_1d(np.asarray(options["ell"], dtype=float))
        if ell.ndim != 1 or np.any(ell < self.ell_min) or np.any(ell > self.ell_max):
            raise LoggedError(
                self.log,
                "Tll_sz requested at ell = %s; need a 1-d list within [ell_min, ell_max] = [%g, %g].",
                ell.tolist(),
                self.ell_min,
                self.ell_max,
            )
        self._tll_ells = np.union1d(self._tll_ells, ell)
        if options.get("gradient", False):
            self._tll_grad_requested = True
            self._tll_grad_params = self._merge_grad_params(
                self._tll_grad_params, options.get("params"), "Tll_sz"
            )

    def _check_grad_requirement(self, options: dict | None) -> None:
        """``Cl_sz_grad``: None (all input params) or ``{params: [input params]}``.

        Derivatives are at the ``Cl_sz`` multipoles; the params requested by
        several components are merged.
        """
        options = dict(options or {})
        unknown = sorted(set(options) - {"params"})
        if unknown:
            raise LoggedError(
                self.log,
                "'Cl_sz_grad' takes only the option 'params' (it is computed at the ells of "
                "Cl_sz); got %r.",
                options,
            )
        self._grad_requested = True
        self._grad_params = self._merge_grad_params(
            self._grad_params, options.get("params"), "Cl_sz_grad"
        )

    def _merge_grad_params(self, current: set | None, params: str | list[str] | None,
                           product: str) -> set | None:
        """Union of the input params requested for a gradient (None: all of them).

        Names SZTheory accepts but does not take in this run (another spelling, a
        parameter of the upstream code in the Boltzmann mode) are kept and left out of
        the derivatives by `_grad_names`.
        """
        if params is None or current is None:
            return None
        if isinstance(params, str):
            params = [params]
        unknown = sorted(set(params) - set(INPUT_PARAMS))
        if unknown or not params:
            raise LoggedError(
                self.log,
                "%s gradient 'params' must be a non-empty list of input params from %s; "
                "got %r.",
                product,
                list(INPUT_PARAMS),
                params,
            )
        return current | set(params)

    def _grad_names(self, params: set | None) -> list[str]:
        """Inputs of this run (layout order) among ``params`` (None or empty: all).

        In the Boltzmann mode a request for cosmological parameters is logged once: their
        derivatives are not computed here (finite differences in GradMinimize).
        """
        names = [name for name in self._layout.names if not params or name in params]
        if self._tabulated and params and not self._fd_logged:
            cosmological = sorted(p for p in params if p not in _ALL_PROFILE_INPUTS)
            if cosmological:
                self._fd_logged = True
                self.log.info(
                    "cosmology: boltzmann: no exact derivatives in %s (they pass through the "
                    "upstream Boltzmann code); Cl_sz_grad covers %s, and GradMinimize takes "
                    "finite differences for the rest.", cosmological, names,
                )
        return names

    def _request(self) -> _Request:
        """The hashable `_Request` of the current requirements."""
        names = list(self._layout.names)

        def indices(requested, params):
            if not requested:
                return None
            return tuple(names.index(name) for name in self._grad_names(params))

        return _Request(
            ells=tuple(self._ells.tolist()),
            precision=self._precision,
            layout=self._layout,
            grad_indices=indices(self._grad_requested, self._grad_params),
            tll_ells=tuple(self._tll_ells.tolist()),
            tll_grad_indices=indices(self._tll_grad_requested, self._tll_grad_params),
        )

    def _upstream(self, params_values_dict: Mapping[str, float]) -> tuple | None:
        """Boltzmann mode: (CosmoParams, table arrays) from the upstream theory."""
        if not self._tabulated:
            return None
        try:
            arrays = boltzmann.read_tables(self.provider, self._z_nodes)
        except (AttributeError, KeyError, ValueError, TypeError) as excpt:
            raise LoggedError(
                self.log,
                "The upstream theory could not give the products of cosmology: boltzmann "
                "(%s): %s", type(excpt).__name__, excpt,
            ) from None
        return boltzmann.upstream_cosmo(self.provider, params_values_dict, self._upstream_names), arrays

    def calculate(self, state: dict, want_derived: bool = True, **params_values_dict: float) -> bool:
        """Fill ``state`` with every requested product (numpy arrays) and the derived params.

        Parameters
        ----------
        state : dict
            Cobaya's state of this point, filled in place (products in D_ell x 1e12 and
            its square, see the getters; ``"derived"``: the requested derived parameters).
        want_derived : bool
            Whether to compute the derived parameters.
        **params_values_dict : float
            The input parameters by name (units of `cobaya_szlite.parameters`), and in the
            Boltzmann mode the upstream parameters.

        Returns
        -------
        bool
            True; False (zero likelihood) at an unphysical point, with the reason logged.
        """
        values = to_values(params_values_dict, self._layout)
        upstream = self._upstream(params_values_dict)
        if upstream is not None and not all(np.all(np.isfinite(a)) for a in upstream[1]):
            self._zero_report(f"{dict(params_values_dict)}",
                              "the upstream theory gave non-finite H(z), chi(z) or P(k, z)")
            return False
        if self._evaluate is None:
            self._evaluate = _compiled(self._request())
        result = self._evaluate(values, upstream)
        d_ell = np.asarray(result.d_ell)
        # The engine's in-graph guard gives non-finite C_ell exactly where `validate`
        # (or the profile table) refuses the point; ask for the reason only then.
        if not np.all(np.isfinite(d_ell)):
            self._report_zero(values, upstream, self._ells, params_values_dict, "C_ell")
            return False
        state["Cl_sz"] = {"ell": self._ells, "1h": d_ell[0], "2h": d_ell[1]}
        if result.d_ell_jacobian is not None:
            jacobian = np.asarray(result.d_ell_jacobian)
            state["Cl_sz_grad"] = {
                "ell": self._ells,
                "params": self._grad_names(self._grad_params),
                "1h": jacobian[0],
                "2h": jacobian[1],
            }
        if result.tll is not None:
            tll = {"ell": self._tll_ells, "Tll": np.asarray(result.tll),
                   "params": self._grad_names(self._tll_grad_params if self._tll_grad_requested else None)}
            if result.tll_jacobian is not None:
                tll["dTll"] = np.asarray(result.tll_jacobian)
            if not np.all(np.isfinite(tll["Tll"])):
                self._report_zero(values, upstream, self._tll_ells, params_values_dict, "trispectrum")
                return False
            state["Tll_sz"] = tll
        if want_derived:
            state["derived"] = self._derived(result, params_values_dict)
        return True

    def _derived(self, result: _Evaluation, params_values_dict: Mapping[str, float]) -> dict:
        """The derived parameters this run outputs (Python floats)."""
        if result.derived is not None:
            values = dict(zip(DERIVED_PARAMS, np.asarray(result.derived).tolist(), strict=True))
        else:
            upstream = functools.partial(boltzmann.upstream_param, self.provider, params_values_dict,
                                         self._upstream_names)
            values = {"Omega_m": upstream("Omega_m"), "sigma8": upstream("sigma8")}
            # a profile without a mass bias (battaglia12) gives F_sz with B = 1
            values["F_sz"] = float(f_sz(values["sigma8"], values["Omega_m"], params_values_dict.get("B", 1.0),
                                        upstream("H0")))
        return {name: values[name] for name in self.output_params if name in values}

    def _report_zero(self, values: np.ndarray, upstream: tuple | None, ells: np.ndarray,
                     params_values_dict: dict, product: str) -> None:
        """Log (rate-limited, default log level) why the point has zero likelihood."""
        cosmo, profile = to_pytrees(values, self._layout)
        if upstream is not None:
            cosmo = upstream[0]
        reason, is_setting = non_finite_reason(cosmo, profile, ells, self._precision, self._model)
        self._zero_report(
            f"{dict(params_values_dict)} (non-finite {product})", reason,
            logging.WARNING if is_setting else logging.INFO,
        )

    def get_Cl_sz(self) -> dict:
        """The tSZ power spectrum at the current point.

        Returns
        -------
        dict
            ``{"ell", "1h", "2h"}``: multipoles and D_ell x 1e12 (numpy arrays).
        """
        return self.current_state["Cl_sz"]

    def get_Tll_sz(self) -> dict:
        """The full-sky 1-halo trispectrum at the current point (see the module docstring).

        Returns
        -------
        dict
            ``{"ell", "Tll", "params"[, "dTll"]}``: ``Tll`` in (D_ell x 1e12)^2, ``dTll``
            per unit of each param in ``params``.
        """
        return self.current_state["Tll_sz"]

    def get_Cl_sz_grad(self) -> dict:
        """Derivatives of ``Cl_sz`` with respect to the requested input parameters.

        Exact (JAX ``jacfwd``, one tangent per param), computed with ``Cl_sz`` at every
        point once a component has requested it.

        Returns
        -------
        dict
            ``{"ell", "params", "1h", "2h"}``: ``params`` the input names (input order; all
            of them unless ``Cl_sz_grad: {params: [...]}`` restricted them; the profile
            ones only in the Boltzmann mode); ``"1h"``/``"2h"`` (n_ell, n_params) numpy
            arrays of d (D_ell x 1e12) / d param, per unit of each parameter.
        """
        return self.current_state["Cl_sz_grad"]
