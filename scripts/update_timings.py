"""Measure the package's timings and rewrite the documentation's timing tables.

    python scripts/update_timings.py [--quick] [--dry-run] [--only NAME ...]

Every wall-clock figure of the documentation lives in a table between the markers
``<!-- timings:NAME start -->`` and ``<!-- timings:NAME end -->`` (see SECTIONS); README.md
and the YAML files refer to these tables instead of quoting numbers. This script re-runs
the measurements and replaces the text between the markers, with the date, the machine
and the command of each measurement.

--quick   fewer repeats, and only the measurements that take seconds (engine benchmark,
          mock MCMC on one chain with Cobaya's per-component timing); a few minutes on
          2 cores. The other tables are kept as they are and the commands that would
          regenerate them are printed.
--dry-run print the new tables instead of writing them.

Runs that take too long to redo here (the Planck 2015 MCMC chains) are never re-run: their
rows stay in the table with the date and command of the measurement, and the script prints
the command. The Planck per-point cost is measured when COBAYA_SZLITE_PLANCK2015_DATA names a
folder with the Planck 2015 tSZ files.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SECTIONS", "Section", "main", "replace_section"]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLANCK_ENV = "COBAYA_SZLITE_PLANCK2015_DATA"
COBAYA_RUN = shutil.which("cobaya-run", path=os.path.dirname(sys.executable)) or "cobaya-run"


@dataclass(frozen=True)
class Section:
    """One generated table: its marker name, the file holding it and how it is made.

    Attributes
    ----------
    name : str
        Marker name, ``<!-- timings:<name> start -->``.
    doc : str
        Repository-relative path of the Markdown file holding the table.
    command : str
        The command whose measurements the table shows (printed when skipped).
    quick : bool
        Whether ``--quick`` regenerates it.
    make : callable or None
        ``make(quick) -> str`` returns the new table (Markdown); None: never re-run here.
    """

    name: str
    doc: str
    command: str
    quick: bool
    make: Callable[[bool], str] | None


def _run(command: list[str], timeout: float, **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    """Run `command` from the repository root; return (result, wall time [s])."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = time.perf_counter()
    out = subprocess.run(command, check=False, cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=timeout, **kwargs)
    wall = time.perf_counter() - start
    if out.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out, wall


def _commit() -> str:
    """Short hash of the checkout's HEAD ('' outside a git checkout)."""
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=REPO, capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else ""


def _stamp(command: str) -> str:
    """'Measured <date> at commit <hash> on <machine>, <cores>, <load> (jax) by `command`.'"""
    import jax

    date = datetime.date.today().isoformat()
    at = f" at commit {_commit()}" if _commit() else ""
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"Measured {date}{at} on {platform.machine()} with {os.cpu_count()} CPU cores{load} "
            f"(jax {jax.__version__}, {jax.devices()[0].platform}) by `{command}`.")


# --- engine --------------------------------------------------------------------------

_ENGINE_LINE = re.compile(r"^(cold|warm|pyccl): (.+?)\s{2,}([\d.]+) (ms|s)\s*(?:(\d+)x)?\s*$")


def _engine(quick: bool) -> str:
    args = ["--repeats", "5", "--cold-repeats", "1"] if quick else ["--repeats", "30", "--cold-repeats", "3"]
    out, _ = _run([sys.executable, "benchmarks/bench_cl_yy.py", *args], timeout=1200)
    rows = ["| measurement | median | pyccl / this |", "|---|---:|---:|"]
    for line in out.stdout.splitlines():
        match = _ENGINE_LINE.match(line.strip())
        if match:
            kind, name, value, unit, ratio = match.groups()
            label = {"cold": "cold: ", "warm": "warm: ", "pyccl": ""}[kind] + name
            if kind == "pyccl":
                label, ratio = "pyccl: " + name, None  # the peer itself: no ratio
            rows.append(f"| {label} | {value} {unit} | {ratio + 'x' if ratio else ''} |")
    if len(rows) < 4:
        raise RuntimeError("could not read the benchmark output:\n" + out.stdout)
    command = "python benchmarks/bench_cl_yy.py " + " ".join(args)
    return _stamp(command) + "\n\n" + "\n".join(rows)


# --- mock MCMC and the cost of one posterior evaluation ------------------------------

_TIMING_LINE = re.compile(r"^\s*(\S+) : ([\d.eE+-]+) s \((\d+) evaluations")


def _progress(prefix: str) -> dict[str, float]:
    """Last row of a Cobaya .progress file: N, acceptance_rate, Rminus1, Rminus1_cl."""
    with open(prefix + ".progress") as f:
        lines = [line.split() for line in f if line.strip()]
    header = [h for h in lines[0] if h != "#"]
    return dict(zip(header, lines[-1]))


def _mcmc_row(label: str, command: list[str], prefix: str, timeout: float) -> tuple[str, str]:
    out, wall = _run(command + ["-o", prefix], timeout=timeout)
    last = _progress(prefix)
    row = (f"| `{label}` | {datetime.date.today().isoformat()}, {_commit()} | {wall:.0f} s | "
           f"{int(float(last['N']))} | {float(last['acceptance_rate']):.3f} | "
           f"{float(last['Rminus1']):.4f} / {float(last['Rminus1_cl']):.3f} |")
    return row, out.stdout + out.stderr


def _bare_engine_ms(repeats: int) -> float:
    """Median time [ms] of the jitted engine call cl_yy at the packaged mock's multipoles."""
    import jax
    import numpy as np

    import cobaya_szlite as sz

    jax.config.update("jax_enable_x64", True)  # the engine needs float64
    ell = np.loadtxt(os.path.join(REPO, "cobaya_szlite", "data", "mock", "bandpowers.txt"))[:, 0]
    cosmo, prof = sz.CosmoParams(), sz.ProfileParamsA10()
    fn = jax.jit(lambda c, p: sz.cl_yy(c, p, ell))
    jax.block_until_ready(fn(cosmo, prof))
    rng = np.random.default_rng(1)
    times = []
    for _ in range(repeats):
        c = cosmo._replace(sigma8=cosmo.sigma8 * (1 + 1e-3 * rng.standard_normal()))
        start = time.perf_counter()
        jax.block_until_ready(fn(c, prof))
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def _mock_mcmc(quick: bool) -> str:
    from cobaya.yaml import yaml_dump, yaml_load_file

    tmp = tempfile.mkdtemp(prefix="szlite_timings_")
    try:
        info = yaml_load_file(os.path.join(REPO, "yaml", "mcmc_mock.yaml"))
        info["timing"] = True
        timed = os.path.join(tmp, "mcmc_mock.yaml")
        with open(timed, "w") as f:
            f.write(yaml_dump(info))
        rows = ["| run | measured | wall time | accepted steps | acceptance | final R-1 (means / 95% bounds) |",
                "|---|---|---:|---:|---:|---|"]
        row, log = _mcmc_row("cobaya-run yaml/mcmc_mock.yaml", [COBAYA_RUN, timed],
                             os.path.join(tmp, "serial", "mcmc_mock"), timeout=1800)
        rows.append(row)
        mpirun = shutil.which("mpirun")
        if not quick and mpirun:
            row, _ = _mcmc_row("mpirun -n 2 cobaya-run yaml/mcmc_mock.yaml", [mpirun, "-n", "2", COBAYA_RUN, timed],
                               os.path.join(tmp, "mpi", "mcmc_mock"), timeout=1800)
            rows.append(row)
        else:
            rows += _kept_rows("mock-mcmc", "| `mpirun")
            print(f"[mock-mcmc] mpirun row kept as measured; to redo it run: {sys.argv[0]} (without --quick)")
        costs = {m.group(1): (float(m.group(2)), int(m.group(3)))
                 for m in map(_TIMING_LINE.match, log.splitlines()) if m}
        cost_rows = ["| component | time per evaluation | evaluations |", "|---|---:|---:|"]
        total = 0.0
        for name, (seconds, n) in costs.items():
            cost_rows.append(f"| {name} (Cobaya `timing: True`) | {1e3 * seconds:.3f} ms | {n} |")
            total += seconds
        cost_rows.append(f"| sum: one posterior evaluation in Cobaya | {1e3 * total:.3f} ms | |")
        cost_rows.append(f"| bare jitted `cl_yy` at the mock's 20 multipoles (median) | "
                         f"{_bare_engine_ms(50 if quick else 300):.3f} ms | |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    command = "python scripts/update_timings.py" + (" --quick" if quick else "")
    what = ("cobaya-run yaml/mcmc_mock.yaml with `timing: True`"
            + ("" if quick or not mpirun else ", and with mpirun -n 2 (R-1 across the chains)"))
    return (_stamp(command) + f" Runs: {what}; R-1 as Cobaya's last check. Rows dated otherwise"
            " are kept from an earlier measurement.\n\n" + "\n".join(rows)
            + "\n\n" + "\n".join(cost_rows))


def _kept_rows(name: str, start: str) -> list[str]:
    """Rows of the current table of section `name` that begin with `start` (kept as measured)."""
    section = next(s for s in SECTIONS if s.name == name)
    with open(os.path.join(REPO, section.doc), encoding="utf-8") as f:
        text = f.read()
    body = text.split(f"<!-- timings:{name} start -->")[1].split(f"<!-- timings:{name} end -->")[0]
    return [line for line in body.splitlines() if line.startswith(start)]


# --- minimizer benchmark -------------------------------------------------------------


def _minimize(problem: str) -> Callable[[bool], str]:
    def make(quick: bool) -> str:
        args = ["--problem", problem, "--starts", "5"]
        out, _ = _run([sys.executable, "benchmarks/bench_minimize.py", *args], timeout=7200)
        lines = out.stdout.strip().splitlines()
        table = [line for line in lines if line.startswith("|")]
        summary = [line for line in lines if line and not line.startswith("|")]
        return (_stamp("python benchmarks/bench_minimize.py " + " ".join(args)) + "\n\n"
                + "\n".join(table) + "\n\n" + "\n".join(summary))

    return make


# --- Planck 2015 ---------------------------------------------------------------------


def _planck_point_cost(quick: bool) -> str:
    """Cost of one posterior evaluation of yaml/planck2015_mcmc.yaml (needs the data)."""
    folder = os.environ.get(PLANCK_ENV)
    if not folder:
        raise _Skip(f"set {PLANCK_ENV} to the Planck 2015 tSZ data folder")
    import numpy as np
    from cobaya.model import get_model
    from cobaya.yaml import yaml_load_file

    info = yaml_load_file(os.path.join(REPO, "yaml", "planck2015_mcmc.yaml"))
    for key in ("sampler", "output"):
        info.pop(key, None)
    for options in info["likelihood"].values():
        options["data_folder"] = folder
    model = get_model(info)
    rng = np.random.default_rng(1)
    ref = model.prior.reference(random_state=rng)
    model.logpost(ref)
    times = []
    for _ in range(10 if quick else 50):
        point = model.prior.reference(random_state=rng)
        start = time.perf_counter()
        model.logpost(point)
        times.append(time.perf_counter() - start)
    return (_stamp("python scripts/update_timings.py --only planck2015-point") + "\n\n"
            "| model | one posterior evaluation (median, warm) |\n|---|---:|\n"
            f"| `yaml/planck2015_mcmc.yaml` (`trispectrum: varying`) | {1e3 * float(np.median(times)):.1f} ms |")


class _Skip(Exception):
    """A measurement that cannot be made here (the reason is printed)."""


SECTIONS: list[Section] = [
    Section("engine", "docs/engine.md", "python benchmarks/bench_cl_yy.py", True, _engine),
    Section("profiles", "docs/engine.md", "python benchmarks/bench_profiles.py", False, None),
    Section("mock-mcmc", "docs/usage.md",
            "cobaya-run yaml/mcmc_mock.yaml; mpirun -n 2 cobaya-run yaml/mcmc_mock.yaml", True, _mock_mcmc),
    Section("minimize-mock", "docs/minimize.md",
            "python benchmarks/bench_minimize.py --problem mock3 --starts 5", False, _minimize("mock3")),
    Section("minimize-planck", "docs/minimize.md",
            "python benchmarks/bench_minimize.py --problem planck --starts 5", False, _minimize("planck")),
    Section("planck2015-point", "docs/planck2015.md",
            "python scripts/update_timings.py --only planck2015-point", True, _planck_point_cost),
    Section("planck2015-mcmc", "docs/planck2015.md",
            "cobaya-run yaml/planck2015_mcmc.yaml (and with trispectrum: reference)", False, None),
]


def replace_section(text: str, name: str, body: str) -> str:
    """Replace the text between the start and end markers of section `name` by `body`.

    Raises
    ------
    ValueError
        If the markers are missing, repeated or out of order.
    """
    start, end = f"<!-- timings:{name} start -->", f"<!-- timings:{name} end -->"
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ValueError(f"markers of timing section {name!r} missing, repeated or out of order")
    head, rest = text.split(start)
    _, tail = rest.split(end)
    return f"{head}{start}\n{body.strip()}\n{end}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the measurements that take seconds")
    parser.add_argument("--dry-run", action="store_true", help="print the tables, write nothing")
    parser.add_argument("--only", nargs="+", choices=[s.name for s in SECTIONS], help="these sections only")
    args = parser.parse_args(argv)
    sys.path.insert(0, REPO)  # measure this checkout's package, not another installed copy
    for section in SECTIONS:
        if args.only and section.name not in args.only:
            continue
        if section.make is None or (args.quick and not section.quick and not args.only):
            print(f"[{section.name}] kept as measured; to redo it run: {section.command}")
            continue
        print(f"[{section.name}] measuring ({section.command}) ...", flush=True)
        try:
            body = section.make(args.quick)
        except _Skip as reason:
            print(f"[{section.name}] kept as measured: {reason}")
            continue
        path = os.path.join(REPO, section.doc)
        with open(path, encoding="utf-8") as f:
            text = replace_section(f.read(), section.name, body)
        if args.dry_run:
            print(body)
            continue
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"[{section.name}] written to {section.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
