"""Write the packaged SPT tSZ point at ell = 3000 (cobaya_szlite/data/spt2021_tsz/).

    python scripts/make_spt_tsz.py [--out FOLDER]

Reichardt et al. 2021 (ApJ 908, 199), SPT-SZ + SPTpol: D_3000^tSZ = 3.42 +- 0.54 muK^2 at
143 GHz. Converted to Compton-y D_ell x 1e12 with `cobaya_szlite.tsz_frequency.dl_tt_to_yy`
(non-relativistic tSZ, the band monochromatic at 143 GHz, T_cmb = 2.7255 K); the
assumptions are listed in the folder's README.md.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

from cobaya_szlite.tsz_frequency import T_CMB, dl_tt_to_yy, tsz_spectral_function  # noqa: E402

#: Published point: multipole, D_ell^tSZ and its 1-sigma error [muK^2], frequency [Hz].
ELL = 3000.0
D_TT_MUK2 = 3.42
SIGMA_TT_MUK2 = 0.54
NU_HZ = 143e9


def write_point(out: str) -> tuple[float, float]:
    """Write ``bandpowers.txt`` (one row: ell_eff, D_ell x 1e12, sigma) into ``out``.

    Parameters
    ----------
    out : str
        Folder (created if missing).

    Returns
    -------
    (d, sigma) : tuple of float
        The Compton-y D_3000 x 1e12 and its error as written.
    """
    os.makedirs(out, exist_ok=True)
    d = 1e12 * dl_tt_to_yy(D_TT_MUK2, NU_HZ)
    sigma = 1e12 * dl_tt_to_yy(SIGMA_TT_MUK2, NU_HZ)
    g = tsz_spectral_function(NU_HZ)
    with open(os.path.join(out, "bandpowers.txt"), "w", encoding="utf-8") as f:
        f.write(
            f"# ell_eff  D_ell x 1e12  sigma  (Compton y). SPT tSZ, Reichardt et al. 2021: "
            f"D_3000 = {D_TT_MUK2} +- {SIGMA_TT_MUK2} muK^2 at {NU_HZ / 1e9:g} GHz,\n"
            f"# / (T_cmb^2 g^2), T_cmb = {T_CMB} K, g(x) = x coth(x/2) - 4 = {g:.10f}. "
            f"Made by scripts/make_spt_tsz.py; see README.md.\n"
        )
        f.write(f"{ELL:.12e} {d:.12e} {sigma:.12e}\n")
    return d, sigma


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the packaged SPT tSZ point at ell = 3000.")
    parser.add_argument(
        "--out", default=os.path.normpath(os.path.join(HERE, "..", "cobaya_szlite", "data", "spt2021_tsz"))
    )
    out = parser.parse_args().out
    d, sigma = write_point(out)
    print(f"g(143 GHz) = {tsz_spectral_function(NU_HZ):.10f}; D_3000^yy x 1e12 = {d:.6f} +- {sigma:.6f}")
    print(f"Wrote {os.path.join(out, 'bandpowers.txt')}")


if __name__ == "__main__":
    main()
