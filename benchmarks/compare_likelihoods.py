"""ln L, its gradient and Fisher matrix at ten prior draws of each shipped YAML, this
checkout against another one (e.g. an earlier commit in a git worktree): the regression
check of a change to the likelihood side.

    python benchmarks/compare_likelihoods.py --other /path/to/other/checkout [--planck FOLDER]

Each checkout runs in its own process (its package first on the path), at a small engine
precision and seed 1; the table gives, per YAML, the largest relative difference of the
log-likelihoods and of the gradient + Fisher matrix of ln P (`PosteriorGradient`, analytic
Fisher), and at how many of the ten points it exceeds 1e-10. YAMLs needing the Planck 2015
files are skipped without ``--planck``.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, ".."))
PRECISION = {"n_z": 41, "n_m": 41, "n_x": 200, "n_k": 150}
YAMLS = ["quickstart.yaml", "mcmc_mock.yaml", "minimize_grad.yaml", "nuts_mock.yaml",
         "planck2015_mcmc.yaml", "planck2015_nuts.yaml", "planck2015_spt_b12.yaml"]


def evaluate(repo, planck, out):
    """Write the values of ``repo`` to the npz file ``out`` (run in a child process)."""
    sys.path.insert(0, repo)
    import jax

    jax.config.update("jax_enable_x64", True)
    from cobaya.model import get_model
    from cobaya.yaml import yaml_load_file

    import cobaya_szlite
    from cobaya_szlite.posterior_gradient import PosteriorGradient

    assert cobaya_szlite.__file__.startswith(repo), f"imported {cobaya_szlite.__file__}, not {repo}"
    results = {}
    for name in YAMLS:
        info = yaml_load_file(os.path.join(repo, "yaml", name))
        if any("Planck2015" in like for like in info["likelihood"]) and not planck:
            continue
        info.pop("output", None)
        info.pop("sampler", None)
        for options in info["theory"].values():
            options["precision"] = {**(options.get("precision") or {}), **PRECISION}
        for like, options in info["likelihood"].items():
            if "Planck2015" in like:
                options.update(data_folder=planck, precision={**(options.get("precision") or {}), **PRECISION})
            if like == "spt_tsz":
                options["data_folder"] = os.path.join(repo, "cobaya_szlite", "data", "spt2021_tsz")
        model = get_model(info)
        gradient = PosteriorGradient(model)
        rng = np.random.default_rng(1)
        values, derivatives = [], []
        for _ in range(10):
            x = model.prior.sample(random_state=rng)[0]
            values.append(model.loglikes(dict(zip(model.parameterization.sampled_params(), x)),
                                         return_derived=False))
            _, grad = gradient(x)
            derivatives.append(np.concatenate([grad, np.ravel(gradient.fisher(x, numeric=False))]))
        results[name + ":loglikes"] = np.array(values)
        results[name + ":gradient+Fisher"] = np.array(derivatives)
    np.savez(out, **results)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", required=True, help="the checkout to compare with")
    parser.add_argument("--planck", default=os.environ.get("COBAYA_SZLITE_PLANCK2015_DATA"),
                        help="Planck 2015 tSZ data folder (default: $COBAYA_SZLITE_PLANCK2015_DATA)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        evaluate(args.child[0], args.planck, args.child[1])
        return
    folder = tempfile.mkdtemp(prefix="compare_likelihoods_")
    files = []
    for k, repo in enumerate((REPO, os.path.abspath(args.other))):
        out = os.path.join(folder, f"{k}.npz")
        command = [sys.executable, os.path.abspath(__file__), "--child", repo, out]
        if args.planck:
            command += ["--planck", args.planck]
        subprocess.run(command, check=True, cwd=repo, capture_output=True)
        commit = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
        print(f"{'this checkout' if k == 0 else 'other'}: {repo} at commit {commit or '?'}")
        files.append(np.load(out))
    mine, other = files
    print("\n| YAML: quantity | largest relative difference | points above 1e-10 |\n|---|---:|---:|")
    for key in mine.files:
        a, b = mine[key], other[key]
        rel = np.abs(a - b) / np.maximum(np.abs(b), 1e-300)
        per_point = np.nanmax(rel.reshape(len(rel), -1), axis=1)
        same = np.array_equal(np.isfinite(a), np.isfinite(b))
        print(f"| {key} | {np.nanmax(rel):.1e}{'' if same else ' (non-finite differ)'} | "
              f"{int(np.sum(per_point > 1e-10))}/10 |")


if __name__ == "__main__":
    main()
