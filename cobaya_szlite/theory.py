"""Cobaya theory component: the tSZ power spectrum from the JAX engine.

`SZTheory` takes class_sz-named input parameters (`cobaya_szlite.parameters`) and
provides ``Cl_sz`` = ``{"ell", "1h", "2h"}`` in D_ell x 1e12 = 1e12 ell(ell+1) C_ell^yy / (2 pi)
at the multipoles its likelihoods request, plus the derived parameters
``Omega_m`` and ``F_sz = sigma8 (Omega_m / B)^0.40 h^-0.21``. Options are in
``SZTheory.yaml`` beside this module; the input parameters and their defaults (the
fiducial point) in `cobaya_szlite.parameters`.

Only when a likelihood requests it, it also provides ``Tll_sz`` = ``{"ell", "Tll", "params"}``:
the full-sky 1-halo tSZ trispectrum in (D_ell x 1e12)^2, i.e.
1e24 [ell(ell+1)/2pi][ell'(ell'+1)/2pi] T_ll' (the units of the published Planck
reference file), and with ``Tll_sz: {ell: [...], gradient: True}`` its derivatives
``"dTll"`` (shape (n_params, n_ell, n_ell), one slice per name in ``"params"``, in
INPUT_PARAMS order). ``Cl_sz_grad`` (derivatives of ``Cl_sz``) and the ``Tll_sz``
gradient take all 12 input params, or only those listed in the requirement's
``params`` (forward mode: the cost grows with their number).

Everything requested is computed by one jitted function of the 12 input values,
built by `_compiled` (cached on a hashable `_Request`) and returning an `_Evaluation`,
in `SZTheory.calculate`; the getters only read the state.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from cobaya.log import LoggedError
from cobaya.theory import Theory
from cobaya.typing import empty_dict

from .engine import Precision, PrecisionWarning, make_precision
from .parameters import (
    FIDUCIAL_PARAMS,
    INPUT_PARAMS,
    PARAM_LATEX,
    d_ell_spectra,
    d_ell_trispectrum,
    f_sz,
    to_pytrees,
    to_values,
)
from .zero_likelihood import ZeroLikelihoodReport, non_finite_reason

__all__ = ["SZTheory"]


class _Request(NamedTuple):
    """What one compiled evaluation computes (hashable: the cache key of `_compiled`).

    ``grad_indices`` / ``tll_grad_indices``: indices (INPUT_PARAMS order) of the input
    params ``Cl_sz`` / ``Tll_sz`` are differentiated in; None: no derivatives.
    ``tll_ells`` empty: no trispectrum.
    """

    ells: tuple[float, ...]
    precision: Precision
    grad_indices: tuple[int, ...] | None = None
    tll_ells: tuple[float, ...] = ()
    tll_grad_indices: tuple[int, ...] | None = None


class _Evaluation(NamedTuple):
    """Output of the compiled evaluation at one point (None where not requested).

    ``d_ell`` (2, n_ell): D_ell^1h, D_ell^2h x 1e12; ``d_ell_jacobian`` (2, n_ell, n_grad):
    their derivatives per unit of each param; ``tll`` (n_tll, n_tll) in (D_ell x 1e12)^2;
    ``tll_jacobian`` (n_tll_grad, n_tll, n_tll).
    """

    d_ell: jax.Array
    d_ell_jacobian: jax.Array | None
    tll: jax.Array | None
    tll_jacobian: jax.Array | None


def _value_and_jacobian(function: Callable, values: jax.Array,
                        indices: tuple[int, ...]) -> tuple[jax.Array, jax.Array]:
    """``function(values)`` and its forward-mode Jacobian in ``values[indices]`` (last
    axis: the indices), from one trace of ``function``."""
    index = np.asarray(indices)

    def restricted(sub_values):
        out = function(values.at[index].set(sub_values))
        return out, out

    jacobian, value = jax.jacfwd(restricted, has_aux=True)(values[index])
    return value, jacobian


@functools.lru_cache(maxsize=8)
def _compiled(request: _Request) -> Callable[[np.ndarray], _Evaluation]:
    """The jitted map (12 input values) -> `_Evaluation` for ``request``.

    Cached, so models built again in one process (tests, notebooks) reuse the compiled
    code. Compiling C_ell, the trispectrum and their derivatives together lets XLA
    compute the ingredients they share (background, sigma(M), mass function, profile
    table) once.
    """
    ell = jnp.asarray(request.ells)
    tll_ell = jnp.asarray(request.tll_ells)

    def d_ell(values):
        return d_ell_spectra(values, ell, request.precision)

    def tll(values):
        return d_ell_trispectrum(values, tll_ell, request.precision)

    def evaluate(values):
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
        return _Evaluation(d_ell_value, d_ell_jacobian, tll_value, tll_jacobian)

    return jax.jit(evaluate)


def _default_params() -> dict:
    """Cobaya ``params`` defaults: every input fixed at the fiducial, plus the derived ones."""
    params = {name: {"value": FIDUCIAL_PARAMS[name], "latex": PARAM_LATEX[name]} for name in INPUT_PARAMS}
    params["Omega_m"] = {"derived": True, "latex": r"\Omega_\mathrm{m}"}
    params["F_sz"] = {"derived": True, "latex": r"F_\mathrm{SZ}"}
    return params


class SZTheory(Theory):
    """tSZ C_ell^yy (1-halo and 2-halo) from `cobaya_szlite.cl_yy`.

    One jitted function of the input parameters is compiled at the first
    evaluation after the requested products are known and reused for every
    later point (and by any model in the process with the same request).
    Unphysical points (those `cobaya_szlite.validate` rejects, or multipoles beyond
    the engine's profile table, where the engine returns non-finite C_ell) return
    False: zero likelihood, never NaN; the reason is logged (rate-limited).
    """

    # Options (defaults and comments in SZTheory.yaml)
    precision: dict
    ell_min: float
    ell_max: float
    n_ell_default: int

    @classmethod
    def get_modified_defaults(cls, defaults: dict, input_options: Mapping = empty_dict) -> dict:
        """Add the parameter defaults to the options of ``SZTheory.yaml``.

        Every input parameter is fixed at the fiducial of `cobaya_szlite.parameters` (the
        one place its values live; give any of them a prior in the input to sample it),
        and the derived Omega_m and F_sz are declared.

        Parameters
        ----------
        defaults : dict
            The options read from ``SZTheory.yaml``.
        input_options : Mapping
            The user's options for this component (unused).

        Returns
        -------
        dict
            ``defaults`` with ``params`` filled in.
        """
        defaults = dict(defaults)
        defaults["params"] = {**_default_params(), **(defaults.get("params") or {})}
        return defaults

    def initialize(self) -> None:
        """Enable float64 in JAX, check the options and build the engine `Precision`."""
        jax.config.update("jax_enable_x64", True)
        settings = dict(self.precision or {})
        unknown = sorted(set(settings) - set(Precision._fields))
        if unknown:
            raise LoggedError(
                self.log,
                "Unknown precision setting(s) %s; allowed: %s.",
                unknown,
                list(Precision._fields),
            )
        if not 0 < float(self.ell_min) < float(self.ell_max):
            raise LoggedError(
                self.log,
                "Options need 0 < ell_min < ell_max; got ell_min=%r, ell_max=%r.",
                self.ell_min,
                self.ell_max,
            )
        # the profile table is sized for the largest multipole this theory accepts
        settings.setdefault("ell_max", float(self.ell_max))
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", PrecisionWarning)
                self._precision = make_precision(**settings)
        except (TypeError, ValueError) as excpt:
            raise LoggedError(self.log, "Invalid 'precision' option %r: %s", self.precision, excpt) from None
        for warning in caught:
            self.log.warning("%s", warning.message)
        self._ells = np.zeros(0)
        self._tll_ells = np.zeros(0)
        # input params the derivatives are taken with respect to (None: all; set(): none
        # requested yet), and whether each derivative was requested
        self._grad_params = self._tll_grad_params = set()
        self._grad_requested = self._tll_grad_requested = False
        self._evaluate = None
        self._zero_report = ZeroLikelihoodReport(self.log)

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
        """Union of the input params requested for a gradient (None: all of them)."""
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

    @staticmethod
    def _grad_names(params: set | None) -> list[str]:
        """Input names (INPUT_PARAMS order) for a set of names (None or empty: all)."""
        return [name for name in INPUT_PARAMS if not params or name in params]

    def _request(self) -> _Request:
        """The hashable `_Request` of the current requirements."""
        names = list(INPUT_PARAMS)

        def indices(requested, params):
            if not requested:
                return None
            return tuple(names.index(name) for name in self._grad_names(params))

        return _Request(
            ells=tuple(self._ells.tolist()),
            precision=self._precision,
            grad_indices=indices(self._grad_requested, self._grad_params),
            tll_ells=tuple(self._tll_ells.tolist()),
            tll_grad_indices=indices(self._tll_grad_requested, self._tll_grad_params),
        )

    def calculate(self, state: dict, want_derived: bool = True, **params_values_dict: float) -> bool:
        """Fill ``state`` with every requested product (numpy arrays) and the derived params.

        Parameters
        ----------
        state : dict
            Cobaya's state of this point, filled in place (products in D_ell x 1e12 and
            its square, see the getters; ``"derived"``: Omega_m and F_sz, dimensionless).
        want_derived : bool
            Whether to compute the derived parameters.
        **params_values_dict : float
            The 12 input parameters by name (units of `cobaya_szlite.parameters`).

        Returns
        -------
        bool
            True; False (zero likelihood) at an unphysical point, with the reason logged.
        """
        values = to_values(params_values_dict)
        if self._evaluate is None:
            self._evaluate = _compiled(self._request())
        result = self._evaluate(values)
        d_ell = np.asarray(result.d_ell)
        # The engine's in-graph guard gives non-finite C_ell exactly where `validate`
        # (or the profile table) refuses the point; ask for the reason only then.
        if not np.all(np.isfinite(d_ell)):
            self._report_zero(values, self._ells, params_values_dict, "C_ell")
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
                self._report_zero(values, self._tll_ells, params_values_dict, "trispectrum")
                return False
            state["Tll_sz"] = tll
        if want_derived:
            cosmo, profile = to_pytrees(values)
            h = float(cosmo.H0) / 100.0
            omega_m = float(cosmo.omega_b + cosmo.omega_cdm) / h**2
            state["derived"] = {
                "Omega_m": omega_m,
                "F_sz": f_sz(float(cosmo.sigma8), omega_m, float(profile.B), float(cosmo.H0)),
            }
        return True

    def _report_zero(self, values: np.ndarray, ells: np.ndarray, params_values_dict: dict,
                     product: str) -> None:
        """Log (rate-limited, default log level) why the point has zero likelihood."""
        reason, is_setting = non_finite_reason(*to_pytrees(values), ells, self._precision)
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
            ``{"ell", "params", "1h", "2h"}``: ``params`` the input names (INPUT_PARAMS
            order; all of them unless ``Cl_sz_grad: {params: [...]}`` restricted them);
            ``"1h"``/``"2h"`` (n_ell, n_params) numpy arrays of d (D_ell x 1e12) / d param,
            per unit of each parameter.
        """
        return self.current_state["Cl_sz_grad"]
