"""The tests never touch the user's Cobaya configuration (~/.config/cobaya/config.yaml).

tests/conftest.py points XDG_CONFIG_HOME / XDG_CACHE_HOME at a session tmp folder before
any test runs; these tests check that Cobaya (in this process and in a ``cobaya-run``
style subprocess) resolves its config folder there, and that the call that used to
rewrite the user's file (``cobaya.install`` storing its packages path) now writes only
the isolated one. ``pytest_sessionfinish`` in conftest.py repeats the check for the
whole session.
"""

import os
import subprocess
import sys

from cobaya.tools import (
    get_config_path,
    load_packages_path_from_config_file,
    write_packages_path_in_config_file,
)


def test_cobaya_config_folder_is_isolated(isolated_cobaya_config_dir, user_cobaya_config):
    user_file, _, _ = user_cobaya_config
    assert os.path.realpath(get_config_path()) == os.path.realpath(isolated_cobaya_config_dir)
    assert os.path.dirname(os.path.realpath(user_file)) != os.path.realpath(get_config_path())
    assert "COBAYA_PACKAGES_PATH" not in os.environ
    # subprocesses (cobaya-run in the run tests) inherit the isolation
    out = subprocess.run(
        [sys.executable, "-c", "from cobaya.tools import get_config_path; print(get_config_path())"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout.strip().splitlines()[-1]
    assert os.path.realpath(out) == os.path.realpath(isolated_cobaya_config_dir)


def test_storing_a_packages_path_leaves_the_user_config_alone(
    tmp_path, isolated_cobaya_config_dir, user_cobaya_config
):
    """What ``cobaya.install.install`` does without ``no_set_global``: only the isolated file changes."""
    user_file, at_start, snapshot = user_cobaya_config
    # refuse to write at all unless the config folder is the isolated one
    assert os.path.realpath(get_config_path()) == os.path.realpath(isolated_cobaya_config_dir)
    write_packages_path_in_config_file(str(tmp_path / "packages"))
    assert load_packages_path_from_config_file() == str(tmp_path / "packages")
    assert os.path.isfile(os.path.join(isolated_cobaya_config_dir, "config.yaml"))
    assert snapshot(user_file) == at_start, f"{user_file} was created or changed"
