"""Time and memory of ``make PRESET=paper figures`` (targets: 45 minutes, 8 GiB on 2 cores).

Runs the command under ``/usr/bin/time -v`` and prints its wall time and "Maximum resident set
size" (the largest single process of the run). Workers, sandboxed players and the command itself
are separate processes, so the script also samples, twice a second, the summed proportional set
size (PSS: shared pages split between the processes sharing them) of the whole process tree and
prints its peak. Each line the command prints is echoed with the minutes elapsed. ``--experiment NAME`` times ``barriers run NAME``
instead, with the Makefile's settings (one BLAS thread per worker, a worker per core): e.g.
``--experiment budget --preset scale --minutes 20`` for the budget scale preset (20 minutes,
8 GiB). Run: ``python benchmarks/paper.py``.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The Makefile's thread settings (one BLAS thread per worker process).
THREADS = ("OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1")


def tree_pss(root: int) -> dict[int, int]:
    """Proportional set size (PSS, /proc/PID/smaps_rollup) of ``root`` and each descendant by pid:
    a page shared by k processes counts 1/k in each, so the sum is the memory the tree occupies
    (summed RSS would count the fork server's pages once per sandboxed child)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    sizes, stack = {}, [root]
    while stack:
        pid = stack.pop()
        sizes[pid] = _pss_bytes(pid)
        stack.extend(children.get(pid, []))
    return sizes


def _pss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def echo_with_time(stream, start: float) -> None:
    """Print each line the command writes (one ``wrote ...`` per finished experiment) with the minutes elapsed."""
    for line in stream:
        print(f"[{(time.perf_counter() - start) / 60:5.1f} min] {line.rstrip()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="figures", help="Make target (default: figures)")
    parser.add_argument("--experiment", help="time `barriers run EXPERIMENT` instead of a Make target")
    parser.add_argument("--preset", default="paper")
    parser.add_argument("--minutes", type=float, default=45.0, help="time target in minutes")
    parser.add_argument("--out", help="keep the results in this directory (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or scratch
        if args.experiment:
            command = ["/usr/bin/time", "-v", "env", *THREADS, str(ROOT / ".venv/bin/barriers"), "run", args.experiment,
                       "--preset", args.preset, "--out", out, "--workers", str(os.cpu_count() or 1)]
            what = f"barriers run {args.experiment} --preset {args.preset}"
        else:
            command = ["/usr/bin/time", "-v", "make", "-C", str(ROOT), f"PRESET={args.preset}", f"OUT={out}", args.target]
            what = f"make PRESET={args.preset} {args.target}"
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak, at_peak = [0], [{}]

        def sample():
            while process.poll() is None:
                sizes = tree_pss(process.pid)
                if sum(sizes.values()) > peak[0]:
                    peak[0], at_peak[0] = sum(sizes.values()), sizes
                time.sleep(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        echo = threading.Thread(target=echo_with_time, args=(process.stdout, start), daemon=True)
        sampler.start()
        echo.start()
        report = process.stderr.read()
        process.wait()
        seconds = time.perf_counter() - start
        sampler.join()
        echo.join()
    largest = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    largest_gib = int(largest.group(1)) / 2**20 if largest else float("nan")
    status = "finished" if process.returncode == 0 else f"FAILED (exit {process.returncode})"
    print(f"{what}: {status} in {seconds / 60:.1f} min "
          f"(target <= {args.minutes:g}); largest process {largest_gib:.2f} GiB (/usr/bin/time -v), "
          f"whole process tree at most {peak[0] / 2**30:.2f} GiB of PSS (target <= 8)")
    largest_at_peak = sorted(at_peak[0].items(), key=lambda item: -item[1])[:3]
    print("  at the peak: " + ", ".join(f"pid {pid} {size / 2**30:.2f} GiB" for pid, size in largest_at_peak))
    if process.returncode != 0:
        print(report[-2000:])


if __name__ == "__main__":
    main()
