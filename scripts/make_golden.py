"""Write the regression net's reference numbers: tests/data/golden.json (and the stored
Boltzmann-mode table tests/data/golden_tables.npz, written only if absent).

    python scripts/make_golden.py

Run it only for a deliberate change of the numbers the package produces, and say why in
the commit; tests/test_golden.py compares every case with these files.
"""

import json
import os
import subprocess
import sys

import jax
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
sys.path[:0] = [REPO, os.path.join(REPO, "tests")]
jax.config.update("jax_enable_x64", True)

from cobaya_szlite.engine import CosmologyTables, CosmoParams, HaloModel, tables_from_engine  # noqa: E402

from golden_cases import COSMOLOGIES, ELL, PRECISION, cases, golden_values, tabulated_values  # noqa: E402

DATA = os.path.join(REPO, "tests", "data")


def main():
    os.makedirs(DATA, exist_ok=True)
    tables_path = os.path.join(DATA, "golden_tables.npz")
    if not os.path.exists(tables_path):
        cosmo = CosmoParams(**COSMOLOGIES["fiducial"])  # EH98 P(k), the stored P(k) table
        tables = tables_from_engine(cosmo, np.geomspace(1e-4, 50.0, 200), PRECISION, HaloModel())
        np.savez(tables_path, **{field: np.asarray(value) for field, value in tables._asdict().items()})
    with np.load(tables_path) as stored:
        tables = CosmologyTables(**{field: stored[field] for field in CosmologyTables._fields})
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    golden = {
        "commit": commit, "ell": ELL.tolist(), "precision": PRECISION._asdict(), "cosmologies": COSMOLOGIES,
        "columns": ["D_ell^1h x 1e12", "D_ell^2h x 1e12", "diagonal of the trispectrum in (D_ell x 1e12)^2"],
        "cases": {"/".join(case): golden_values(*case) for case in cases()},
        "boltzmann_table": tabulated_values(tables),
    }
    with open(os.path.join(DATA, "golden.json"), "w") as stream:
        json.dump(golden, stream, indent=1)
    print(f"wrote {len(golden['cases'])} cases at commit {commit}")


if __name__ == "__main__":
    main()
