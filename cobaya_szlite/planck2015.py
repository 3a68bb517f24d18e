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
``fiducial``   computed once, with the theory's own halo model (profile, mass function,
               P(k) backend, `SZTheory.trispectrum_at`), at ``fiducial`` (changes to the
               fiducial values of the theory's inputs; a name that is not one of them is
               refused) and the engine precision ``precision``;
``varying``    recomputed by `SZTheory` (product ``Tll_sz``) at every point.

For the fixed covariances ln L = -chi^2/2. For ``varying`` the covariance depends
on the parameters, so ln L = -[chi^2 + ln det Cov - ln det diag(sigma^2)]/2 (the
constant ln det diag(sigma^2) is subtracted so that values stay comparable to chi^2).

The files are read from ``data_folder`` or, if that is null, from the folder
``cobaya-install cobaya_szlite.Planck2015TSZ`` downloads into Cobaya's packages
path (`install`, `is_installed`). Options are in ``Planck2015TSZ.yaml``.
"""

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from cobaya.log import LoggedError, get_logger

from .bandpowers import DataFormatError, check_covariance, read_table
from .engine import Precision
from .likelihood import TSZBandpowers
from .parameters import precision_option
from .planck2015_files import FILES, SOURCE_ENV, InstallError, copy_file, file_problems

__all__ = ["SOURCE_ENV", "TRISPECTRUM_MODES", "Planck2015TSZ"]

TRISPECTRUM_MODES = ("none", "reference", "fiducial", "varying")


class Planck2015TSZ(TSZBandpowers):
    """Planck 2015 tSZ power-spectrum likelihood (Bolliet et al. 2018 set-up)."""

    # Options (defaults and comments in Planck2015TSZ.yaml; the rest from TSZBandpowers.yaml)
    trispectrum: str
    fiducial: dict | None
    precision: dict | None

    _install_folder = "planck2015_tsz"

    def initialize(self) -> None:
        """Resolve the data folder, load, pick the covariance model for ``trispectrum``."""
        if self.trispectrum not in TRISPECTRUM_MODES:
            raise LoggedError(
                self.log,
                "Option 'trispectrum' must be one of %s; got %r.",
                list(TRISPECTRUM_MODES),
                self.trispectrum,
            )
        folder = self._resolve_folder()
        try:
            _check_format(folder, self.bandpowers_file)
        except DataFormatError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
        reference = self.trispectrum_file if self.trispectrum == "reference" else None
        if self.trispectrum == "reference":
            path = os.path.join(folder, reference or "")
            if not reference or not os.path.isfile(path):
                raise LoggedError(
                    self.log,
                    "trispectrum: reference needs the reference trispectrum file '%s' "
                    "(option 'trispectrum_file'): an 18 x 18 matrix, full sky, in "
                    "1e24 [l(l+1)/2pi][l'(l'+1)/2pi] T_ll'. Use trispectrum: fiducial or "
                    "varying to compute it with the engine instead.",
                    path,
                )
        # none/reference: the fixed covariance of the files; fiducial/varying: data.cov is
        # the Gaussian part diag(sigma^2), completed below
        self._load(folder, reference)
        if self.trispectrum in ("fiducial", "varying") and not 0 < float(self.f_sky) <= 1:
            raise LoggedError(self.log, "Option 'f_sky' must be in (0, 1]; got %r.", self.f_sky)
        if self.trispectrum == "fiducial":
            # computed with the theory's halo model once it is known (initialize_with_provider)
            self.covariance_description += (
                f" + engine trispectrum at the fiducial point / (4 pi f_sky), f_sky = {self.f_sky:g}")
        elif self.trispectrum == "varying":
            self.covariance_description += (
                f" + SZTheory trispectrum (Tll_sz) at each point / (4 pi f_sky), f_sky = {self.f_sky:g}, "
                "with its log-determinant")
            self.set_covariance(self.data.cov, self.f_sky, varying=True)
        self._log_summary()

    def initialize_with_provider(self, provider: Any) -> None:
        """``fiducial``: compute the trispectrum with the theory's halo model. ``varying``:
        refuse a ``precision`` that differs from the theory's.

        Parameters
        ----------
        provider : cobaya.theory.Provider
            Cobaya's provider of this model (gives the theory that computes ``Cl_sz``).
        """
        super().initialize_with_provider(provider)
        if self.trispectrum == "fiducial":
            self._set_fiducial_covariance(provider.requirement_providers.get("Cl_sz"))
        if self.trispectrum != "varying" or not self.precision:
            return
        theory = provider.requirement_providers.get("Tll_sz")
        theory_precision = getattr(theory, "engine_precision", None)
        mine = self._engine_precision()
        # only the fields set here are compared (ell_max follows each component's range)
        differing = {
            key: (getattr(mine, key), getattr(theory_precision, key))
            for key in self.precision
            if theory_precision is not None and getattr(mine, key) != getattr(theory_precision, key)
        }
        if differing:
            raise LoggedError(
                self.log,
                "With trispectrum: varying the trispectrum comes from the theory (%s) with "
                "its own 'precision'; this likelihood's 'precision' option (used only by "
                "trispectrum: fiducial) differs from it in %s (likelihood value, theory "
                "value). Remove it here or make it equal to the theory's.",
                theory.get_name(),
                differing,
            )

    def _engine_precision(self) -> Precision:
        """The engine `Precision` of the ``precision`` option, its profile table sized for
        the selected bins (LoggedError naming the setting if invalid)."""
        try:
            precision, notes = precision_option(self.precision, float(np.max(self.data.ell)))
        except ValueError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
        for note in notes:
            self.log.warning("%s", note)
        return precision

    def _resolve_folder(self) -> str:
        if self.data_folder:
            folder = os.path.abspath(os.path.expanduser(self.data_folder))
            if not os.path.isdir(folder):
                raise LoggedError(
                    self.log,
                    "Data folder not found: '%s' (option 'data_folder'). It must hold the files "
                    "of the options 'bandpowers_file' (%s) and, for trispectrum: reference, "
                    "'trispectrum_file' (%s).",
                    folder,
                    self.bandpowers_file,
                    self.trispectrum_file,
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
            "copies from a local folder, with the installed or the upstream file names, instead "
            "of downloading) and give cobaya-run the "
            "same packages path (-p <packages_path>, or 'packages_path:' in the input); %s.",
            ", ".join(f.name for f in FILES),
            SOURCE_ENV,
            f"looked in '{folder}'" if folder else "no packages path was given",
        )

    def _set_fiducial_covariance(self, theory: Any) -> None:
        """``fiducial``: the covariance with the trispectrum of ``theory``'s own halo model at
        the ``fiducial`` point (`SZTheory.trispectrum_at`), at this likelihood's precision."""
        trispectrum_at = getattr(theory, "trispectrum_at", None)
        if trispectrum_at is None:
            raise LoggedError(self.log, "trispectrum: fiducial needs a theory that computes the trispectrum "
                              "at a fixed point (cobaya_szlite.SZTheory); %s does not.", theory.get_name())
        try:
            self.tll_fiducial, self.fiducial_point = trispectrum_at(
                dict(self.fiducial or {}), self.data.ell, self._engine_precision())
        except ValueError as excpt:
            cause = "option 'precision'" if getattr(excpt, "is_setting", False) else "option 'fiducial'"
            raise LoggedError(
                self.log, "No trispectrum at the fiducial point %r with this likelihood's precision %r: "
                "%s (%s; use trispectrum: varying or reference otherwise).",
                dict(self.fiducial or {}), self.precision, excpt, cause) from None
        covariance = self.data.cov + self.tll_fiducial / (4 * np.pi * self.f_sky)
        try:
            check_covariance(covariance, "Gaussian + fiducial engine trispectrum covariance")
        except DataFormatError as excpt:
            raise LoggedError(self.log, "%s", excpt) from None
        self.set_covariance(covariance)
        self.log.info("trispectrum: fiducial computed with %s's halo model at %s.", theory.get_name(),
                      self.fiducial_point)

    def get_requirements(self) -> dict:
        """The products `logp` needs.

        Returns
        -------
        dict
            ``Cl_sz`` at the bins' ell_eff, plus ``Tll_sz`` there for ``varying``.
        """
        requirements = super().get_requirements()
        if self.trispectrum == "varying":
            requirements["Tll_sz"] = {"ell": self.data.ell}
        return requirements

    def get_gradient_requirements(self, params: Sequence[str] | None = None) -> dict:
        """Products `logp_gradient` needs: ``Cl_sz_grad``, plus dT/dparams for ``varying``.

        Parameters
        ----------
        params : sequence of str, optional
            As for `TSZBandpowers.get_gradient_requirements` (the trispectrum is then
            differentiated in the theory inputs among them; None: all).

        Returns
        -------
        dict
            Product name -> its requirement options.
        """
        requirements = dict(super().get_gradient_requirements(params))
        if self.trispectrum == "varying":
            requirements["Tll_sz"] = {"ell": self.data.ell, "gradient": True,
                                      **(self._theory_grad_params(params) or {})}
        return requirements

    def _trispectrum(self, names: Sequence[str] = ()) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``varying``: (T, dT/dnames) at the current point, on the data bins (dT zero for
        names the theory does not differentiate, e.g. foreground amplitudes)."""
        if self.trispectrum != "varying":
            return None, None
        tll = self.provider.get_Tll_sz()
        index = np.searchsorted(tll["ell"], self.data.ell)
        bins = np.ix_(index, index)
        dtll = np.zeros((len(names), len(index), len(index)))
        for k, name in enumerate(names):
            if "dTll" in tll and name in tll["params"]:
                dtll[k] = tll["dTll"][tll["params"].index(name)][bins]
        return tll["Tll"][bins], dtll

    # ------------------------------------------------------------------ installation

    @classmethod
    def get_path(cls, path: str) -> str:
        """Install folder of the data below Cobaya's packages path.

        Parameters
        ----------
        path : str
            Cobaya's packages path, or the install folder itself.

        Returns
        -------
        str
            ``<path>/data/planck2015_tsz`` (real path).
        """
        if os.path.basename(os.path.normpath(path)) == cls._install_folder:
            return path
        return os.path.realpath(os.path.join(path, "data", cls._install_folder))

    @classmethod
    def is_installed(cls, **kwargs: Any) -> bool:
        """Whether every data file is in the install folder with its recorded checksum
        (missing or modified ones are logged).

        Parameters
        ----------
        **kwargs
            Cobaya's installation options: ``path`` (the packages path) and ``data``
            (False: nothing is needed, True is returned).

        Returns
        -------
        bool
        """
        if not kwargs.get("data", True):
            return True
        folder = cls.get_path(kwargs["path"])
        problems = file_problems(folder)
        if problems:
            get_logger(cls.__name__).info("Not installed in '%s': %s", folder, problems)
        return not problems

    @classmethod
    def install(cls, path: str | None = None, data: bool = True, no_progress_bars: bool = False,
                source: str | None = None, **_kwargs: Any) -> bool:
        """Copy the data files into ``<path>/data/planck2015_tsz``, checking each one's SHA-256.

        Downloads come from the commits of class_sz and SOLikeT pinned in
        `cobaya_szlite.planck2015_files.FILES`.

        Parameters
        ----------
        path : str
            Cobaya's packages path (``cobaya-install -p``).
        data : bool
            False: nothing to do (``cobaya-install --code``).
        no_progress_bars : bool
            Ignored (the files are small).
        source : str, optional
            Where to copy from instead: a local folder or a URL of one (``file://``,
            ``https://``) holding the files under their installed names
            (``class_sz_SZ_and_fg_models.txt``), their upstream names
            (``SZ_and_fg_models.txt``) or as a mirror of the raw GitHub tree. Defaults to the
            environment variable ``COBAYA_SZLITE_PLANCK2015_SOURCE`` (how to use a local
            copy offline with ``cobaya-install``).
        **_kwargs
            Other installation options of Cobaya (ignored).

        Returns
        -------
        bool
            True on success (or with ``data`` False); False, with the error logged (the
            file, the URLs tried and what to do offline), if a file could not be copied.
        """
        if not data:
            return True
        log = get_logger(cls.__name__)
        folder = cls.get_path(path)
        os.makedirs(folder, exist_ok=True)
        source = source or os.environ.get(SOURCE_ENV) or None
        try:
            for data_file in FILES:
                copy_file(data_file, folder, source, log=log.info)
        except InstallError as excpt:
            log.error("%s", excpt)
            return False
        log.info("Planck 2015 tSZ data installed in '%s'.", folder)
        return True


def _check_format(folder: str, name: str) -> None:
    """Raise DataFormatError unless the data file ``name`` has the 7-column format."""
    read_table(
        os.path.join(folder, name),
        n_columns=7,
        expected="7 columns: ell_eff, D_ell x 1e12, sigma, CIB, RS, IR, CN templates",
    )
