"""Bandpower data sets and their Gaussian chi^2, free of Cobaya and JAX.

A data set is a folder of plain-text tables (``#`` starts a comment, columns
separated by white space, one bin per row, every row with the same number of
columns). Power is D_ell x 1e12 = 1e12 ell(ell+1) C_ell / (2 pi) throughout.

``bandpowers_file``
    Columns 1 ell_eff, 2 measured D_ell x 1e12, 3 its 1-sigma Gaussian error.
    Further columns are allowed (e.g. foreground templates, see below).
``covariance_file`` (optional)
    N x N matrix in (D_ell x 1e12)^2 over all N rows of the bandpower file;
    it replaces diag(sigma^2).
``trispectrum_file`` (optional)
    N x N full-sky non-Gaussian term 1e24 [ell(ell+1)/2pi][ell'(ell'+1)/2pi] T_ll';
    ``T / (4 pi f_sky)`` is added to the covariance (``f_sky = 1 / (4 pi)`` adds
    a file that is already divided).
foreground templates (optional)
    D_ell x 1e12 at unit amplitude, one per amplitude parameter, given as a file
    name (column 1 ell_eff, column 2 template) or as ``{file: ..., column: k}``
    (1-based column ``k``; column 1 must be ell_eff). The ell column of a
    template file must equal that of the bandpower file row by row, so one
    file may hold data and templates (as the Planck 2015 release does).

Bins are selected by ``ell_min <= ell_eff <= ell_max`` after reading; the
covariance is restricted to them before it is inverted. The model is

    model_i = D^1h(ell_i) + D^2h(ell_i) + sum_k A_k template_k,i
    chi2 = (d - model)^T Cov^-1 (d - model)

and ln L = -chi2 / 2 (the covariance is fixed, so its determinant is dropped).

Covariance models (below `Chi2`): `FixedCovariance` (a fixed matrix, e.g. Gaussian plus a
fixed trispectrum, `FixedCovariance.with_trispectrum`) and `VaryingCovariance` (Gaussian
plus the trispectrum at the current point, with its log-determinant, gradient and Fisher
term); a likelihood picks one and passes it residuals, Jacobians and the trispectrum.
Their methods share these arguments:

``residual`` : array, shape (n,)
    r = data - model in D_ell x 1e12.
``jacobian`` : array, shape (n, n_theta)
    J = d model / d theta, in D_ell x 1e12 per unit of each theta.
``tll`` : array, shape (n, n)
    The trispectrum at the current point, full sky, in (D_ell x 1e12)^2
    (ignored by `FixedCovariance`).
``dtll`` : array, shape (n_theta, n, n)
    Its derivatives, one slice per column of J (zero for parameters it does not
    depend on), per unit of each theta (ignored by `FixedCovariance`).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

__all__ = [
    "BANDPOWER_FORMAT",
    "BandpowerData",
    "Chi2",
    "DataFormatError",
    "FixedCovariance",
    "NotPositiveDefiniteError",
    "VaryingCovariance",
    "load_bandpowers",
    "read_table",
]

#: The format of ``bandpowers_file``, quoted in error messages.
BANDPOWER_FORMAT = "columns: ell_eff, D_ell x 1e12, sigma [, extra columns]"


class DataFormatError(ValueError):
    """A data file is missing or does not have the documented format."""


def read_table(path: str | os.PathLike, *, min_columns: int = 1, n_columns: int | None = None,
               expected: str = "") -> np.ndarray:
    """Read a white-space separated numeric table (``#`` starts a comment).

    Checks, with the file name and 1-based line number in every message: that
    the file exists, that every entry is a finite number, that every row has
    the same number of columns, and that this number is ``n_columns`` (if
    given) or at least ``min_columns``.

    Parameters
    ----------
    path : str or path
        The file.
    min_columns : int
        Fewest columns accepted (when ``n_columns`` is None).
    n_columns : int, optional
        Exact number of columns required.
    expected : str
        Description of the format, appended to every error message.

    Returns
    -------
    numpy.ndarray, shape (n_rows, n_columns)
        The values as floats, in the file's units.

    Raises
    ------
    DataFormatError
        On any of the problems above.
    """
    hint = f" Expected format: {expected}." if expected else ""
    if not os.path.isfile(path):
        raise DataFormatError(f"Data file not found: '{path}'.{hint}")
    rows = []
    width = None
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            words = text.split()
            try:
                values = [float(word) for word in words]
            except ValueError:
                bad = next(w for w in words if not _is_float(w))
                raise DataFormatError(
                    f"'{path}', line {number}: non-numeric entry '{bad}'.{hint}"
                ) from None
            if not all(np.isfinite(values)):
                raise DataFormatError(
                    f"'{path}', line {number}: non-finite entry.{hint}"
                )
            if width is None:
                width = len(values)
                if (n_columns is not None and width != n_columns) or width < min_columns:
                    want = n_columns if n_columns is not None else f"at least {min_columns}"
                    raise DataFormatError(
                        f"'{path}', line {number}: {width} columns, expected {want}.{hint}"
                    )
            elif len(values) != width:
                raise DataFormatError(
                    f"'{path}', line {number}: {len(values)} columns, but earlier rows "
                    f"have {width}.{hint}"
                )
            rows.append(values)
    if not rows:
        raise DataFormatError(f"'{path}': no data rows.{hint}")
    return np.array(rows, dtype=float)


def _is_float(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class BandpowerData:
    """Selected bins of a bandpower data set (what `load_bandpowers` returns).

    Attributes
    ----------
    ell : numpy.ndarray, shape (n,)
        Effective multipoles.
    d, sigma : numpy.ndarray, shape (n,)
        Data and their errors in D_ell x 1e12.
    cov : numpy.ndarray, shape (n, n)
        Covariance in (D_ell x 1e12)^2.
    templates : dict
        Foreground amplitude name -> its template (D_ell x 1e12 at unit amplitude).
    selection : numpy.ndarray of bool
        The row mask applied to the files.
    """

    ell: np.ndarray
    d: np.ndarray
    sigma: np.ndarray
    cov: np.ndarray
    templates: dict = field(default_factory=dict)
    selection: np.ndarray = None


def load_bandpowers(
    folder: str | os.PathLike,
    bandpowers_file: str = "bandpowers.txt",
    *,
    covariance_file: str | None = None,
    trispectrum_file: str | None = None,
    f_sky: float | None = None,
    foregrounds: Mapping[str, str | dict] | None = None,
    ell_min: float | None = None,
    ell_max: float | None = None,
) -> BandpowerData:
    """Load a bandpower data set from ``folder`` (format in the module docstring).

    Parameters
    ----------
    folder : str or path
        The data folder; the file names below are relative to it.
    bandpowers_file : str
        Columns ell_eff, D_ell x 1e12, sigma [, extra columns].
    covariance_file : str, optional
        N x N covariance in (D_ell x 1e12)^2; None: diag(sigma^2).
    trispectrum_file : str, optional
        N x N full-sky trispectrum in (D_ell x 1e12)^2, added as T / (4 pi f_sky).
    f_sky : float, optional
        Sky fraction, 0 < f_sky <= 1; required with ``trispectrum_file``.
    foregrounds : mapping, optional
        Amplitude name -> template file name or ``{file: ..., column: k}``.
    ell_min, ell_max : float, optional
        Keep the bins with ell_min <= ell_eff <= ell_max (None: no bound).

    Returns
    -------
    BandpowerData

    Raises
    ------
    DataFormatError
        Naming the file, line and expected format, on any problem.
    """
    if not os.path.isdir(folder):
        raise DataFormatError(f"Data folder not found: '{folder}'.")
    path = os.path.join(folder, bandpowers_file)
    table = read_table(path, min_columns=3, expected=BANDPOWER_FORMAT)
    ell, d, sigma = table[:, 0], table[:, 1], table[:, 2]
    n = len(ell)
    if np.any(ell <= 0) or np.any(np.diff(ell) <= 0):
        raise DataFormatError(f"'{path}': ell_eff (column 1) must be positive and increasing.")
    if np.any(sigma <= 0):
        row = int(np.argmax(sigma <= 0))
        raise DataFormatError(f"'{path}', data row {row + 1}: sigma (column 3) must be > 0.")

    if covariance_file:
        cov = _read_square(os.path.join(folder, covariance_file), n, "covariance")
    else:
        cov = np.diag(sigma**2)
    if trispectrum_file:
        if f_sky is None or not 0 < f_sky <= 1:
            raise DataFormatError(
                f"A trispectrum file needs 0 < f_sky <= 1; got f_sky = {f_sky!r}."
            )
        tri = _read_square(os.path.join(folder, trispectrum_file), n, "trispectrum")
        cov = cov + tri / (4 * np.pi * f_sky)

    templates = {}
    for name, spec in (foregrounds or {}).items():
        templates[name] = _read_template(folder, name, spec, ell)

    lo = -np.inf if ell_min is None else ell_min
    hi = np.inf if ell_max is None else ell_max
    keep = (ell >= lo) & (ell <= hi)
    if not np.any(keep):
        raise DataFormatError(
            f"'{path}': no bin with {lo} <= ell_eff <= {hi} (ell_eff spans {ell[0]}..{ell[-1]})."
        )
    return BandpowerData(
        ell=ell[keep],
        d=d[keep],
        sigma=sigma[keep],
        cov=cov[np.ix_(keep, keep)],
        templates={k: v[keep] for k, v in templates.items()},
        selection=keep,
    )


def _read_square(path: str, n: int, what: str) -> np.ndarray:
    expected = f"{n} x {n} {what} matrix, one row per line, in (D_ell x 1e12)^2"
    matrix = read_table(path, n_columns=n, expected=expected)
    if matrix.shape != (n, n):
        raise DataFormatError(f"'{path}': {matrix.shape[0]} rows, expected {n}. {expected}.")
    return matrix


def _read_template(folder: str, name: str, spec: str | dict, ell: np.ndarray) -> np.ndarray:
    if isinstance(spec, str):
        file, column = spec, 2
    elif isinstance(spec, dict) and set(spec) <= {"file", "column"} and "file" in spec:
        file, column = spec["file"], spec.get("column", 2)
    else:
        raise DataFormatError(
            f"Foreground '{name}': give a file name or {{file: ..., column: k}}; got {spec!r}."
        )
    if not isinstance(column, int) or column < 2:
        raise DataFormatError(
            f"Foreground '{name}': column must be an integer >= 2 (1-based); got {column!r}."
        )
    path = os.path.join(folder, file)
    expected = "column 1 ell_eff as in the bandpower file, template D_ell x 1e12 in column k"
    table = read_table(path, min_columns=column, expected=expected)
    if len(table) != len(ell) or not np.allclose(table[:, 0], ell, rtol=1e-6, atol=0):
        raise DataFormatError(
            f"'{path}': column 1 must list the same ell_eff as the bandpower file "
            f"({len(ell)} rows); foreground '{name}'."
        )
    return table[:, column - 1]


class NotPositiveDefiniteError(ValueError):
    """A covariance (at some point of a parameter-dependent model) is not positive definite."""


def _cholesky(cov: np.ndarray, label: str) -> tuple[np.ndarray, bool]:
    """Lower Cholesky factor of ``cov`` (scipy ``cho_factor`` form); raises
    `NotPositiveDefiniteError` naming ``label`` and the smallest eigenvalue."""
    try:
        return scipy.linalg.cho_factor(cov, lower=True)
    except np.linalg.LinAlgError:
        raise NotPositiveDefiniteError(
            f"{label}: covariance is not positive definite "
            f"(smallest eigenvalue {np.linalg.eigvalsh(cov)[0]:.3g})."
        ) from None


class Chi2:
    """chi^2 = r^T Cov^-1 r for a fixed covariance.

    Parameters
    ----------
    cov : array, shape (n, n)
        Covariance in (D_ell x 1e12)^2; `DataFormatError` unless it is symmetric (to
        1e-10 relative) and positive definite.
    label : str
        Its origin, named in error messages.
    """

    def __init__(self, cov: ArrayLike, label: str = "covariance") -> None:
        cov = np.asarray(cov, dtype=float)
        scale = np.max(np.abs(cov))
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
            raise DataFormatError(f"{label}: not a square matrix (shape {cov.shape}).")
        if not np.allclose(cov, cov.T, rtol=0, atol=1e-10 * scale):
            raise DataFormatError(f"{label}: covariance is not symmetric.")
        try:
            factor = _cholesky(cov, label)
        except NotPositiveDefiniteError as excpt:
            raise DataFormatError(str(excpt)) from None
        self.cov = cov
        self.inverse = scipy.linalg.cho_solve(factor, np.eye(len(cov)))
        self.inverse = 0.5 * (self.inverse + self.inverse.T)

    def __call__(self, residual: ArrayLike) -> float:
        """chi^2 of a residual vector.

        Parameters
        ----------
        residual : array, shape (n,)
            data - model in D_ell x 1e12.

        Returns
        -------
        float
            chi^2 (dimensionless).
        """
        return float(residual @ self.inverse @ residual)

    def logp_gradient(self, residual: ArrayLike, jacobian: ArrayLike) -> np.ndarray:
        """d ln L / d theta = r^T Cov^-1 J for ln L = -chi^2/2.

        Parameters
        ----------
        residual, jacobian : array
            r = data - model (n,) and J = d model / d theta (n, n_theta), in the units
            of the data (per unit of each theta).

        Returns
        -------
        numpy.ndarray, shape (n_theta,)
            Per unit of each theta.
        """
        return np.asarray(residual @ self.inverse @ jacobian, dtype=float)

    def fisher(self, jacobian: ArrayLike) -> np.ndarray:
        """Fisher matrix J^T Cov^-1 J: -d^2 ln L / d theta^2 for a linear model.

        Parameters
        ----------
        jacobian : array, shape (n, n_theta)
            J, as for `logp_gradient`.

        Returns
        -------
        numpy.ndarray, shape (n_theta, n_theta)
            Per unit of each pair of thetas.
        """
        jacobian = np.asarray(jacobian, dtype=float)
        return jacobian.T @ self.inverse @ jacobian


# ---------------------------------------------------------------- covariance models
#
# A covariance model turns residuals and model Jacobians into ln L, its gradient and its
# Fisher matrix (arguments in the module docstring).


class FixedCovariance:
    """Gaussian likelihood with a fixed covariance: ln L = -chi^2 / 2.

    The determinant of the covariance is constant and dropped.

    Parameters
    ----------
    cov, label : as for `Chi2`
    """

    varying = False

    def __init__(self, cov: ArrayLike, label: str = "covariance") -> None:
        self.chi2 = Chi2(cov, label=label)

    @classmethod
    def with_trispectrum(cls, gaussian_cov: ArrayLike, tll: ArrayLike, f_sky: float,
                         label: str = "covariance") -> "FixedCovariance":
        """Gaussian + fixed trispectrum: Cov = gaussian_cov + tll / (4 pi f_sky).

        Parameters
        ----------
        gaussian_cov : array, shape (n, n)
            Gaussian part in (D_ell x 1e12)^2.
        tll : array, shape (n, n)
            Full-sky trispectrum in (D_ell x 1e12)^2.
        f_sky : float
            Sky fraction, 0 < f_sky <= 1.
        label : str
            Origin, for error messages.

        Returns
        -------
        FixedCovariance
        """
        return cls(np.asarray(gaussian_cov) + np.asarray(tll) / (4 * np.pi * f_sky), label=label)

    @property
    def cov(self) -> np.ndarray:
        """The covariance (n, n) in (D_ell x 1e12)^2."""
        return self.chi2.cov

    def covariance(self, tll: ArrayLike | None = None) -> np.ndarray:
        """The covariance.

        Parameters
        ----------
        tll : array, optional
            Ignored (fixed).

        Returns
        -------
        numpy.ndarray, shape (n, n)
            In (D_ell x 1e12)^2.
        """
        return self.chi2.cov

    def logp(self, residual: ArrayLike, tll: ArrayLike | None = None) -> float:
        """ln L = -r^T Cov^-1 r / 2.

        Parameters
        ----------
        residual, tll : array
            See the module docstring (``tll`` ignored).

        Returns
        -------
        float
            ln L (dimensionless).
        """
        return -0.5 * self.chi2(residual)

    def logp_gradient(self, residual: ArrayLike, jacobian: ArrayLike, tll: ArrayLike | None = None,
                      dtll: ArrayLike | None = None) -> np.ndarray:
        """d ln L / d theta = r^T Cov^-1 J.

        Parameters
        ----------
        residual, jacobian, tll, dtll : array
            See the module docstring (``tll``, ``dtll`` ignored).

        Returns
        -------
        numpy.ndarray, shape (n_theta,)
            Per unit of each theta.
        """
        return self.chi2.logp_gradient(residual, jacobian)

    def fisher(self, jacobian: ArrayLike, tll: ArrayLike | None = None,
               dtll: ArrayLike | None = None) -> np.ndarray:
        """Fisher matrix J^T Cov^-1 J.

        Parameters
        ----------
        jacobian, tll, dtll : array
            See the module docstring (``tll``, ``dtll`` ignored).

        Returns
        -------
        numpy.ndarray, shape (n_theta, n_theta)
            Per unit of each pair of thetas.
        """
        return self.chi2.fisher(jacobian)


class _Factorised(NamedTuple):
    """A covariance at one point with its Cholesky factor, inverse and ln det."""

    tll: np.ndarray
    cov: np.ndarray
    factor: tuple
    inverse: np.ndarray
    ln_det: float


class VaryingCovariance:
    """Gaussian likelihood whose covariance follows the parameters through the trispectrum.

    Cov(theta) = G + T(theta) / (4 pi f_sky) and

        ln L = -[r^T Cov^-1 r + ln det Cov - ln det G] / 2

    (ln det G, a constant, is subtracted so that values stay comparable to chi^2).
    The covariance is factorised once per point: `logp`, `logp_gradient` and `fisher`
    at the same ``tll`` share one Cholesky factorisation.

    Parameters
    ----------
    gaussian_cov : array, shape (n, n)
        G in (D_ell x 1e12)^2 (positive definite).
    f_sky : float
        Sky fraction, 0 < f_sky <= 1.
    label : str
        Origin, for error messages.
    """

    varying = True

    def __init__(self, gaussian_cov: ArrayLike, f_sky: float, label: str = "covariance") -> None:
        self.gaussian = FixedCovariance(gaussian_cov, label=label)
        self.f_sky = float(f_sky)
        self.label = label
        self.ln_det_gaussian = float(np.linalg.slogdet(self.gaussian.cov)[1])
        self._last = None
        self.n_factorisations = 0

    def at(self, tll: ArrayLike) -> _Factorised:
        """The covariance at trispectrum ``tll``, factorised (cached for the last ``tll``).

        Parameters
        ----------
        tll : array, shape (n, n)
            See the module docstring.

        Returns
        -------
        _Factorised
            The covariance (in (D_ell x 1e12)^2), its Cholesky factor, inverse and ln det.

        Raises
        ------
        NotPositiveDefiniteError
            If the covariance is not positive definite.
        """
        tll = np.asarray(tll, dtype=float)
        if self._last is not None and np.array_equal(self._last.tll, tll):
            return self._last
        cov = self.covariance(tll)
        factor = _cholesky(cov, self.label)
        self.n_factorisations += 1
        inverse = scipy.linalg.cho_solve(factor, np.eye(len(cov)))
        ln_det = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
        self._last = _Factorised(tll.copy(), cov, factor, inverse, ln_det)
        return self._last

    def covariance(self, tll: ArrayLike) -> np.ndarray:
        """G + tll / (4 pi f_sky) (not factorised).

        Parameters
        ----------
        tll : array, shape (n, n)
            As for `at`.

        Returns
        -------
        numpy.ndarray, shape (n, n)
            In (D_ell x 1e12)^2.
        """
        return self.gaussian.cov + np.asarray(tll, dtype=float) / (4 * np.pi * self.f_sky)

    def logp(self, residual: ArrayLike, tll: ArrayLike | None = None) -> float:
        """ln L at the point with trispectrum ``tll``.

        Parameters
        ----------
        residual, tll : array
            See the module docstring; ``tll`` is required.

        Returns
        -------
        float
            ln L = -[r^T Cov^-1 r + ln det Cov - ln det G] / 2 (dimensionless).
        """
        point = self.at(tll)
        chi2 = float(residual @ scipy.linalg.cho_solve(point.factor, residual))
        return -0.5 * (chi2 + point.ln_det - self.ln_det_gaussian)

    def _dcov(self, dtll: ArrayLike) -> np.ndarray:
        return np.asarray(dtll, dtype=float) / (4 * np.pi * self.f_sky)

    def logp_gradient(self, residual: ArrayLike, jacobian: ArrayLike, tll: ArrayLike | None = None,
                      dtll: ArrayLike | None = None) -> np.ndarray:
        """d ln L / d theta = r^T C^-1 J + r^T C^-1 dC C^-1 r / 2 - tr(C^-1 dC) / 2.

        Parameters
        ----------
        residual, jacobian, tll, dtll : array
            See the module docstring (all required).

        Returns
        -------
        numpy.ndarray, shape (n_theta,)
            Per unit of each theta.
        """
        point = self.at(tll)
        cinv_r = scipy.linalg.cho_solve(point.factor, residual)
        dcov = self._dcov(dtll)
        grad = np.asarray(jacobian).T @ cinv_r
        grad = grad + 0.5 * np.einsum("i,pij,j->p", cinv_r, dcov, cinv_r)
        return grad - 0.5 * np.einsum("pij,ji->p", dcov, point.inverse)

    def fisher(self, jacobian: ArrayLike, tll: ArrayLike | None = None,
               dtll: ArrayLike | None = None) -> np.ndarray:
        """Fisher matrix J^T C^-1 J + tr(C^-1 dC_a C^-1 dC_b) / 2.

        Parameters
        ----------
        jacobian, tll, dtll : array
            See the module docstring (all required).

        Returns
        -------
        numpy.ndarray, shape (n_theta, n_theta)
            Per unit of each pair of thetas.
        """
        point = self.at(tll)
        jacobian = np.asarray(jacobian, dtype=float)
        cinv_dcov = np.einsum("ij,pjk->pik", point.inverse, self._dcov(dtll))
        return jacobian.T @ point.inverse @ jacobian + 0.5 * np.einsum("aij,bji->ab", cinv_dcov, cinv_dcov)
