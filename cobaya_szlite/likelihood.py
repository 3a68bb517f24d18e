"""Cobaya likelihood: Gaussian chi^2 of tSZ (Compton-y) bandpowers.

`TSZBandpowers` reads a data folder in the format of `cobaya_szlite.bandpowers`
(bandpowers, optional covariance, trispectrum and foreground templates),
requests ``Cl_sz`` at the bins' ell_eff and returns ln L = -chi^2 / 2 with

    model_i = D^1h(ell_i) + D^2h(ell_i) + sum_k A_k template_k,i

(all in D_ell x 1e12). Options are in ``TSZBandpowers.yaml``. A data set with
fixed files and its own nuisance parameters is a subclass that changes only
the yaml defaults (``data_folder``, file names, ``foregrounds`` and ``params``).

ln L, its gradient and Fisher matrix come from a covariance model of
`cobaya_szlite.bandpowers` (`covariance_model`; here a `FixedCovariance`); a subclass
whose covariance follows the parameters sets another model and supplies the
trispectrum at the current point through `_trispectrum`.
"""

import os
from collections.abc import Sequence

import numpy as np
from cobaya.likelihood import Likelihood
from cobaya.log import LoggedError

from .bandpowers import (
    DataFormatError,
    FixedCovariance,
    NotPositiveDefiniteError,
    load_bandpowers,
)
from .parameters import INPUT_PARAMS
from .zero_likelihood import ZeroLikelihoodReport

__all__ = ["DEFAULT_COVARIANCE_FILE", "MOCK_DATA_FOLDER", "TSZBandpowers"]

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
        or None) and set the fixed `covariance_model`."""
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
            self.covariance_model = FixedCovariance(
                self.data.cov, label="Covariance " + self.covariance_description
            )
        except DataFormatError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
        self._amplitudes = list(self.data.templates)
        self._templates = np.array([self.data.templates[k] for k in self._amplitudes])
        self._index = None
        self._zero_report = ZeroLikelihoodReport(self.log)

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
        if self._index is None:
            index = np.searchsorted(cl_sz["ell"], self.data.ell)
            index = np.minimum(index, len(cl_sz["ell"]) - 1)
            if not np.allclose(cl_sz["ell"][index], self.data.ell, rtol=1e-12, atol=0):
                raise LoggedError(self.log, "Cl_sz was not computed at the data ell_eff.")
            self._index = index
        model = cl_sz["1h"][self._index] + cl_sz["2h"][self._index]
        if len(self._amplitudes):
            model = model + np.asarray(amplitudes, dtype=float) @ self._templates
        return model

    def _residual(self, params_values: dict) -> np.ndarray:
        """data - model (D_ell x 1e12) at the current point."""
        amplitudes = [params_values[name] for name in self._amplitudes]
        return self.data.d - self.model(self.provider.get_Cl_sz(), amplitudes)

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
        return self.covariance_model.covariance(self._trispectrum()[0])

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
        try:
            return float(self.covariance_model.logp(self._residual(params_values), tll))
        except NotPositiveDefiniteError as excpt:
            self._zero_report(repr(params_values), str(excpt))
            return -np.inf

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
        amplitudes = [params_values[name] for name in self._amplitudes]
        self.model(self.provider.get_Cl_sz(), amplitudes)  # checks and sets the ell index
        grad = self.provider.get_Cl_sz_grad()
        jacobian = np.hstack(
            [(grad["1h"] + grad["2h"])[self._index], self._templates.T.reshape(len(self._index), -1)]
        )
        return list(grad["params"]) + list(self._amplitudes), jacobian

    def logp_gradient(self, **params_values: float) -> dict[str, float]:
        """Gradient of ln L at the point of the last `logp` call.

        Theory parameters by the chain rule through ``Cl_sz_grad`` (and the trispectrum
        derivatives, for a varying covariance), foreground amplitudes directly.

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
        names, jacobian = self.model_jacobian(**params_values)
        tll, dtll = self._trispectrum(names)
        grad = self.covariance_model.logp_gradient(self._residual(params_values), jacobian, tll, dtll)
        return dict(zip(names, grad.tolist()))

    def logp_fisher(self, **params_values: float) -> tuple[list[str], np.ndarray]:
        """Fisher matrix of ln L: J^T Cov^-1 J, plus tr(C^-1 dC_a C^-1 dC_b)/2 for a varying covariance.

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
        names, jacobian = self.model_jacobian(**params_values)
        tll, dtll = self._trispectrum(names)
        return names, self.covariance_model.fisher(jacobian, tll, dtll)
