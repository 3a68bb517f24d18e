"""Regenerate the packaged mock tSZ bandpowers (cobaya_szlite/data/mock/).

    python scripts/make_mock.py [--out FOLDER]

The fiducial, bins, noise, f_sky and seed are defined and documented in
`cobaya_szlite.mock`; the engine's default `Precision` is used. Re-run after
any change of the engine that moves C_ell (tests/test_cobaya_model.py::
test_packaged_mock_matches_the_engine checks that the packaged truth still matches the engine).
"""

import argparse
import os
import sys

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)  # the engine needs float64

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from cobaya_szlite.mock import noise_d, write_mock  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description="Write the packaged mock tSZ bandpowers.")
    parser.add_argument("--out", default=os.path.normpath(os.path.join(HERE, "..", "cobaya_szlite", "data", "mock")))
    out = parser.parse_args().out
    truth = write_mock(out)
    print(f"Wrote {len(truth)} bins to {out}")
    ell, _, sigma = np.loadtxt(os.path.join(out, "bandpowers_noiseless.txt"), unpack=True)
    for row in zip(ell, truth, noise_d(ell), sigma / truth):
        print("ell {:7.1f}  D {:.4e}  N {:.4e}  sigma/D {:.4f}".format(*row))


if __name__ == "__main__":
    main()
