"""Bandpower data sets: reading and checking the files, free of Cobaya and JAX.

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

ln L and its derivatives: `cobaya_szlite.likelihood_math.bandpowers` (JAX). This module
reads and checks the files (NumPy; at initialisation only).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "BANDPOWER_FORMAT",
    "BandpowerData",
    "DataFormatError",
    "check_covariance",
    "load_bandpowers",
    "not_positive_definite",
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


def not_positive_definite(cov: ArrayLike, label: str) -> str:
    """The message for a covariance that is not positive definite (names ``label`` and the
    smallest eigenvalue)."""
    return f"{label}: covariance is not positive definite (smallest eigenvalue {np.linalg.eigvalsh(cov)[0]:.3g})."


def check_covariance(cov: ArrayLike, label: str = "covariance") -> None:
    """Raise `DataFormatError` unless ``cov`` is square, symmetric (to 1e-10 relative) and
    positive definite.

    Parameters
    ----------
    cov : array, shape (n, n)
        Covariance in (D_ell x 1e12)^2.
    label : str
        Its origin, named in the message.
    """
    cov = np.asarray(cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise DataFormatError(f"{label}: not a square matrix (shape {cov.shape}).")
    if not np.allclose(cov, cov.T, rtol=0, atol=1e-10 * np.max(np.abs(cov))):
        raise DataFormatError(f"{label}: covariance is not symmetric.")
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise DataFormatError(not_positive_definite(cov, label)) from None
