"""Speed of the pressure profiles: GNFW presets and Battaglia et al. 2012 (B12), 30 ells.

Run:  python benchmarks/bench_profiles.py [--repeats 30] [--cold 3]

For each profile: warm forward (C1h + C2h), warm value + gradient (of sum ln C_ell with respect
to every cosmological and profile parameter), both medians over `repeats` calls with every
parameter value jittered between calls (the whole computation is redone), and the cold cost
in fresh processes (median over `cold` processes): import, first forward (compile + run), first
value + gradient. Ratios are to today's A10 (`ProfileParamsA10()`). B12 runs with the halo model
at M200c where `HaloModel` has a `mass_definition` field.
"""

import argparse
import math
import statistics
import subprocess
import sys
import time

import numpy as np

N_ELL = 30
ELL = np.geomspace(10.0, 5000.0, N_ELL)

_PROFILES = {
    "A10 (default)": "sz.ProfileParamsA10()",
    "preset a10_rexcess": "gnfw_preset('a10_rexcess').profile",
    "preset planck13": "gnfw_preset('planck13').profile",
    "B12": "ProfileParamsB12()",
}

_SETUP = """
import numpy as np, jax, jax.numpy as jnp
jax.config.update("jax_enable_x64", True)
import cobaya_szlite as sz
from cobaya_szlite.engine.profiles import ProfileParamsB12, gnfw_preset
ell = np.geomspace(10.0, 5000.0, {n_ell})
profile = {profile}
model = (sz.HaloModel(mass_definition="200c") if type(profile) is ProfileParamsB12
         and "mass_definition" in sz.HaloModel._fields else sz.HaloModel())
"""

_COLD = """
import time
t0 = time.perf_counter()
""" + _SETUP + """
c = sz.CosmoParams()
t1 = time.perf_counter()
f = jax.jit(lambda c, p: sz.cl_yy(c, p, ell, model=model))
jax.block_until_ready(f(c, profile))
t2 = time.perf_counter()
g = jax.jit(jax.value_and_grad(lambda c, p: sum(jnp.sum(jnp.log(x)) for x in sz.cl_yy(c, p, ell, model=model)),
                               argnums=(0, 1)))
jax.block_until_ready(g(c, profile))
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def median_time(fn, repeats: int) -> tuple[float, float]:
    """(median, minimum) wall time [s] of `fn()` over `repeats` calls (after one warm-up call).

    The minimum is the better estimate of the cost on an idle machine when others load it.
    """
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times)


def cold_times(profile: str, n: int) -> tuple[float, float, float]:
    """(import, first forward, first value + gradient) [s], medians over `n` fresh processes."""
    runs = []
    for _ in range(n):
        out = subprocess.run([sys.executable, "-c", _COLD.format(n_ell=N_ELL, profile=profile)],
                             capture_output=True, text=True, check=True)
        runs.append([float(x) for x in out.stdout.split()])
    return tuple(statistics.median(col) for col in zip(*runs))


def warm_times(profile: str, repeats: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """(forward, value + gradient), each (median, minimum) [s] over jittered calls."""
    namespace: dict = {}
    exec(_SETUP.format(n_ell=N_ELL, profile=profile), namespace)
    jax, jnp, sz = namespace["jax"], namespace["jnp"], namespace["sz"]
    prof, model = namespace["profile"], namespace["model"]
    rng = np.random.default_rng(1)
    cosmo = sz.CosmoParams()

    def jitter(tree):
        return jax.tree_util.tree_map(lambda v: v * (1 + 1e-3 * rng.standard_normal()), tree)

    fwd = jax.jit(lambda c, p: sz.cl_yy(c, p, ELL, model=model))
    val_grad = jax.jit(jax.value_and_grad(
        lambda c, p: sum(jnp.sum(jnp.log(x)) for x in sz.cl_yy(c, p, ELL, model=model)), argnums=(0, 1)))
    return (median_time(lambda: jax.block_until_ready(fwd(jitter(cosmo), jitter(prof))), repeats),
            median_time(lambda: jax.block_until_ready(val_grad(jitter(cosmo), jitter(prof))), repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--cold", type=int, default=3, help="fresh processes per profile (0: skip the cold column)")
    args = parser.parse_args()
    rows = {}
    for name, expr in _PROFILES.items():
        rows[name] = warm_times(expr, args.repeats) + (cold_times(expr, args.cold) if args.cold else (math.nan,) * 3)
    base = rows["A10 (default)"]
    print(f"{N_ELL} ells; warm: median (minimum) of {args.repeats} calls; cold: median of {args.cold} fresh "
          "processes; [ratio of the medians to A10]")
    print("| profile | forward [ms] | value + gradient [ms] | import [s] | first forward [s] "
          "| first value + gradient [s] |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, ((fwd, fwd_min), (vg, vg_min), imp, cold_f, cold_g) in rows.items():
        print(f"| {name} | {fwd * 1e3:.2f} ({fwd_min * 1e3:.2f}) [{fwd / base[0][0]:.1f}x] "
              f"| {vg * 1e3:.2f} ({vg_min * 1e3:.2f}) [{vg / base[1][0]:.1f}x] | {imp:.2f} "
              f"| {cold_f:.2f} [{cold_f / base[3]:.1f}x] | {cold_g:.2f} [{cold_g / base[4]:.1f}x] |")


if __name__ == "__main__":
    main()
