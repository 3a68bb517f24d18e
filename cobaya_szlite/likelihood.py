"""Cobaya likelihood: Gaussian chi^2 of tSZ (Compton-y) bandpowers.

`TSZBandpowers` reads a data folder in the format of `cobaya_szlite.bandpowers`
(bandpowers, optional covariance, trispectrum and foreground templates),
requests ``Cl_sz`` at the bins' ell_eff and returns ln L = -chi^2 / 2 with

    model_i = D^1h(ell_i) + D^2h(ell_i) + sum_k A_k template_k,i

(all in D_ell x 1e12). Options are in ``TSZBandpowers.yaml``. A data set with
fixed files and its own nuisance parameters is a subclass that changes only
the yaml defaults (``data_folder``, file names, ``foregrounds`` and ``params``).

ln L is the pure JAX function `cobaya_szlite.likelihood_math.bandpower_ln_like` of the
data set (`bandpower_set`), the tSZ bandpowers, the amplitudes and, for a covariance that
follows the parameters, the trispectrum at the point (a subclass sets
``varying_covariance`` and supplies it through `_trispectrum`). Its gradient is the
autodiff gradient of that function chained with the theory's derivatives (``Cl_sz_grad``,
``Tll_sz`` with ``gradient``); its Fisher matrix is `bandpower_fisher`. `jax_loglike`
hands the same function to `cobaya_szlite.jax_posterior` (the interface of a likelihood
with a pure-JAX fast path: docs/architecture.md).
"""

import os
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from cobaya.likelihood import Likelihood
from cobaya.log import LoggedError

from .bandpowers import DataFormatError, check_covariance, load_bandpowers, not_positive_definite
from .likelihood_math import bandpower_fisher, bandpower_ln_like, bandpower_ln_like_at, bandpower_set, covariance_at
from .parameters import INPUT_PARAMS
from .zero_likelihood import ZeroLikelihoodReport

__all__ = ["DEFAULT_COVARIANCE_FILE", "MOCK_DATA_FOLDER", "JaxLogLike", "TSZBandpowers"]

_covariance_at = jax.jit(covariance_at)
_ln_like_grad = jax.jit(jax.grad(bandpower_ln_like, argnums=(1, 2, 3)))
_ln_like_grad_fixed = jax.jit(jax.grad(bandpower_ln_like, argnums=(1, 2)))
_fisher = jax.jit(bandpower_fisher)


def _as_numpy(bset):
    """A `BandpowerSet` with NumPy arrays."""
    return type(bset)(*(np.asarray(field) for field in bset))


class JaxLogLike(NamedTuple):
    """A likelihood's pure-JAX ln L, as `cobaya_szlite.jax_posterior` composes it.

    ``requirements``: the theory products it reads, as Cobaya requirements (``Cl_sz`` and,
    with a varying covariance, ``Tll_sz``, each ``{"ell": ...}``); ``params``: the input
    parameters of the likelihood itself, in the order of ``function``'s second argument;
    ``function(products, values) -> ln L``: ``products`` maps each requirement to its JAX
    value at the requested ells (``Cl_sz``: (2, n) array of D^1h, D^2h x 1e12; ``Tll_sz``:
    (n, n) array in (D_ell x 1e12)^2), ``values`` the parameter values.
    """

    requirements: dict
    params: tuple[str, ...]
    function: Callable[[dict, jax.Array], jax.Array]

#: The packaged noiseless + noisy mock (see its README.md).
MOCK_DATA_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "mock")
#: Covariance file used when ``covariance_file`` is null and the data folder has one.
DEFAULT_COVARIANCE_FILE = "covariance.txt"


class TSZBandpowers(Likelihood):
    """Bandpower chi^2 for the tSZ power spectrum (data format in `bandpowers`)."""

    # Options (defaults and comments in TSZBandpowers.yaml)
    data_folder: str | None
    bandpowers_file: str
    covariance_file: str | bool | None
    trispectrum_file: str | None
    f_sky: float | None
    foregrounds: dict | None
    ell_min: float | None
    ell_max: float | None

    def initialize(self) -> None:
        """Load and check the data; any problem raises LoggedError."""
        self._load(self._folder_path(), self.trispectrum_file)
        self._log_summary()

    def _folder_path(self) -> str:
        """Absolute path of the data folder (``data_folder``, or the packaged mock)."""
        return os.path.abspath(os.path.expanduser(self.data_folder or MOCK_DATA_FOLDER))

    def _load(self, folder: str, trispectrum_file: str | None) -> None:
        """Load the data from ``folder`` (with ``trispectrum_file`` added to the covariance,
        or None) and set the fixed covariance (`set_covariance`)."""
        self.folder = folder
        if self.foregrounds is not None and not isinstance(self.foregrounds, dict):
            raise LoggedError(
                self.log,
                "Option 'foregrounds' must map amplitude names to templates; got %r.",
                self.foregrounds,
            )
        covariance_file = self.covariance_file
        if covariance_file is None:
            # one rule for every folder, the packaged mock included
            if os.path.isfile(os.path.join(folder, DEFAULT_COVARIANCE_FILE)):
                covariance_file = DEFAULT_COVARIANCE_FILE
        elif covariance_file is False:
            covariance_file = None  # explicitly diag(sigma^2)
        elif not isinstance(covariance_file, str):
            raise LoggedError(
                self.log,
                "Option 'covariance_file' must be a file name, null (the folder's %s if it "
                "has one, else diag(sigma^2)) or false (diag(sigma^2)); got %r.",
                DEFAULT_COVARIANCE_FILE,
                covariance_file,
            )
        self.covariance_file_used = covariance_file  # None: diag(sigma^2)
        try:
            self.data = load_bandpowers(
                folder,
                self.bandpowers_file,
                covariance_file=covariance_file,
                trispectrum_file=trispectrum_file,
                f_sky=self.f_sky,
                foregrounds=self.foregrounds,
                ell_min=self.ell_min,
                ell_max=self.ell_max,
            )
            self.covariance_description = self._describe_covariance(trispectrum_file)
            check_covariance(self.data.cov, "Covariance " + self.covariance_description)
        except DataFormatError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
        self._amplitudes = list(self.data.templates)
        self._templates = np.array([self.data.templates[k] for k in self._amplitudes]).reshape(
            len(self._amplitudes), len(self.data.ell))
        self.set_covariance(self.data.cov)
        self._index = None
        self._zero_report = ZeroLikelihoodReport(self.log)

    #: True when the covariance follows the parameters through the trispectrum (`_trispectrum`).
    varying_covariance = False

    def set_covariance(self, covariance: np.ndarray, f_sky: float = 1.0, varying: bool = False) -> None:
        """Set the fixed covariance, or with ``varying`` the Gaussian part of a covariance
        that adds the trispectrum at each point / (4 pi ``f_sky``) (with its ln det).

        Parameters
        ----------
        covariance : array, shape (n_bins, n_bins)
            In (D_ell x 1e12)^2, positive definite.
        f_sky : float
            Sky fraction of the trispectrum term.
        varying : bool
            Whether `_trispectrum` gives a trispectrum at each point.
        """
        self.varying_covariance = varying
        self.bandpower_set = bandpower_set(self.data.d, self._templates, covariance, f_sky)
        # NumPy copies of the arrays: `logp` evaluates the same function on them (no JAX
        # dispatch), with the covariance at the last trispectrum (tll, covariance_at it)
        self._numpy_set = _as_numpy(self.bandpower_set)
        self._point_covariance = (None, self._numpy_set)

    def _describe_covariance(self, trispectrum_file: str | None) -> str:
        """What the covariance is made of, with the files' full paths (for logs and errors)."""
        if self.covariance_file_used:
            text = os.path.join(self.folder, self.covariance_file_used)
        else:
            text = f"diag(sigma^2) (column 3 of {os.path.join(self.folder, self.bandpowers_file)})"
        if trispectrum_file:
            text += (f" + trispectrum {os.path.join(self.folder, trispectrum_file)} / (4 pi f_sky), "
                     f"f_sky = {self.f_sky:g}")
        return text

    def _log_summary(self) -> None:
        """One INFO line: bins, folder and the covariance in use."""
        self.log.info(
            "%d bandpowers, %g <= ell_eff <= %g, from '%s'; covariance: %s.",
            len(self.data.ell),
            self.data.ell[0],
            self.data.ell[-1],
            self.folder,
            self.covariance_description,
        )

    def get_can_support_params(self) -> list[str]:
        """Foreground amplitudes may be declared in the global ``params`` block.

        Returns
        -------
        list of str
            The amplitude names of the ``foregrounds`` option.
        """
        return list(self.foregrounds or {})

    def initialize_with_params(self) -> None:
        """Every foreground amplitude must be an input parameter (else LoggedError)."""
        missing = sorted(set(self._amplitudes) - set(self.input_params))
        if missing:
            raise LoggedError(
                self.log,
                "Foreground amplitude(s) %s have no parameter: declare them under 'params'.",
                missing,
            )

    def get_requirements(self) -> dict:
        """The products `logp` needs.

        Returns
        -------
        dict
            ``{"Cl_sz": {"ell": ell_eff}}`` at the selected bins (ell dimensionless).
        """
        return {"Cl_sz": {"ell": self.data.ell}}

    def model(self, cl_sz: dict, amplitudes: Sequence[float] = ()) -> np.ndarray:
        """Model bandpowers from a ``Cl_sz`` product and the foreground amplitudes.

        Parameters
        ----------
        cl_sz : dict
            ``{"ell", "1h", "2h"}`` as `SZTheory.get_Cl_sz` returns it (D_ell x 1e12),
            computed at (at least) the data's ell_eff.
        amplitudes : sequence of float
            Foreground amplitudes (dimensionless) in the order of the ``foregrounds``
            option.

        Returns
        -------
        numpy.ndarray, shape (n_bins,)
            D^1h + D^2h + sum_k A_k template_k in D_ell x 1e12.
        """
        self._set_bin_index(cl_sz)
        model = cl_sz["1h"][self._index] + cl_sz["2h"][self._index]
        if len(self._amplitudes):
            model = model + np.asarray(amplitudes, dtype=float) @ self._templates
        return model

    def _set_bin_index(self, cl_sz: dict) -> None:
        """Positions of the data's ell_eff in ``Cl_sz`` (once; LoggedError if absent)."""
        if self._index is None:
            index = np.searchsorted(cl_sz["ell"], self.data.ell)
            index = np.minimum(index, len(cl_sz["ell"]) - 1)
            if not np.allclose(cl_sz["ell"][index], self.data.ell, rtol=1e-12, atol=0):
                raise LoggedError(self.log, "Cl_sz was not computed at the data ell_eff.")
            self._index = index

    def _trispectrum(self, names: Sequence[str] = ()) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(tll, dtll) the covariance model needs at the current point.

        ``dtll`` (len(names), n, n): derivatives in the parameters ``names``. None, None
        here (fixed covariance); a subclass with a varying covariance returns them.
        """
        return None, None

    def covariance(self) -> np.ndarray:
        """The covariance at the current point.

        Returns
        -------
        numpy.ndarray, shape (n_bins, n_bins)
            In (D_ell x 1e12)^2.
        """
        tll = self._trispectrum()[0]
        cov = np.asarray(self.bandpower_set.covariance)
        return cov if tll is None else cov + tll / float(self.bandpower_set.trispectrum_norm)

    def logp(self, **params_values: float) -> float:
        """ln L at the current point.

        Parameters
        ----------
        **params_values : float
            The likelihood's input parameters by name (the foreground amplitudes,
            dimensionless); the theory products come from the provider.

        Returns
        -------
        float
            ln L (-inf, with the reason logged, if the covariance at this point is not
            positive definite).
        """
        tll, _ = self._trispectrum()
        inputs = self._model_inputs(params_values)
        value = float(bandpower_ln_like_at(self._numpy_set, self._covariance_at(tll), *inputs))
        if not np.isfinite(value):
            self._zero_report(repr(params_values), not_positive_definite(
                self.covariance(), "Covariance " + self.covariance_description))
            return -np.inf
        return value

    def _covariance_at(self, tll: np.ndarray | None):
        """The data set with the covariance at trispectrum ``tll`` (the fixed one for None),
        factorised once per trispectrum: a change of the amplitudes alone reuses it."""
        if tll is None:
            return self._numpy_set
        last, at = self._point_covariance
        if last is None or not np.array_equal(last, tll):
            at = _as_numpy(_covariance_at(self.bandpower_set, tll))
            self._point_covariance = (tll, at)
        return at

    def _model_inputs(self, params_values: dict) -> tuple[np.ndarray, np.ndarray]:
        """(D^1h + D^2h at the bins, foreground amplitudes) at the current point."""
        amplitudes = np.array([params_values[name] for name in self._amplitudes], dtype=float)
        cl_sz = self.provider.get_Cl_sz()
        self._set_bin_index(cl_sz)
        return cl_sz["1h"][self._index] + cl_sz["2h"][self._index], amplitudes

    def jax_loglike(self) -> JaxLogLike:
        """This likelihood's ln L as a pure JAX function of the theory products (the fast
        path of `cobaya_szlite.jax_posterior`; see `JaxLogLike`).

        Returns
        -------
        JaxLogLike
        """
        bset = self.bandpower_set
        requirements = self.get_requirements()
        varying = self.varying_covariance

        def function(products, values):
            d_ell = products["Cl_sz"]
            return bandpower_ln_like(bset, d_ell[0] + d_ell[1], jnp.asarray(values),
                                     products["Tll_sz"] if varying else None)

        return JaxLogLike(requirements, tuple(self._amplitudes), function)

    def get_gradient_requirements(self, params: Sequence[str] | None = None) -> dict:
        """Products `logp_gradient` and `logp_fisher` need besides those of `logp`.

        Parameters
        ----------
        params : sequence of str, optional
            The input params that vary (e.g. a minimizer's sampled params); the theory
            then differentiates in just those of its inputs. None: all of them.

        Returns
        -------
        dict
            Product name -> its requirement options (``Cl_sz_grad``).
        """
        return {"Cl_sz_grad": self._theory_grad_params(params)}

    def _theory_grad_params(self, params: Sequence[str] | None) -> dict | None:
        """``{params: [...]}`` for the theory inputs among ``params``, else None (all)."""
        theory_params = [p for p in (params or []) if p in INPUT_PARAMS]
        return {"params": theory_params} if theory_params else None

    def model_jacobian(self, **params_values: float) -> tuple[list[str], np.ndarray]:
        """Derivatives of the model bandpowers in the parameters.

        Needs the product ``Cl_sz_grad`` (see `get_gradient_requirements`).

        Parameters
        ----------
        **params_values : float
            As for `logp`.

        Returns
        -------
        names : list of str
            The theory's input parameters (from ``Cl_sz_grad``), then the foreground
            amplitudes.
        J : numpy.ndarray, shape (n_bins, len(names))
            J[i, k] = d model_i / d names[k], in D_ell x 1e12 per unit of the param.
        """
        theory_names, tsz_jacobian = self._tsz_jacobian()
        return theory_names + list(self._amplitudes), np.hstack([tsz_jacobian, self._templates.T])

    def _tsz_jacobian(self) -> tuple[list[str], np.ndarray]:
        """(theory input names, d tsz / d names (n_bins, n)) from ``Cl_sz_grad``."""
        self._set_bin_index(self.provider.get_Cl_sz())
        grad = self.provider.get_Cl_sz_grad()
        return list(grad["params"]), (grad["1h"] + grad["2h"])[self._index]

    def logp_gradient(self, **params_values: float) -> dict[str, float]:
        """Gradient of ln L at the current point: the autodiff gradient of
        `bandpower_ln_like` in the tSZ bandpowers, amplitudes and trispectrum, chained
        with the theory's derivatives (``Cl_sz_grad``, and dT/dparams for a varying
        covariance).

        Parameters
        ----------
        **params_values : float
            As for `logp`.

        Returns
        -------
        dict
            {param: d ln L / d param} (Python floats, per unit of the param) for every
            input the likelihood depends on.
        """
        names, tsz_jacobian = self._tsz_jacobian()
        tsz, amplitudes = self._model_inputs(params_values)
        tll, dtll = self._trispectrum(names)
        if tll is None:
            grad_tsz, grad_amplitudes = _ln_like_grad_fixed(self.bandpower_set, tsz, amplitudes, None)
            grad = np.asarray(grad_tsz) @ tsz_jacobian
        else:
            grad_tsz, grad_amplitudes, grad_tll = _ln_like_grad(self.bandpower_set, tsz, amplitudes, tll)
            grad = np.asarray(grad_tsz) @ tsz_jacobian + np.einsum("ij,pij->p", np.asarray(grad_tll), dtll)
        values = dict(zip(names, grad.tolist()))
        values.update(zip(self._amplitudes, np.asarray(grad_amplitudes).tolist()))
        return values

    def logp_fisher(self, **params_values: float) -> tuple[list[str], np.ndarray]:
        """Fisher matrix of ln L at the current point (`bandpower_fisher`: autodiff of the
        expected -ln L; J^T C^-1 J, plus tr(C^-1 dC_a C^-1 dC_b)/2 for a varying covariance).

        Parameters
        ----------
        **params_values : float
            As for `logp`.

        Returns
        -------
        names, F : list of str, numpy.ndarray
            ``names`` as for `model_jacobian`; F (len(names), len(names)) per unit of
            each pair of params.
        """
        theory_names, tsz_jacobian = self._tsz_jacobian()
        names = theory_names + list(self._amplitudes)
        n_theory = len(theory_names)
        tsz, amplitudes = self._model_inputs(params_values)
        tsz_jacobian = np.hstack([tsz_jacobian, np.zeros((len(tsz), len(self._amplitudes)))])
        amplitudes_jacobian = np.hstack([np.zeros((len(self._amplitudes), n_theory)), np.eye(len(self._amplitudes))])
        tll, dtll = self._trispectrum(names)
        return names, np.asarray(_fisher(self.bandpower_set, tsz, amplitudes, tsz_jacobian, amplitudes_jacobian,
                                         tll, dtll))
