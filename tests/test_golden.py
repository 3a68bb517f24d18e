"""The regression net: every profile x mass function x P(k) backend at two cosmologies, and
the Boltzmann mode on a stored table, against tests/data/golden.json (written once by
scripts/make_golden.py; rerun it only for a deliberate change of the numbers).

Tolerance `golden_cases.GOLDEN_RTOL` = 1e-8 relative: the same code path in float64
reproduces itself to rounding (below 1e-12 measured), while the component accuracy tests
allow 0.1-1%, so a change of 1e-8 or more in any component is a change of the physics or
the numerics that must be deliberate.
"""

import json
import os

import numpy as np
import pytest

from cobaya_szlite.engine import CosmologyTables

from golden_cases import ELL, GOLDEN_RTOL, PRECISION, cases, golden_values, tabulated_values

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
with open(os.path.join(DATA, "golden.json")) as _stream:
    GOLDEN = json.load(_stream)


def _compare(label, values, expected):
    values, expected = np.asarray(values), np.asarray(expected)
    worst = np.max(np.abs(values / expected - 1))
    assert worst < GOLDEN_RTOL, f"{label}: relative change up to {worst:.3g} against tests/data/golden.json"


def test_table_covers_every_case_at_these_settings():
    assert sorted(GOLDEN["cases"]) == sorted("/".join(case) for case in cases())
    np.testing.assert_array_equal(GOLDEN["ell"], ELL)
    assert GOLDEN["precision"] == PRECISION._asdict()


@pytest.mark.slow
@pytest.mark.parametrize("case", cases(), ids="/".join)
def test_component_combination_unchanged(case):
    for cosmology, values in golden_values(*case).items():
        for column, name in enumerate(("1h", "2h", "trispectrum")):
            _compare(f"{'/'.join(case)} at {cosmology}, {name}", values[column],
                     GOLDEN["cases"]["/".join(case)][cosmology][column])


@pytest.mark.slow
def test_boltzmann_mode_on_stored_table_unchanged():
    with np.load(os.path.join(DATA, "golden_tables.npz")) as stored:
        tables = CosmologyTables(**{field: stored[field] for field in CosmologyTables._fields})
    for column, name in enumerate(("1h", "2h", "trispectrum")):
        _compare(f"Boltzmann mode, {name}", tabulated_values(tables)[column], GOLDEN["boltzmann_table"][column])
