"""Warm cost of the tabulated-cosmology path (`cl_yy_tabulated`) relative to `cl_yy`.

Run:  python benchmarks/bench_tabulated.py [--repeats 30] [--n-k 1000]

Both at the default Precision, 30 ells, float64, after compilation. `cl_yy` gets new
cosmology and profile values on every call (it recomputes background, growth, P(k) and
sigma(M)); `cl_yy_tabulated` gets new tables (the engine's own, P_cb scaled by a random
factor, as a Boltzmann code would hand over each step) and new profile values, and pays
its eager table checks on every call, as `SZTheory` would. The gradient of the tabulated
path is with respect to the 7 profile parameters (the cosmology comes from the upstream
code); that of `cl_yy` with respect to all 12 parameters. "one jit" compiles the table
checks away (shapes only; how a caller that validated the tables once would run it).
"""

import argparse
import statistics
import time

import numpy as np

N_ELL = 30
ELL = np.geomspace(10.0, 5000.0, N_ELL)


def median_time(fn, repeats: int) -> float:
    """Median wall time [s] of `fn()` over `repeats` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--n-k", type=int, default=1000, help="table wavenumbers in [1e-4, 50] Mpc^-1")
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    import cobaya_szlite as sz

    rng = np.random.default_rng(1)
    cosmo, prof = sz.CosmoParams(), sz.ProfileParamsA10()
    base = sz.tables_from_engine(cosmo, np.geomspace(1e-4, 50.0, args.n_k))
    base = jax.tree_util.tree_map(np.asarray, base)

    def jitter(tree):
        return type(tree)(*(None if v is None else v * (1 + 1e-3 * rng.standard_normal()) for v in tree))

    def new_tables():
        return base._replace(pk_cb=base.pk_cb * (1 + 1e-3 * rng.standard_normal()))

    fwd = jax.jit(lambda c, p: sz.cl_yy(c, p, ELL))
    grad = jax.jit(jax.value_and_grad(lambda c, p: jnp.sum(jnp.log(sum(sz.cl_yy(c, p, ELL)))), argnums=(0, 1)))

    def tab_loss(tables, p):
        return jnp.sum(jnp.log(sum(sz.cl_yy_tabulated(tables, cosmo, p, ELL))))

    def tab_grad(tables, p):
        return jax.value_and_grad(tab_loss, argnums=1)(tables, p)

    tab_grad_jit = jax.jit(tab_grad)
    tab_fwd_jit = jax.jit(lambda tables, p: sz.cl_yy_tabulated(tables, cosmo, p, ELL))

    engine_fwd = median_time(lambda: jax.block_until_ready(fwd(jitter(cosmo), jitter(prof))), args.repeats)
    engine_grad = median_time(lambda: jax.block_until_ready(grad(jitter(cosmo), jitter(prof))), args.repeats)
    rows = [
        ("forward", engine_fwd, median_time(
            lambda: jax.block_until_ready(sz.cl_yy_tabulated(new_tables(), cosmo, jitter(prof), ELL)), args.repeats)),
        ("forward, one jit", engine_fwd, median_time(
            lambda: jax.block_until_ready(tab_fwd_jit(new_tables(), jitter(prof))), args.repeats)),
        ("value + gradient", engine_grad, median_time(
            lambda: jax.block_until_ready(tab_grad(new_tables(), jitter(prof))), args.repeats)),
        ("value + gradient, one jit", engine_grad, median_time(
            lambda: jax.block_until_ready(tab_grad_jit(new_tables(), jitter(prof))), args.repeats)),
    ]
    print(f"{N_ELL} ells, default Precision, tables with {args.n_k} wavenumbers, "
          f"jax {jax.__version__} on {jax.devices()[0].platform}")
    print(f"{'warm':<28}{'cl_yy':>12}{'cl_yy_tabulated':>18}{'ratio':>8}")
    for name, engine, tabulated in rows:
        print(f"{name:<28}{engine * 1e3:>9.2f} ms{tabulated * 1e3:>15.2f} ms{tabulated / engine:>8.2f}")


if __name__ == "__main__":
    main()
