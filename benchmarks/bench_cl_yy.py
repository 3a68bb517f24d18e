"""Speed of the tSZ engine: cold and warm, forward and derivatives, against pyccl.

Run:  python benchmarks/bench_cl_yy.py [--repeats 30]

Prints one table (median of repeats). Cold times run in fresh subprocesses (import +
first call). Warm times change every parameter value between calls, so the whole
cosmology (background, growth, P(k), sigma(M), mass function, profile transform) is
recomputed each time. The pyccl peer computes the same 1-halo + 2-halo spectrum through
its own halo-model pipeline in the same process, a new Cosmology per call.
"""

import argparse
import statistics
import subprocess
import sys
import time

import numpy as np

N_ELL = 30
ELL = np.geomspace(10.0, 5000.0, N_ELL)

COLD_SNIPPET = """
import time
t0 = time.perf_counter()
import numpy as np, jax
jax.config.update("jax_enable_x64", True)
import cobaya_szlite as sz
ell = np.geomspace(10.0, 5000.0, {n_ell})
c, p = sz.CosmoParams(), sz.ProfileParamsA10()
f = jax.jit(lambda c, p: sz.cl_yy(c, p, ell))
jax.block_until_ready(f(c, p))
t1 = time.perf_counter()
g = jax.jit(jax.value_and_grad(lambda c, p: sum(x.sum() for x in sz.cl_yy(c, p, ell)), argnums=(0, 1)))
jax.block_until_ready(g(c, p))
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def median_time(fn, repeats):
    """Median wall time [s] of `fn()` over `repeats` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def cold_times(repeats):
    """(import + first forward, first value+gradient) [s], medians over fresh processes."""
    fwd, grad = [], []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", COLD_SNIPPET.format(n_ell=N_ELL)],
            capture_output=True, text=True, check=True,
        )
        a, b = (float(x) for x in out.stdout.split())
        fwd.append(a)
        grad.append(b)
    return statistics.median(fwd), statistics.median(grad)


def engine_times(repeats):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    import cobaya_szlite as sz

    rng = np.random.default_rng(1)
    cosmo, prof = sz.CosmoParams(), sz.ProfileParamsA10()

    def jitter(tree):
        return jax.tree_util.tree_map(lambda v: v * (1 + 1e-3 * rng.standard_normal()), tree)

    def total(c, p):
        one, two = sz.cl_yy(c, p, ELL)
        return one + two

    fwd = jax.jit(lambda c, p: sz.cl_yy(c, p, ELL))
    val_grad = jax.jit(jax.value_and_grad(lambda c, p: jnp.sum(jnp.log(total(c, p))), argnums=(0, 1)))
    jac = jax.jit(jax.jacfwd(total, argnums=(0, 1)))
    batch = 16
    batched = jax.jit(jax.vmap(fwd))
    stack = lambda trees: jax.tree_util.tree_map(lambda *v: jnp.array(v), *trees)  # noqa: E731

    results = {}
    results["forward (1h+2h, 30 ells)"] = median_time(
        lambda: jax.block_until_ready(fwd(jitter(cosmo), jitter(prof))), repeats)
    results["value + gradient (15 params)"] = median_time(
        lambda: jax.block_until_ready(val_grad(jitter(cosmo), jitter(prof))), repeats)
    results["jacfwd (30 x 15)"] = median_time(
        lambda: jax.block_until_ready(jac(jitter(cosmo), jitter(prof))), repeats)
    per_batch = median_time(
        lambda: jax.block_until_ready(
            batched(stack([jitter(cosmo) for _ in range(batch)]), stack([jitter(prof) for _ in range(batch)]))
        ),
        repeats,
    )
    results[f"vmap batch of {batch}, per point"] = per_batch / batch
    return results


def pyccl_time(repeats):
    """One full pyccl 1h + 2h spectrum with a new Cosmology per call [s], or None."""
    try:
        import pyccl
    except ImportError:
        return None
    mdef = pyccl.halos.MassDef500c
    hmc = pyccl.halos.HMCalculator(
        mass_function=pyccl.halos.MassFuncTinker08(mass_def=mdef),
        halo_bias=pyccl.halos.HaloBiasTinker10(mass_def=mdef),
        mass_def=mdef, log10M_min=10.0, log10M_max=np.log10(5e15), nM=128,
    )
    prof = pyccl.halos.HaloProfilePressureGNFW(
        mass_def=mdef, mass_bias=0.8, P0=8.130, c500=1.156, alpha=1.062, beta=5.4807,
        gamma=0.3292, alpha_P=0.12, P0_hexp=-1.5,
    )
    rng = np.random.default_rng(2)

    def spectrum():
        h = 0.6766
        cosmo = pyccl.Cosmology(
            Omega_c=0.11933 / h**2, Omega_b=0.02242 / h**2, h=h, n_s=0.9665,
            sigma8=0.8102 * (1 + 1e-3 * rng.standard_normal()), Neff=3.044, m_nu=0.0,
            T_CMB=2.7255, transfer_function="eisenstein_hu", matter_power_spectrum="linear",
        )
        tracer = pyccl.Tracer.from_z_power(cosmo, A=4.01710079e-06, alpha=1, z_min=0.005, z_max=3.0)
        pk = pyccl.halos.halomod_Pk2D(cosmo, hmc, prof)
        return pyccl.angular_cl(cosmo, tracer, tracer, ELL, p_of_k_a=pk)

    return median_time(spectrum, max(3, repeats // 10))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--cold-repeats", type=int, default=3)
    args = parser.parse_args()

    cold_fwd, cold_grad = cold_times(args.cold_repeats)
    warm = engine_times(args.repeats)
    peer = pyccl_time(args.repeats)
    forward = warm["forward (1h+2h, 30 ells)"]

    import jax

    print(f"cobaya_szlite engine, float64, {N_ELL} ells, default Precision, "
          f"jax {jax.__version__} on {jax.devices()[0].platform}")
    print(f"{'measurement':<40}{'median':>12}{'pyccl / this':>14}")
    print(f"{'cold: import + first forward':<40}{cold_fwd:>10.2f} s")
    print(f"{'cold: first value + gradient':<40}{cold_grad:>10.2f} s")
    for name, seconds in warm.items():
        ratio = f"{peer / seconds:>12.0f}x" if peer else ""
        print(f"{'warm: ' + name:<40}{seconds * 1e3:>9.3f} ms{ratio:>14}")
    if peer:
        print(f"{'pyccl: same spectrum, new Cosmology':<40}{peer * 1e3:>9.1f} ms{peer / forward:>12.0f}x")
    else:
        print("pyccl not installed: no peer timing")


if __name__ == "__main__":
    main()
