"""`cobaya-install cobaya_szlite.Planck2015TSZ`: pinned downloads, checksums, offline sources.

No test touches the network: the pinned URLs are checked against the checksums of the
files in hand (COBAYA_SZLITE_PLANCK2015_DATA, skipped without it), and the download path
is exercised on fake trees served as file:// URLs: a mirror of the raw GitHub tree at the
pinned commits, a flat folder with the upstream names, one with the installed names.
"""

import os
import pathlib
import re
import stat

import pytest
from cobaya.log import LoggedError

from cobaya_szlite import planck2015_files
from cobaya_szlite.planck2015 import Planck2015TSZ
from cobaya_szlite.planck2015_files import FILES, SOURCE_ENV, sha256

from cobaya_fixtures import PLANCK_FOLDER, needs_planck_data


def _contents():
    """Installed name -> bytes, from the folder of files in hand."""
    return {f.name: pathlib.Path(PLANCK_FOLDER, f.name).read_bytes() for f in FILES}


def _tree(root, layout, contents):
    """Write ``contents`` below ``root`` under the names of ``layout``: "installed",
    "upstream" (flat) or "mirror" (<owner>/<repo>/<commit>/<path>)."""
    for data_file in FILES:
        relative = {
            "installed": data_file.name,
            "upstream": data_file.upstream_name,
            "mirror": f"{data_file.repository}/{data_file.commit}/{data_file.path}",
        }[layout]
        path = pathlib.Path(root, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(contents[data_file.name])
    return root


def test_downloads_are_pinned_to_commits():
    """Every URL names a full commit hash of its repository, never a branch."""
    for data_file in FILES:
        assert re.fullmatch(r"[0-9a-f]{40}", data_file.commit), data_file
        assert data_file.url == (f"https://raw.githubusercontent.com/{data_file.repository}/"
                                 f"{data_file.commit}/{data_file.path}")
        assert "/master/" not in data_file.url and "/main/" not in data_file.url
    assert len({f.name for f in FILES}) == len({f.upstream_name for f in FILES}) == len(FILES)


@needs_planck_data
def test_recorded_checksums_are_those_of_the_files_in_hand():
    """The recorded SHA-256 of each pinned file equals that of the copy in hand (the files
    of class_sz and SOLikeT at the pinned commits, under their installed names)."""
    wrong = {f.name: (sha256(os.path.join(PLANCK_FOLDER, f.name)), f.sha256) for f in FILES
             if sha256(os.path.join(PLANCK_FOLDER, f.name)) != f.sha256}
    assert not wrong, f"checksums differ (in hand, recorded): {wrong}"


@needs_planck_data
@pytest.mark.parametrize("layout", ["mirror", "upstream", "installed"])
def test_install_from_fake_trees(tmp_path, monkeypatch, layout):
    """`cobaya.install.install` copies from each layout (the mirror through the pinned
    paths), the files are the same bytes, readable by others, and `is_installed` holds."""
    from cobaya.install import install

    source = _tree(tmp_path / "source", layout, _contents())
    monkeypatch.setenv(SOURCE_ENV, source.as_uri())
    packages = tmp_path / "packages"
    assert not Planck2015TSZ.is_installed(path=str(packages))
    install({"likelihood": {"cobaya_szlite.Planck2015TSZ": None}}, path=str(packages),
            no_progress_bars=True, no_set_global=True)
    assert Planck2015TSZ.is_installed(path=str(packages))
    folder = packages / "data" / "planck2015_tsz"
    for data_file in FILES:
        installed = folder / data_file.name
        assert installed.read_bytes() == pathlib.Path(PLANCK_FOLDER, data_file.name).read_bytes()
        assert installed.stat().st_mode & stat.S_IROTH, f"{installed} is not readable by others"


@needs_planck_data
def test_pinned_urls_through_a_fake_raw_root(tmp_path, monkeypatch):
    """With no source, `install` reads exactly the pinned URLs (the raw root replaced by a
    file:// mirror of it)."""
    root = _tree(tmp_path / "raw", "mirror", _contents())
    monkeypatch.setattr(planck2015_files, "RAW_ROOT", root.as_uri())
    monkeypatch.delenv(SOURCE_ENV, raising=False)
    assert Planck2015TSZ.install(path=str(tmp_path / "packages"))
    assert Planck2015TSZ.is_installed(path=str(tmp_path / "packages"))


def test_checksum_mismatch_is_refused(tmp_path, caplog):
    """A file that is not the recorded one is not installed; the error names the file,
    the URL and both checksums (and, as the source was given, no offline advice)."""
    source = _tree(tmp_path / "source", "upstream", {f.name: b"not the data\n" for f in FILES})
    assert Planck2015TSZ.install(path=str(tmp_path / "packages"), source=str(source)) is False
    first = FILES[0]
    message = caplog.text
    assert first.name in message and first.sha256 in message and "Replace it with that file" in message
    assert SOURCE_ENV not in message
    assert (source / first.upstream_name).as_uri() in message
    assert not (tmp_path / "packages" / "data" / "planck2015_tsz" / first.name).exists()


def test_unreachable_source_names_urls_and_offline_variable(tmp_path, monkeypatch, caplog):
    """Nothing to copy (a missing folder; an unreachable raw root standing in for no
    network): False, with the file, every URL tried and the offline variable in the log;
    the likelihood then refuses to start and says how to install."""
    assert Planck2015TSZ.install(path=str(tmp_path), source=str(tmp_path / "nonexistent")) is False
    assert "SZ_and_fg_models.txt" in caplog.text and str(tmp_path / "nonexistent") in caplog.text
    caplog.clear()
    monkeypatch.delenv(SOURCE_ENV, raising=False)
    monkeypatch.setattr(planck2015_files, "RAW_ROOT", (tmp_path / "offline").as_uri())
    assert Planck2015TSZ.install(path=str(tmp_path), no_progress_bars=True) is False
    assert FILES[0].path in caplog.text and SOURCE_ENV in caplog.text
    from cobaya.model import get_model

    with pytest.raises(LoggedError, match="cobaya-install"):
        get_model({"likelihood": {"cobaya_szlite.Planck2015TSZ": {"trispectrum": "none"}},
                   "theory": {"cobaya_szlite.SZTheory": None}, "packages_path": str(tmp_path / "empty")})


def test_modified_installed_file_is_not_installed(tmp_path):
    """`is_installed` checks the checksums: an edited file makes cobaya-install copy again."""
    folder = tmp_path / "data" / "planck2015_tsz"
    folder.mkdir(parents=True)
    for data_file in FILES:
        (folder / data_file.name).write_bytes(b"edited\n")
    assert planck2015_files.file_problems(str(folder)) == {f.name: "modified" for f in FILES}
    assert not Planck2015TSZ.is_installed(path=str(tmp_path))
