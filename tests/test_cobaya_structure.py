"""Where things live: Cobaya-free modules stay Cobaya-free, nothing imports theory.py,
and the parameter names, fiducial point and D_ell unit are defined once."""

import ast
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import cobaya_szlite
from cobaya_szlite.parameters import FIDUCIAL_PARAMS, INPUT_PARAMS, d_ell_factor, f_sz

PACKAGE = pathlib.Path(cobaya_szlite.__file__).parent


@pytest.mark.parametrize("module", ["mock", "parameters", "boltzmann", "bandpowers", "zero_likelihood",
                                    "planck2015_files", "likelihood_math"])
def test_framework_free_modules_do_not_import_cobaya(module):
    code = f"import cobaya_szlite.{module}, sys; assert 'cobaya' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def _imports(path):
    """Module names imported by a source file (relative imports resolved in the package)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = "cobaya_szlite." if node.level else ""
            names.add(base + (node.module or ""))
            names.update(base + (node.module + "." if node.module else "") + a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_no_module_imports_theory():
    importers = [p.name for p in PACKAGE.rglob("*.py")
                 if p.name != "theory.py" and "cobaya_szlite.theory" in _imports(p)]
    assert importers == []


def test_d_ell_unit_written_once():
    """The conversion 1e12 ell(ell+1)/(2 pi) appears in code only in parameters.py."""
    pattern = re.compile(r"1e12\s*\*\s*ell")
    found = [p.name for p in PACKAGE.rglob("*.py") if pattern.search(p.read_text())]
    assert found == ["parameters.py"]
    ell = np.array([10.0, 100.5])
    np.testing.assert_allclose(d_ell_factor(ell), 1e12 * ell * (ell + 1) / (2 * np.pi), rtol=1e-15)


def test_f_sz_written_once():
    """F_sz = sigma8 (Omega_m/B)^0.40 h^-0.21 is coded only in parameters.py (the theory's
    derived parameter and the analysis scripts call `parameters.f_sz`)."""
    pattern = re.compile(r"\*\*\s*0\.40?\s*\*\s*\(?[hH]")  # "... ** 0.40 * h ..."
    roots = [PACKAGE, PACKAGE.parent / "docs", PACKAGE.parent / "benchmarks"]
    found = sorted(p.name for root in roots for p in root.rglob("*.py") if pattern.search(p.read_text()))
    assert found == ["parameters.py"]
    assert f_sz(0.8, 0.3, 1.25, 70.0) == 0.8 * (0.3 / 1.25) ** 0.40 * 0.7**-0.21


def test_fiducial_defined_once_and_used_everywhere():
    """SZTheory's profile defaults, Planck2015TSZ's default fiducial and the packaged mock's
    truth are the one FIDUCIAL_PARAMS (in DEFAULT_LAYOUT order), which is also the engine's
    default; SZTheory declares no cosmological input (none can leak into another code)."""
    import yaml
    from cobaya_szlite.likelihood import MOCK_DATA_FOLDER
    from cobaya_szlite.parameters import COSMO_INPUT_NAMES, DEFAULT_LAYOUT, PROFILE_PARAMS
    from cobaya_szlite.theory import SZTheory

    defaults = SZTheory.get_modified_defaults(SZTheory.get_defaults())["params"]
    assert {k: defaults[k]["value"] for k in PROFILE_PARAMS} == {k: FIDUCIAL_PARAMS[k] for k in PROFILE_PARAMS}
    cosmo_names = {name for names in COSMO_INPUT_NAMES.values() for name in names}
    assert not [k for k in cosmo_names & set(defaults) if not defaults[k].get("derived")]
    assert list(FIDUCIAL_PARAMS) == list(DEFAULT_LAYOUT.names)
    assert set(INPUT_PARAMS) >= set(FIDUCIAL_PARAMS)
    truth = yaml.safe_load((pathlib.Path(MOCK_DATA_FOLDER) / "truth.yaml").read_text())["params"]
    assert truth == FIDUCIAL_PARAMS
    engine_default = dict(zip(DEFAULT_LAYOUT.names, cobaya_szlite.CosmoParams()[:5] + cobaya_szlite.ProfileParamsA10()))
    assert engine_default == FIDUCIAL_PARAMS
    text = "".join(p.read_text() for p in PACKAGE.glob("*.py") if p.name != "parameters.py")
    assert "0.11933" not in text and "5.4807" not in text
