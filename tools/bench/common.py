"""What the side-by-side benchmarks share (`images`, `finetune`, `detection`, `detector-graph`): the CPU's name, the
d2l-cli to run (built here, or --d2l-cli PATH), the alternating rounds and the report's
medians and JSON. Imported by those scripts (they put tools/bench on sys.path)."""
import json
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu_model():
    """`grep -m1 'model name' /proc/cpuinfo`, without the key."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def add_cli_arguments(parser):
    parser.add_argument("--d2l-cli", metavar="PATH", help="the d2l-cli to run (default: build .build/release/d2l-cli)")
    parser.add_argument("--no-build", action="store_true", help="use the existing .build/release/d2l-cli")
    parser.add_argument("--torch-only", action="store_true", help="run the PyTorch side only (no d2l-cli)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds (d2l, PyTorch); medians reported")
    parser.add_argument("--json", metavar="PATH", help="also write the runs and medians as JSON")


def find_cli(args, name):
    """The d2l-cli path, or None with --torch-only; builds the release unless told not to."""
    if args.torch_only:
        return None
    cli = args.d2l_cli
    if cli is None:
        cli = os.path.join(ROOT, ".build", "release", "d2l-cli")
        if not args.no_build:  # the default build; D2L_TARGET_CPU=native from the caller tunes it
            subprocess.run(["swift", "build", "-c", "release", "--product", "d2l-cli"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
    if not os.access(cli, os.X_OK):
        raise SystemExit(f"{name}: no d2l-cli at {cli} (build it, pass --d2l-cli PATH, or run --torch-only)")
    return os.path.abspath(cli)


def run_cli(name, cmd):
    """stdout of `cmd`; a failure ends the benchmark with the command's last stderr line."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SystemExit(f"{name}: `{' '.join(cmd)}` exited {proc.returncode}: {last}")
    return proc.stdout


def alternate(repeats, ours, theirs):
    """Runs ours() (None: skipped) and theirs() in turn, `repeats` rounds, so that both see
    the same background load; each returns a dict with "images_per_sec". Returns the lists."""
    runs = {"d2l": [], "torch": []}
    for r in range(repeats):
        if ours is not None:
            runs["d2l"].append(ours())
            print(f"  round {r + 1}: d2l {runs['d2l'][-1]['images_per_sec']:.1f} images/s", file=sys.stderr, flush=True)
        runs["torch"].append(theirs())
        print(f"  round {r + 1}: torch {runs['torch'][-1]['images_per_sec']:.1f} images/s", file=sys.stderr, flush=True)
    return runs


def timed(fn, calls):
    """Median seconds per call of `fn` over `calls` calls (in-process benchmarks)."""
    import time
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def medians(runs):
    """{side: {key: median}} over each side's runs, for every numeric key."""
    return {side: {k: statistics.median(run[k] for run in rs) for k in rs[0]} for side, rs in runs.items() if rs}


def ratio(med):
    return med["d2l"]["images_per_sec"] / med["torch"]["images_per_sec"] if "d2l" in med else None


def write_json(path, report):
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
