"""Cobaya likelihood: the Planck 2015 tSZ (Compton-y map) power spectrum.

`Planck2015TSZ` is `TSZBandpowers` with the data, foreground templates and
nuisance parameters of Planck 2015 results XXII as packaged for Bolliet et al.
(2018): 18 bins (ell_eff 10 ... 959.5), all powers in D_ell x 1e12,

    model_i = D^1h(ell_i) + D^2h(ell_i) + A_CIB CIB_i + A_RS RS_i + A_IR IR_i + A_CN CN_i
    Cov     = diag(sigma_i^2) + T_ij / (4 pi f_sky)          (f_sky = 0.47)

with T the full-sky 1-halo tSZ trispectrum in (D_ell x 1e12)^2, chosen by the
``trispectrum`` option:

``none``       no trispectrum term (Gaussian errors only);
``reference``  the fixed published file (``trispectrum_file``), as in SOLikeT/class_sz;
``fiducial``   computed once by the engine at ``fiducial`` (SZTheory input parameters)
               with the engine precision ``precision``;
``varying``    recomputed by `SZTheory` (product ``Tll_sz``) at every point.

For the fixed covariances ln L = -chi^2/2. For ``varying`` the covariance depends
on the parameters, so ln L = -[chi^2 + ln det Cov - ln det diag(sigma^2)]/2 (the
constant ln det diag(sigma^2) is subtracted so that values stay comparable to chi^2).

The files are read from ``data_folder`` or, if that is null, from the folder
``cobaya-install cobaya_szlite.Planck2015TSZ`` downloads into Cobaya's packages
path (`install`, `is_installed`). Options are in ``Planck2015TSZ.yaml``.
"""

import math
import os
import pathlib
import shutil
import tempfile
import urllib.error
import urllib.request

import numpy as np
import scipy.linalg
from cobaya.log import LoggedError, get_logger

from .bandpowers import Chi2, DataFormatError, read_table
from .likelihood import TSZBandpowers
from .zero_likelihood import ZeroLikelihoodReport, non_finite_reason

__all__ = ["SOURCE_ENV", "TRISPECTRUM_MODES", "Planck2015TSZ", "gaussian_logp_gradient"]

TRISPECTRUM_MODES = ("none", "reference", "fiducial", "varying")

#: Environment variable: a local folder or URL `Planck2015TSZ.install` copies the data
#: files from (installed names) instead of downloading them from GitHub.
SOURCE_ENV = "COBAYA_SZLITE_PLANCK2015_SOURCE"

#: Files installed by `Planck2015TSZ.install`: local name -> upstream name.
#: The local name is a source prefix (a key of `_base_urls`) followed by the upstream name.
_FILES = {
    "class_sz_SZ_and_fg_models.txt": "SZ_and_fg_models.txt",
    "class_sz_SZ_and_fg_models-high_ell.txt": "SZ_and_fg_models-high_ell.txt",
    "soliket_tSZ_trispectrum_ref_total-planck-collab-15_step_1.txt":
        "tSZ_trispectrum_ref_total-planck-collab-15_step_1.txt",
    "soliket_tSZ_params_ref_total-planck-collab-15_step_1.txt":
        "tSZ_params_ref_total-planck-collab-15_step_1.txt",
}


def gaussian_logp_gradient(residual, cov, dmodel, dcov=None):
    """Gradient of ln L = -(r^T C^-1 r + ln det C)/2 with r = data - model.

    ``dmodel`` (n_p, n) and ``dcov`` (n_p, n, n) are the derivatives of the
    model and covariance with respect to n_p parameters (``dcov`` None: fixed
    covariance). Returns an (n_p,) array.
    """
    factor = scipy.linalg.cho_factor(cov, lower=True)
    cinv_r = scipy.linalg.cho_solve(factor, residual)
    grad = np.asarray(dmodel) @ cinv_r
    if dcov is not None:
        cinv = scipy.linalg.cho_solve(factor, np.eye(len(cov)))
        grad = grad + 0.5 * np.einsum("i,pij,j->p", cinv_r, dcov, cinv_r)
        grad = grad - 0.5 * np.einsum("pij,ji->p", dcov, cinv)
    return grad


class Planck2015TSZ(TSZBandpowers):
    """Planck 2015 tSZ power-spectrum likelihood (Bolliet et al. 2018 set-up)."""

    # Options (defaults and comments in Planck2015TSZ.yaml; the rest from TSZBandpowers.yaml)
    trispectrum: str
    fiducial: dict | None
    precision: dict | None

    #: Where `install` downloads from: source prefix -> base URL (upstream name appended).
    _base_urls = {
        "class_sz_": "https://raw.githubusercontent.com/CLASS-SZ/class_sz/master/sz_auxiliary_files/",
        "soliket_": "https://raw.githubusercontent.com/simonsobs/SOLikeT/master/soliket/ymap/data/",
    }
    _install_folder = "planck2015_tsz"

    def initialize(self):
        """Resolve the data folder, pick the covariance for ``trispectrum``, load."""
        if self.trispectrum not in TRISPECTRUM_MODES:
            raise LoggedError(
                self.log,
                "Option 'trispectrum' must be one of %s; got %r.",
                list(TRISPECTRUM_MODES),
                self.trispectrum,
            )
        self.data_folder = self._resolve_folder()
        try:
            _check_format(self.data_folder, self.bandpowers_file)
        except DataFormatError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
        reference = self.trispectrum_file
        if self.trispectrum == "reference":
            path = os.path.join(self.data_folder, reference or "")
            if not reference or not os.path.isfile(path):
                raise LoggedError(
                    self.log,
                    "trispectrum: reference needs the reference trispectrum file '%s' "
                    "(option 'trispectrum_file'): an 18 x 18 matrix, full sky, in "
                    "1e24 [l(l+1)/2pi][l'(l'+1)/2pi] T_ll'. Use trispectrum: fiducial or "
                    "varying to compute it with the engine instead.",
                    path,
                )
        else:
            self.trispectrum_file = None
        try:
            self._load()
        finally:
            self.trispectrum_file = reference
        # In every mode but 'reference', data.cov is the Gaussian part diag(sigma^2).
        self._gaussian_cov = self.data.cov
        self._fixed_cov = self.data.cov
        if self.trispectrum in ("fiducial", "varying") and not 0 < float(self.f_sky) <= 1:
            raise LoggedError(self.log, "Option 'f_sky' must be in (0, 1]; got %r.", self.f_sky)
        if self.trispectrum == "fiducial":
            self.tll_fiducial = self._fiducial_trispectrum()
            self._fixed_cov = self.data.cov + self.tll_fiducial / (4 * math.pi * self.f_sky)
            self.covariance_description += (
                " + engine trispectrum at the fiducial point / (4 pi f_sky), f_sky = %g" % self.f_sky)
            self.chi2 = Chi2(self._fixed_cov, label="Gaussian + fiducial engine trispectrum covariance")
        elif self.trispectrum == "varying":
            self.covariance_description += (
                " + SZTheory trispectrum (Tll_sz) at each point / (4 pi f_sky), f_sky = %g, "
                "with its log-determinant" % self.f_sky)
        self._ln_det_gaussian = np.linalg.slogdet(self._gaussian_cov)[1]
        self._zero_report = ZeroLikelihoodReport(self.log)
        self._log_summary()

    def initialize_with_provider(self, provider):
        """In ``varying`` mode, refuse a ``precision`` that differs from the theory's."""
        super().initialize_with_provider(provider)
        if self.trispectrum != "varying" or not self.precision:
            return
        from .engine import Precision

        theory = provider.requirement_providers.get("Tll_sz")
        theory_precision = getattr(theory, "_precision", None)
        try:
            mine = Precision(**{**Precision()._asdict(), **self.precision})
        except TypeError as excpt:
            raise LoggedError(self.log, "Invalid 'precision' option %r: %s", self.precision, excpt) from None
        if theory_precision is not None and mine != theory_precision:
            differing = {
                key: (value, getattr(theory_precision, key))
                for key, value in mine._asdict().items()
                if value != getattr(theory_precision, key)
            }
            raise LoggedError(
                self.log,
                "With trispectrum: varying the trispectrum comes from the theory (%s) with "
                "its own 'precision'; this likelihood's 'precision' option (used only by "
                "trispectrum: fiducial) differs from it in %s (likelihood value, theory "
                "value). Remove it here or make it equal to the theory's.",
                theory.get_name(),
                differing,
            )

    def _resolve_folder(self):
        if self.data_folder:
            folder = os.path.abspath(os.path.expanduser(self.data_folder))
            if not os.path.isdir(folder):
                raise LoggedError(
                    self.log,
                    "Data folder not found: '%s' (option 'data_folder'). It must hold %s.",
                    folder,
                    ", ".join(_FILES),
                )
            return folder
        if self.packages_path:
            folder = self.get_path(self.packages_path)
            if self.is_installed(path=self.packages_path):
                return folder
        else:
            folder = None
        raise LoggedError(
            self.log,
            "No Planck 2015 tSZ data: set 'data_folder' to a folder holding %s, or run "
            "`cobaya-install cobaya_szlite.Planck2015TSZ -p <packages_path>` (%s=<folder> "
            "copies from a local folder instead of downloading) and give cobaya-run the "
            "same packages path (-p <packages_path>, or 'packages_path:' in the input); "
            "looked in %r.",
            ", ".join(_FILES),
            SOURCE_ENV,
            folder,
        )

    def _fiducial_trispectrum(self):
        """Engine trispectrum at ``fiducial`` in (D_ell x 1e12)^2 (the selected bins)."""
        from .engine import Precision, cl_yy_trispectrum
        from .theory import INPUT_PARAMS, SZTheory, _to_pytrees

        defaults = {
            name: info["value"]
            for name, info in SZTheory.get_defaults()["params"].items()
            if name in INPUT_PARAMS
        }
        unknown = sorted(set(self.fiducial or {}) - set(INPUT_PARAMS))
        bad_precision = sorted(set(self.precision or {}) - set(Precision._fields))
        if unknown or bad_precision:
            raise LoggedError(
                self.log,
                "Unknown name(s) %s in 'fiducial' (allowed: %s) or %s in 'precision' "
                "(allowed: %s).",
                unknown,
                list(INPUT_PARAMS),
                bad_precision,
                list(Precision._fields),
            )
        point = {**defaults, **(self.fiducial or {})}
        precision = Precision(**{**Precision()._asdict(), **(self.precision or {})})
        ell = self.data.ell
        values = np.array([float(point[name]) for name in INPUT_PARAMS])
        tll = np.asarray(cl_yy_trispectrum(*_to_pytrees(values), ell, precision=precision))
        to_d = 1e12 * ell * (ell + 1) / (2 * math.pi)
        tll = tll * np.outer(to_d, to_d)
        if not np.all(np.isfinite(tll)):
            reason, is_setting = non_finite_reason(*_to_pytrees(values), ell, precision)
            raise LoggedError(
                self.log,
                "No trispectrum at the fiducial point %r with this likelihood's precision "
                "%r: %s (%s).",
                point,
                self.precision,
                reason,
                "option 'precision'" if is_setting else "option 'fiducial'",
            )
        self.fiducial_point = point
        return tll

    def get_requirements(self):
        """``Cl_sz`` at the bins' ell_eff, plus ``Tll_sz`` there for ``varying``."""
        requirements = super().get_requirements()
        if self.trispectrum == "varying":
            requirements["Tll_sz"] = {"ell": self.data.ell}
        return requirements

    def covariance(self):
        """Current covariance in (D_ell x 1e12)^2 (for ``varying``: at the current point)."""
        if self.trispectrum != "varying":
            return self._fixed_cov
        tll = self.provider.get_Tll_sz()
        index = np.searchsorted(tll["ell"], self.data.ell)
        return self._gaussian_cov + tll["Tll"][np.ix_(index, index)] / (4 * math.pi * self.f_sky)

    def logp(self, **params_values):
        """ln L as a Python float (see the module docstring for ``varying``)."""
        if self.trispectrum != "varying":
            return super().logp(**params_values)
        amplitudes = [params_values[name] for name in self._amplitudes]
        residual = self.data.d - self.model(self.provider.get_Cl_sz(), amplitudes)
        try:
            factor = scipy.linalg.cho_factor(self.covariance(), lower=True)
        except np.linalg.LinAlgError:
            self._zero_report(
                repr(params_values),
                "the covariance diag(sigma^2) + T/(4 pi f_sky) is not positive definite "
                "(smallest eigenvalue %.3g)" % np.linalg.eigvalsh(self.covariance())[0],
            )
            return -np.inf
        chi2 = float(residual @ scipy.linalg.cho_solve(factor, residual))
        ln_det = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
        return -0.5 * (chi2 + ln_det - self._ln_det_gaussian)

    def get_gradient_requirements(self, params=None):
        """Products `logp_gradient` needs: ``Cl_sz_grad``, plus dT/dparams for ``varying``
        (in the varying theory inputs among ``params``; None: all)."""
        requirements = dict(super().get_gradient_requirements(params))
        if self.trispectrum == "varying":
            requirements["Tll_sz"] = {"ell": self.data.ell, "gradient": True,
                                      **(self._theory_grad_params(params) or {})}
        return requirements

    def _covariance_jacobian(self, names):
        """d Cov / d names[k] (n_names, n, n) for ``varying`` (zero for non-theory names)."""
        tll = self.provider.get_Tll_sz()
        index = np.searchsorted(tll["ell"], self.data.ell)
        dcov = np.zeros((len(names), len(index), len(index)))
        for k, name in enumerate(names):
            if name in tll["params"]:
                slice_ = tll["dTll"][tll["params"].index(name)]
                dcov[k] = slice_[np.ix_(index, index)] / (4 * math.pi * self.f_sky)
        return dcov

    def logp_gradient(self, **params_values):
        """{param: d ln L / d param} at the last `logp` point; ``varying`` adds dCov terms."""
        if self.trispectrum != "varying":
            return super().logp_gradient(**params_values)
        names, jacobian = self.model_jacobian(**params_values)
        amplitudes = [params_values[name] for name in self._amplitudes]
        residual = self.data.d - self.model(self.provider.get_Cl_sz(), amplitudes)
        grad = gaussian_logp_gradient(
            residual, self.covariance(), jacobian.T, self._covariance_jacobian(names)
        )
        return dict(zip(names, grad.tolist()))

    def logp_fisher(self, **params_values):
        """(names, F): J^T C^-1 J, plus tr(C^-1 dC_a C^-1 dC_b)/2 for ``varying``."""
        if self.trispectrum != "varying":
            return super().logp_fisher(**params_values)
        names, jacobian = self.model_jacobian(**params_values)
        cinv = np.linalg.inv(self.covariance())
        cinv_dcov = np.einsum("ij,pjk->pik", cinv, self._covariance_jacobian(names))
        fisher = jacobian.T @ cinv @ jacobian + 0.5 * np.einsum("aij,bji->ab", cinv_dcov, cinv_dcov)
        return names, fisher

    # ------------------------------------------------------------------ installation

    @classmethod
    def get_path(cls, path):
        """Install folder of the data below Cobaya's packages path ``path``."""
        if os.path.basename(os.path.normpath(path)) == cls._install_folder:
            return path
        return os.path.realpath(os.path.join(path, "data", cls._install_folder))

    @classmethod
    def is_installed(cls, **kwargs):
        """True if every data file is in the install folder below ``kwargs["path"]``."""
        if not kwargs.get("data", True):
            return True
        folder = cls.get_path(kwargs["path"])
        missing = [name for name in _FILES if not os.path.isfile(os.path.join(folder, name))]
        if missing:
            get_logger(cls.__name__).info("Missing in '%s': %s", folder, missing)
        return not missing

    @classmethod
    def install(cls, path=None, data=True, no_progress_bars=False, source=None, **_kwargs):
        """Copy the data files into ``<path>/data/planck2015_tsz``; True on success.

        Parameters
        ----------
        path : str
            Cobaya's packages path (``cobaya-install -p``).
        data : bool
            False: nothing to do (``cobaya-install --code``).
        no_progress_bars : bool
            Ignored (the files are small).
        source : str, optional
            Where to copy from instead of the public repositories: a local folder or a
            URL of one (``file://``, ``https://``) holding the files under their
            installed names (``class_sz_SZ_and_fg_models.txt``, ...). Defaults to the
            environment variable ``COBAYA_SZLITE_PLANCK2015_SOURCE`` (how to use a local
            copy offline with ``cobaya-install``), else the class_sz and SOLikeT GitHub
            repositories.
        """
        if not data:
            return True
        log = get_logger(cls.__name__)
        folder = cls.get_path(path)
        os.makedirs(folder, exist_ok=True)
        for local, url in cls._source_urls(source or os.environ.get(SOURCE_ENV) or None).items():
            log.info("Copying %s", url)
            with tempfile.NamedTemporaryFile("wb", dir=folder, delete=False) as tmp:
                try:
                    with urllib.request.urlopen(url, timeout=60) as response:
                        shutil.copyfileobj(response, tmp)
                except (urllib.error.URLError, OSError, ValueError) as excpt:
                    log.error("Could not copy %s: %s", url, excpt)
                    ok = False
                else:
                    ok = True
            if not ok:
                os.remove(tmp.name)
                return False
            os.replace(tmp.name, os.path.join(folder, local))
        log.info("Planck 2015 tSZ data installed in '%s'.", folder)
        return True

    @classmethod
    def _source_urls(cls, source):
        """{installed name: URL to copy it from}; ``source`` as in `install` (None: upstream)."""
        if source is None:
            urls = {}
            for local, upstream in _FILES.items():
                prefix = next(p for p in cls._base_urls if local.startswith(p))
                urls[local] = cls._base_urls[prefix] + upstream
            return urls
        if "://" not in source:
            source = pathlib.Path(os.path.expanduser(source)).resolve().as_uri()
        return {local: source.rstrip("/") + "/" + local for local in _FILES}


def _check_format(folder, name):
    """Raise DataFormatError unless the data file ``name`` has the 7-column format."""
    read_table(
        os.path.join(folder, name),
        n_columns=7,
        expected="7 columns: ell_eff, D_ell x 1e12, sigma, CIB, RS, IR, CN templates",
    )
