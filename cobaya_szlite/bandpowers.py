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
"""

import os
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.linalg

__all__ = [
    "BandpowerData",
    "Chi2",
    "DataFormatError",
    "FixedCovariance",
    "NotPositiveDefiniteError",
    "VaryingCovariance",
    "load_bandpowers",
    "read_table",
]

BANDPOWER_FORMAT = "columns: ell_eff, D_ell x 1e12, sigma [, extra columns]"


class DataFormatError(ValueError):
    """A data file is missing or does not have the documented format."""


def read_table(path, *, min_columns=1, n_columns=None, expected=""):
    """Read a white-space separated numeric table into a 2-D float array.

    Checks, with the file name and 1-based line number in every message: that
    the file exists, that every entry is a finite number, that every row has
    the same number of columns, and that this number is ``n_columns`` (if
    given) or at least ``min_columns``. ``expected`` describes the format.
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


def _is_float(word):
    try:
        float(word)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class BandpowerData:
    """Selected bins of a bandpower data set.

    ``ell`` effective multipoles; ``d`` data and ``sigma`` errors in
    D_ell x 1e12; ``cov`` the covariance in (D_ell x 1e12)^2; ``templates``
    maps each foreground amplitude name to its template (D_ell x 1e12 at unit
    amplitude); ``selection`` the boolean row mask applied to the files.
    """

    ell: np.ndarray
    d: np.ndarray
    sigma: np.ndarray
    cov: np.ndarray
    templates: dict = field(default_factory=dict)
    selection: np.ndarray = None


def load_bandpowers(
    folder,
    bandpowers_file="bandpowers.txt",
    *,
    covariance_file=None,
    trispectrum_file=None,
    f_sky=None,
    foregrounds=None,
    ell_min=None,
    ell_max=None,
):
    """Load a bandpower data set from ``folder`` (format in the module docstring).

    Returns a `BandpowerData`; raises `DataFormatError` naming the file, line
    and expected format on any problem.
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


def _read_square(path, n, what):
    expected = f"{n} x {n} {what} matrix, one row per line, in (D_ell x 1e12)^2"
    matrix = read_table(path, n_columns=n, expected=expected)
    if matrix.shape != (n, n):
        raise DataFormatError(f"'{path}': {matrix.shape[0]} rows, expected {n}. {expected}.")
    return matrix


def _read_template(folder, name, spec, ell):
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


def _cholesky(cov, label):
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

    Raises `DataFormatError` unless ``cov`` is symmetric (to 1e-10 relative)
    and positive definite; ``label`` names its origin in the message.
    """

    def __init__(self, cov, label="covariance"):
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

    def __call__(self, residual):
        """chi^2 of a residual vector (data - model), as a Python float."""
        return float(residual @ self.inverse @ residual)

    def logp_gradient(self, residual, jacobian):
        """d ln L / d theta = r^T Cov^-1 J for ln L = -chi^2/2 (numpy array).

        ``residual`` r = data - model (n,); ``jacobian`` J = d model / d theta
        (n, n_theta), in the units of the data per unit of each theta.
        """
        return np.asarray(residual @ self.inverse @ jacobian, dtype=float)

    def fisher(self, jacobian):
        """Fisher matrix J^T Cov^-1 J (n_theta, n_theta): -d^2 ln L / d theta^2 for a linear model."""
        jacobian = np.asarray(jacobian, dtype=float)
        return jacobian.T @ self.inverse @ jacobian


# ---------------------------------------------------------------- covariance models
#
# A covariance model turns residuals r = data - model (n,) and model Jacobians
# J = d model / d theta (n, n_theta) into ln L, its gradient and its Fisher matrix.
# All take the trispectrum at the current point, ``tll`` (n, n) full-sky in
# (D_ell x 1e12)^2, and its derivatives ``dtll`` (n_theta, n, n, one slice per column
# of J; zero for parameters it does not depend on); the fixed models ignore them.


class FixedCovariance:
    """Gaussian likelihood with a fixed covariance: ln L = -chi^2 / 2.

    Parameters
    ----------
    cov : array, shape (n, n)
        Covariance in (D_ell x 1e12)^2 (symmetric, positive definite, else
        `DataFormatError`). Its determinant is constant and dropped.
    label : str
        Its origin, for error messages.
    """

    varying = False

    def __init__(self, cov, label="covariance"):
        self.chi2 = Chi2(cov, label=label)

    @classmethod
    def with_trispectrum(cls, gaussian_cov, tll, f_sky, label="covariance"):
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
        """
        return cls(np.asarray(gaussian_cov) + np.asarray(tll) / (4 * np.pi * f_sky), label=label)

    @property
    def cov(self):
        """The covariance (n, n)."""
        return self.chi2.cov

    def covariance(self, tll=None):
        """The covariance (n, n) (``tll`` ignored: fixed)."""
        return self.chi2.cov

    def logp(self, residual, tll=None):
        """ln L = -r^T Cov^-1 r / 2 (Python float)."""
        return -0.5 * self.chi2(residual)

    def logp_gradient(self, residual, jacobian, tll=None, dtll=None):
        """d ln L / d theta = r^T Cov^-1 J, shape (n_theta,)."""
        return self.chi2.logp_gradient(residual, jacobian)

    def fisher(self, jacobian, tll=None, dtll=None):
        """J^T Cov^-1 J, shape (n_theta, n_theta)."""
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

    def __init__(self, gaussian_cov, f_sky, label="covariance"):
        self.gaussian = FixedCovariance(gaussian_cov, label=label)
        self.f_sky = float(f_sky)
        self.label = label
        self.ln_det_gaussian = float(np.linalg.slogdet(self.gaussian.cov)[1])
        self._last = None
        self.n_factorisations = 0

    def at(self, tll):
        """The covariance at trispectrum ``tll``, factorised (cached for the last ``tll``).

        Raises `NotPositiveDefiniteError` if it is not positive definite.
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

    def covariance(self, tll):
        """G + tll / (4 pi f_sky), shape (n, n) (not factorised)."""
        return self.gaussian.cov + np.asarray(tll, dtype=float) / (4 * np.pi * self.f_sky)

    def logp(self, residual, tll=None):
        """ln L at the point with trispectrum ``tll`` (Python float)."""
        point = self.at(tll)
        chi2 = float(residual @ scipy.linalg.cho_solve(point.factor, residual))
        return -0.5 * (chi2 + point.ln_det - self.ln_det_gaussian)

    def _dcov(self, dtll):
        return np.asarray(dtll, dtype=float) / (4 * np.pi * self.f_sky)

    def logp_gradient(self, residual, jacobian, tll=None, dtll=None):
        """d ln L / d theta (n_theta,): r^T C^-1 J + r^T C^-1 dC C^-1 r / 2 - tr(C^-1 dC) / 2."""
        point = self.at(tll)
        cinv_r = scipy.linalg.cho_solve(point.factor, residual)
        dcov = self._dcov(dtll)
        grad = np.asarray(jacobian).T @ cinv_r
        grad = grad + 0.5 * np.einsum("i,pij,j->p", cinv_r, dcov, cinv_r)
        return grad - 0.5 * np.einsum("pij,ji->p", dcov, point.inverse)

    def fisher(self, jacobian, tll=None, dtll=None):
        """J^T C^-1 J + tr(C^-1 dC_a C^-1 dC_b) / 2, shape (n_theta, n_theta)."""
        point = self.at(tll)
        jacobian = np.asarray(jacobian, dtype=float)
        cinv_dcov = np.einsum("ij,pjk->pik", point.inverse, self._dcov(dtll))
        return jacobian.T @ point.inverse @ jacobian + 0.5 * np.einsum("aij,bji->ab", cinv_dcov, cinv_dcov)
