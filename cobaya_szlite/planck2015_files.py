"""The Planck 2015 tSZ data files: where each one comes from, its checksum, how to copy it.

Each file is pinned to a commit of the public repository that holds it (class_sz,
Bolliet et al. 2018; SOLikeT), so a download gets the same bytes whatever those
repositories do later; the SHA-256 of every copied file is checked against `FILES`.
A copy can also come from a local folder or a URL (``source``) holding the files under
any of three names: the installed name (``class_sz_SZ_and_fg_models.txt``), the upstream
file name (``SZ_and_fg_models.txt``) or the upstream path below a mirror of the raw
GitHub tree (``CLASS-SZ/class_sz/<commit>/sz_auxiliary_files/SZ_and_fg_models.txt``).
Free of Cobaya: `Planck2015TSZ.install` is the Cobaya side.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import posixpath
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import NamedTuple

__all__ = [
    "FILES",
    "RAW_ROOT",
    "SOURCE_ENV",
    "DataFile",
    "InstallError",
    "candidate_urls",
    "copy_file",
    "file_problems",
    "sha256",
]

#: Environment variable: a local folder or URL that `cobaya-install` copies the files from
#: instead of downloading them (any of the three names of the module docstring).
SOURCE_ENV = "COBAYA_SZLITE_PLANCK2015_SOURCE"

#: Root of the raw-file tree of GitHub: ``<root>/<owner>/<repo>/<commit>/<path>``.
RAW_ROOT = "https://raw.githubusercontent.com"

_CLASS_SZ = ("CLASS-SZ/class_sz", "7040877874580ee6d60837f6822169024f47219c")
_SOLIKET = ("simonsobs/SOLikeT", "6096bfc46e6ed84432767caf5c2c147b720ca94c")
_CLASS_SZ_REFERENCE = "sz_auxiliary_files/cobaya_class_sz_likelihoods/cobaya_reference_trispectrum/"


class DataFile(NamedTuple):
    """One data file: its installed name and where, at which commit, it comes from."""

    name: str
    repository: str
    commit: str
    path: str
    sha256: str

    @property
    def upstream_name(self) -> str:
        """The file name in its repository."""
        return posixpath.basename(self.path)

    @property
    def url(self) -> str:
        """The pinned download URL."""
        return f"{RAW_ROOT}/{self.repository}/{self.commit}/{self.path}"


#: Every file `cobaya-install cobaya_szlite.Planck2015TSZ` copies (installed name first).
FILES: tuple[DataFile, ...] = (
    DataFile("class_sz_SZ_and_fg_models.txt", *_CLASS_SZ, "sz_auxiliary_files/SZ_and_fg_models.txt",
             "42a2a058be581a72f5efd80a9147c96636f13ae9be986975c8f3f13368f900dd"),
    DataFile("class_sz_SZ_and_fg_models-high_ell.txt", *_CLASS_SZ,
             "sz_auxiliary_files/SZ_and_fg_models-high_ell.txt",
             "beed433fff04851c5ff137420fb718b316d9f7ea98c0cc8c05ccfaaebb968388"),
    DataFile("class_sz_Planck2015.txt", *_CLASS_SZ, "sz_auxiliary_files/Planck2015.txt",
             "dcb55c176abf5822690a893a5c56588fe2bf687619c368762e8238e69074e55f"),
    DataFile("class_sz_2020_tSZ_c_ell_ref.txt", *_CLASS_SZ, _CLASS_SZ_REFERENCE + "tSZ_c_ell_ref.txt",
             "12ace904addbb7a30aee3d7897b19ee70461acce12e0cae5e44d59ebc1cd0d1a"),
    DataFile("class_sz_2020_tSZ_param_ref.txt", *_CLASS_SZ, _CLASS_SZ_REFERENCE + "tSZ_param_ref.txt",
             "58d204b92f3035fc688a77eee93572dc7b08ddf812417509970755ab8d3b7e30"),
    DataFile("class_sz_2020_tSZ_trispectrum_ref.txt", *_CLASS_SZ,
             _CLASS_SZ_REFERENCE + "tSZ_trispectrum_ref.txt",
             "e59460bd3cdd21427eecf45259b3242fba9e7563cfb31ac4e129331e7e1b1c71"),
    DataFile("soliket_tSZ_trispectrum_ref_total-planck-collab-15_step_1.txt", *_SOLIKET,
             "soliket/ymap/data/tSZ_trispectrum_ref_total-planck-collab-15_step_1.txt",
             "dc67726d6d976c95cc8a458f7169f8efd8cd4032b793607959b6b74eb342b7d4"),
    DataFile("soliket_tSZ_params_ref_total-planck-collab-15_step_1.txt", *_SOLIKET,
             "soliket/ymap/data/tSZ_params_ref_total-planck-collab-15_step_1.txt",
             "f33801544ddc460e1da04786472f9c4937f18dafbacde5f3e7bfb1c9ad883800"),
)


class InstallError(Exception):
    """A data file could not be copied or is not the recorded file (message for the user)."""


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of the file at ``path``."""
    with open(path, "rb") as stream:
        return hashlib.sha256(stream.read()).hexdigest()


def _as_url(source: str) -> str:
    """``source`` as a URL ending in '/' (a plain path becomes a file:// URL)."""
    if "://" not in source:
        source = pathlib.Path(os.path.expanduser(source)).resolve().as_uri()
    return source.rstrip("/") + "/"


def candidate_urls(data_file: DataFile, source: str | None) -> list[str]:
    """The URLs to try for ``data_file``, in order.

    Parameters
    ----------
    data_file : DataFile
    source : str or None
        None: the pinned URL. Otherwise a folder or a URL of one, searched for the
        installed name, the upstream name and the mirrored upstream path.

    Returns
    -------
    list of str
    """
    if source is None:
        return [data_file.url]
    base = _as_url(source)
    mirrored = f"{data_file.repository}/{data_file.commit}/{data_file.path}"
    return [base + data_file.name, base + data_file.upstream_name, base + mirrored]


def _offline_hint() -> str:
    return (f"Without internet, download the files by hand (upstream or installed names) into a "
            f"folder and run again with {SOURCE_ENV}=<that folder> (checksums are checked), or "
            "give the likelihood 'data_folder: <folder>' holding them under the installed names.")


def copy_file(data_file: DataFile, folder: str, source: str | None = None,
              log: Callable[[str], None] | None = None) -> str:
    """Copy ``data_file`` into ``folder`` (readable by all, as the user's umask allows),
    after checking its SHA-256.

    Parameters
    ----------
    data_file : DataFile
    folder : str
        Existing destination folder.
    source : str, optional
        As for `candidate_urls`.
    log : callable, optional
        Called with a line for each copy.

    Returns
    -------
    str
        The URL copied from.

    Raises
    ------
    InstallError
        No candidate URL could be read, or the bytes read are not the recorded file; the
        message names the file, the URLs tried and what to do offline.
    """
    failures = []
    for url in candidate_urls(data_file, source):
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                content = response.read()
        except (urllib.error.URLError, OSError, ValueError) as excpt:
            failures.append(f"{url} ({excpt})")
            continue
        digest = hashlib.sha256(content).hexdigest()
        if digest != data_file.sha256:
            raise InstallError(
                f"{url} is not the file {data_file.name} this package was made for (SHA-256 "
                f"{digest}, expected {data_file.sha256}: the file of {data_file.repository} at "
                f"commit {data_file.commit}, {data_file.path}). Replace it with that file."
                + ("" if source is not None else " " + _offline_hint()))
        if log:
            log(f"Copying {url}")
        _write(content, os.path.join(folder, data_file.name))
        return url
    raise InstallError(
        f"Could not copy {data_file.name}: tried {'; '.join(failures)}. "
        + ("" if source is None else f"The source {source!r} must hold it under one of the names "
           f"{data_file.name}, {data_file.upstream_name} or the mirrored path. ")
        + _offline_hint())


def _write(content: bytes, path: str) -> None:
    """Write atomically, with the permissions of a file the user creates (not 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    with tempfile.NamedTemporaryFile("wb", dir=os.path.dirname(path), delete=False) as tmp:
        tmp.write(content)
    os.chmod(tmp.name, 0o666 & ~umask)
    os.replace(tmp.name, path)


def file_problems(folder: str, files: Sequence[DataFile] = FILES) -> dict[str, str]:
    """What is wrong with the installed files in ``folder``.

    Parameters
    ----------
    folder : str
    files : sequence of DataFile

    Returns
    -------
    dict
        Installed name -> "missing" or "modified" (checksum differs); empty if all good.
    """
    problems = {}
    for data_file in files:
        path = os.path.join(folder, data_file.name)
        if not os.path.isfile(path):
            problems[data_file.name] = "missing"
        elif sha256(path) != data_file.sha256:
            problems[data_file.name] = "modified"
    return problems
