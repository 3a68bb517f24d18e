"""Cost of each linear-power backend (and amplitude input) relative to EH98, the default.

Run:  python benchmarks/bench_linear_power.py [--repeats 30] [--cold-repeats 3]

For every variant (backend x sigma8 / logA input) the table gives, for C_ell^yy (1-halo +
2-halo, 30 ells, default Precision): the cold times (fresh subprocess: import + first
forward, then first value + gradient) and the warm times (forward, value + gradient in all
parameters), medians of the repeats, and each divided by the EH98 (sigma8) time measured
in the same process. Warm calls are interleaved round by round over the variants, so a
slow spell of a shared machine hits all of them alike. The cosmology is the default one
with m_nu = 0 (inside every backend's fitted box); every call jitters the parameter
values, so the whole cosmology is recomputed. Cold times include process start-up and
compilation and vary by tens of percent between runs on a shared machine; compare the warm
ratios.
"""

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np

N_ELL = 30
ELL = np.geomspace(10.0, 5000.0, N_ELL)

#: (backend, amplitude input) pairs; EH98 with sigma8 is the reference.
VARIANTS = (("eh98", "sigma8"), ("eh98", "logA"), ("bartlett23", "sigma8"), ("bartlett23", "logA"),
            ("syren_new", "sigma8"), ("syren_new", "logA"))

#: Parameters jittered between warm calls (the others are pinned by the fitted boxes).
_JITTERED = ("omega_b", "omega_cdm", "H0", "n_s", "sigma8", "logA")

COLD_SNIPPET = """
import time
t0 = time.perf_counter()
import numpy as np, jax
jax.config.update("jax_enable_x64", True)
import cobaya_szlite as sz
ell = np.geomspace(10.0, 5000.0, {n_ell})
c = sz.CosmoParams(m_nu=0.0, **{amplitude})
p, model = sz.ProfileParamsA10(), sz.HaloModel(linear_power={backend!r})
f = jax.jit(lambda c, p: sz.cl_yy(c, p, ell, model=model))
jax.block_until_ready(f(c, p))
t1 = time.perf_counter()
g = jax.jit(jax.value_and_grad(lambda c, p: sum(x.sum() for x in sz.cl_yy(c, p, ell, model=model)), argnums=(0, 1)))
jax.block_until_ready(g(c, p))
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def _amplitude(kind: str) -> dict:
    return {"sigma8": 0.8102} if kind == "sigma8" else {"logA": 3.047}


def cold_times(backend: str, kind: str, repeats: int) -> tuple[float, float] | None:
    """(import + first forward, first value + gradient) [s], medians over fresh processes;
    None where the variant is not supported."""
    fwd, grad = [], []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", COLD_SNIPPET.format(n_ell=N_ELL, amplitude=_amplitude(kind), backend=backend)],
            capture_output=True, text=True,
        )
        if out.returncode != 0:
            return None
        a, b = (float(x) for x in out.stdout.split())
        fwd.append(a)
        grad.append(b)
    return statistics.median(fwd), statistics.median(grad)


def warm_times(repeats: int) -> dict:
    """{variant: (forward, value + gradient)} [s], medians of interleaved repeats."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    import cobaya_szlite as sz

    rng = np.random.default_rng(1)
    prof = sz.ProfileParamsA10()

    def jitter(tree, fields):
        return tree._replace(**{name: getattr(tree, name) * (1 + 1e-3 * rng.standard_normal())
                                for name in fields if getattr(tree, name) is not None})

    calls = {}
    for backend, kind in VARIANTS:
        model = sz.HaloModel(linear_power=backend)
        cosmo = sz.CosmoParams(m_nu=0.0, **_amplitude(kind))

        def total(c, p, model=model):
            one, two = sz.cl_yy(c, p, ELL, model=model)
            return one + two

        fwd = jax.jit(lambda c, p, model=model: sz.cl_yy(c, p, ELL, model=model))
        val_grad = jax.jit(jax.value_and_grad(lambda c, p, total=total: jnp.sum(jnp.log(total(c, p))),
                                              argnums=(0, 1)))
        try:
            jax.block_until_ready(fwd(cosmo, prof))
            jax.block_until_ready(val_grad(cosmo, prof))
        except (TypeError, ValueError):
            continue  # this backend does not take this amplitude input
        calls[(backend, kind)] = [
            lambda fwd=fwd, cosmo=cosmo: fwd(jitter(cosmo, _JITTERED), jitter(prof, prof._fields)),
            lambda val_grad=val_grad, cosmo=cosmo: val_grad(jitter(cosmo, _JITTERED), jitter(prof, prof._fields)),
        ]
    times = {variant: ([], []) for variant in calls}
    for _ in range(repeats):
        for variant, fns in calls.items():
            for fn, store in zip(fns, times[variant]):
                t = time.perf_counter()
                jax.block_until_ready(fn())
                store.append(time.perf_counter() - t)
    return {variant: tuple(statistics.median(x) for x in pair) for variant, pair in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--cold-repeats", type=int, default=3)
    args = parser.parse_args()

    warm = warm_times(args.repeats)
    cold = {variant: cold_times(*variant, args.cold_repeats) for variant in warm}
    ref_warm, ref_cold = warm[VARIANTS[0]], cold[VARIANTS[0]]

    import jax

    print(f"C_ell^yy (1h + 2h, {N_ELL} ells, default Precision), float64, jax {jax.__version__} on "
          f"{jax.devices()[0].platform}; medians of {args.repeats} warm / {args.cold_repeats} cold repeats; "
          f"ratio = time / time of eh98 (sigma8)")
    head = ["backend (input)", "warm fwd", "ratio", "warm val+grad", "ratio", "cold fwd", "ratio",
            "cold val+grad", "ratio"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for (backend, kind) in VARIANTS:
        if (backend, kind) not in warm:
            print(f"| {backend} ({kind}) | not supported |" + " |" * (len(head) - 2))
            continue
        w, c = warm[(backend, kind)], cold[(backend, kind)]
        cells = [f"{backend} ({kind})",
                 f"{w[0] * 1e3:.2f} ms", f"{w[0] / ref_warm[0]:.3f}",
                 f"{w[1] * 1e3:.2f} ms", f"{w[1] / ref_warm[1]:.3f}"]
        if c is None or ref_cold is None:
            cells += ["n/a"] * 4
        else:
            cells += [f"{c[0]:.2f} s", f"{c[0] / ref_cold[0]:.3f}", f"{c[1]:.2f} s", f"{c[1] / ref_cold[1]:.3f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
