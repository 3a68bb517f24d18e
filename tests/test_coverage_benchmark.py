"""The statistics helpers of benchmarks/coverage_trispectrum.py (the study itself is a
benchmark, run by hand: docs/coverage.md)."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "benchmarks"))
import coverage_trispectrum as coverage


def test_weighted_quantiles_match_a_gaussian():
    """Fine grid weighted by a Gaussian density: the 16/50/84% quantiles are mean -+ sigma
    (grid spacing 1e-3; tolerance 2e-3, two spacings)."""
    x = np.linspace(1.5 - 20, 1.5 + 20, 40001)  # +- 10 sigma
    weights = np.exp(-0.5 * ((x - 1.5) / 2.0) ** 2)
    lo, median, hi = coverage._weighted_quantiles(x, weights, (0.158655, 0.5, 0.841345))
    assert (lo, median, hi) == pytest.approx((-0.5, 1.5, 3.5), abs=2e-3)


def test_weighted_quantiles_ignore_order_and_zero_weights():
    rng = np.random.default_rng(3)
    x = rng.normal(size=2001)
    weights = np.ones_like(x)
    shuffled = rng.permutation(len(x))
    extra_x, extra_w = np.append(x[shuffled], 100.0), np.append(weights[shuffled], 0.0)
    assert coverage._weighted_quantiles(extra_x, extra_w, (0.5,))[0] == pytest.approx(np.median(x))


def test_coverage_rows_count_intervals_and_bias():
    """Three of four intervals contain the truth; bias is the mean offset of the means."""
    truth = {"F_sz": 0.5, "sigma8": 0.8}
    summaries = [
        {"F_sz": {"mean": m, "lo": m - 0.01, "hi": m + 0.01},
         "sigma8": {"mean": 0.8, "lo": 0.79, "hi": 0.81}, "edge_mass": 0.0, "omega_edge_mass": 0.0}
        for m in (0.495, 0.5, 0.505, 0.52)
    ]
    rows = coverage.coverage_rows({("B fixed", "fiducial"): summaries}, truth)
    f_sz = next(r for r in rows if r["param"] == "F_sz")
    assert f_sz["coverage"] == 0.75
    assert (f_sz["below"], f_sz["above"]) == (0.25, 0.0)  # truth below the interval of 0.52
    assert f_sz["bias"] == pytest.approx(0.005)
    assert next(r for r in rows if r["param"] == "sigma8")["coverage"] == 1.0
