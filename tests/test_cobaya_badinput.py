"""Configuration mistakes raise LoggedError at initialisation, naming file/line/option."""

import os
import shutil

import numpy as np
import pytest
from cobaya.log import LoggedError
from cobaya.model import get_model

from cobaya_szlite.bandpowers import DataFormatError, check_covariance, read_table

from cobaya_fixtures import LIKE, THEORY, mock_folder, simple_info


@pytest.fixture
def folder(tmp_path):
    """A writable copy of the test mock."""
    for name in os.listdir(mock_folder()):
        shutil.copy(os.path.join(mock_folder(), name), tmp_path / name)
    return tmp_path


def _build(like_options=None, **kwargs):
    return get_model(simple_info(like_options=like_options, **kwargs))


def _rewrite(path, edit):
    lines = path.read_text().splitlines()
    path.write_text("\n".join(edit(lines)) + "\n")


@pytest.mark.slow
def test_missing_folder(tmp_path):
    missing = str(tmp_path / "nowhere")
    with pytest.raises(LoggedError, match=f"Data folder not found: '{missing}'"):
        _build({"data_folder": missing})


@pytest.mark.slow
def test_missing_file(folder):
    with pytest.raises(LoggedError, match=r"not found: '.*nofile\.txt'.*Expected format: columns: ell_eff"):
        _build({"data_folder": str(folder), "bandpowers_file": "nofile.txt"})
    with pytest.raises(LoggedError, match=r"not found: '.*nocov\.txt'"):
        _build({"data_folder": str(folder), "covariance_file": "nocov.txt"})


def test_too_few_columns(folder):
    path = folder / "bandpowers_noiseless.txt"
    _rewrite(path, lambda lines: [" ".join(line.split()[:2]) if not line.startswith("#") else line
                                  for line in lines])
    with pytest.raises(LoggedError, match=r"bandpowers_noiseless\.txt', line 2: 2 columns, expected at least 3"):
        _build({"data_folder": str(folder)})


def test_ragged_columns(folder):
    path = folder / "bandpowers_noiseless.txt"
    _rewrite(path, lambda lines: lines[:5] + [lines[5] + " 1.0"] + lines[6:])
    with pytest.raises(LoggedError, match=r"line 6: 4 columns, but earlier rows have 3"):
        _build({"data_folder": str(folder)})


def test_non_numeric_entry_names_the_line(folder):
    path = folder / "bandpowers_noiseless.txt"
    _rewrite(path, lambda lines: lines[:7] + [lines[7].replace(lines[7].split()[1], "0.1x")] + lines[8:])
    with pytest.raises(LoggedError, match=r"bandpowers_noiseless\.txt', line 8: non-numeric entry '0\.1x'"):
        _build({"data_folder": str(folder)})
    path.write_text("# ell D sigma\n10 nan 1\n")
    with pytest.raises(LoggedError, match=r"line 2: non-finite"):
        _build({"data_folder": str(folder)})


def test_bad_ell_or_sigma(folder):
    path = folder / "bandpowers_noiseless.txt"
    table = np.loadtxt(path)
    np.savetxt(path, table[::-1])
    with pytest.raises(LoggedError, match="positive and increasing"):
        _build({"data_folder": str(folder)})
    table[3, 2] = 0
    np.savetxt(path, table)
    with pytest.raises(LoggedError, match=r"data row 4: sigma \(column 3\) must be > 0"):
        _build({"data_folder": str(folder)})


def test_covariance_not_spd(folder):
    cov = np.loadtxt(folder / "covariance.txt")
    bad = cov.copy()
    bad[0, 0] = -bad[0, 0]
    np.savetxt(folder / "bad.txt", bad)
    with pytest.raises(LoggedError, match=r"bad\.txt.*not positive definite"):
        _build({"data_folder": str(folder), "covariance_file": "bad.txt"})
    asym = cov.copy()
    asym[0, 1] = 0.5 * np.sqrt(cov[0, 0] * cov[1, 1])
    np.savetxt(folder / "asym.txt", asym)
    with pytest.raises(LoggedError, match=r"asym\.txt.*not symmetric"):
        _build({"data_folder": str(folder), "covariance_file": "asym.txt"})
    np.savetxt(folder / "small.txt", cov[:5, :5])
    with pytest.raises(LoggedError, match=r"small\.txt', line 1: 5 columns, expected 20"):
        _build({"data_folder": str(folder), "covariance_file": "small.txt"})
    np.savetxt(folder / "short.txt", cov[:5])
    with pytest.raises(LoggedError, match=r"short\.txt': 5 rows, expected 20"):
        _build({"data_folder": str(folder), "covariance_file": "short.txt"})


def test_trispectrum_needs_f_sky(folder):
    with pytest.raises(LoggedError, match="f_sky"):
        _build({"data_folder": str(folder), "trispectrum_file": "covariance.txt"})


def test_ell_outside_theory_range():
    with pytest.raises(LoggedError, match=r"outside this theory's range \[ell_min, ell_max\] = \[2, 1000\]"):
        _build(theory_options={"ell_max": 1000})


def test_no_bins_selected():
    with pytest.raises(LoggedError, match="no bin with 5000"):
        _build({"ell_min": 5000})


def test_unknown_options():
    with pytest.raises(LoggedError, match="bandpower_file"):
        _build({"bandpower_file": "x.txt"})
    with pytest.raises(LoggedError, match="precison"):
        _build(theory_options={"precison": {}})
    with pytest.raises(LoggedError, match=r"Unknown precision setting\(s\) \['nz'\]"):
        _build(theory_options={"precision": {"nz": 41}})
    with pytest.raises(LoggedError, match=r"Invalid 'precision'.*n_z"):
        _build(theory_options={"precision": {"n_z": 40}})
    for bad in (True, 3):
        with pytest.raises(LoggedError, match=r"Option 'covariance_file' must be a file name.*got"):
            _build({"covariance_file": bad})


def test_foreground_mistakes(folder):
    ell = np.loadtxt(folder / "bandpowers_noiseless.txt")[:, 0]
    np.savetxt(folder / "fg.txt", np.column_stack([ell, np.ones_like(ell)]))
    np.savetxt(folder / "fg_short.txt", np.column_stack([ell[:-1], np.ones(len(ell) - 1)]))
    with pytest.raises(LoggedError, match=r"\['A_fg'\] have no parameter"):
        _build({"data_folder": str(folder), "foregrounds": {"A_fg": "fg.txt"}})
    with pytest.raises(LoggedError, match=r"fg_short\.txt': column 1 must list the same ell_eff"):
        _build({"data_folder": str(folder), "foregrounds": {"A_fg": "fg_short.txt"}})
    with pytest.raises(LoggedError, match=r"fg\.txt', line 1: 2 columns, expected at least 3"):
        _build({"data_folder": str(folder), "foregrounds": {"A_fg": {"file": "fg.txt", "column": 3}}})
    with pytest.raises(LoggedError, match="give a file name"):
        _build({"data_folder": str(folder), "foregrounds": {"A_fg": 3}})


def test_framework_free_reader(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("# comment\n1 2 3  # trailing\n\n4 5 6\n")
    np.testing.assert_array_equal(read_table(str(path), n_columns=3), [[1, 2, 3], [4, 5, 6]])
    path.write_text("# only a comment\n")
    with pytest.raises(DataFormatError, match="no data rows"):
        read_table(str(path))
    check_covariance(np.diag([4.0, 9.0]))
    with pytest.raises(DataFormatError, match="not symmetric"):
        check_covariance(np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(DataFormatError, match="smallest eigenvalue -1"):
        check_covariance(np.diag([4.0, -1.0]), "my covariance")


def test_theory_name_is_importable():
    import cobaya_szlite

    assert cobaya_szlite.SZTheory.__name__ == THEORY.split(".")[1]
    assert cobaya_szlite.TSZBandpowers.__name__ == LIKE.split(".")[1]
