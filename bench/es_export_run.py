"""Measure `tasks events export` on the log bench/es_export_log.py built (see bench/EXPORT.md).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/tasks_export_bench \
        .venv/bin/python bench/es_export_run.py --runs 5

Runs the real command (`tasks events export --format F -o FILE`) once per format and run,
in turn, and reads the rate it reports (events over the time from connecting to the last
byte written, without the Python start-up). Prints a Markdown table: median and best per
format, with how many cores other processes kept busy in the pause before each run, since
on a shared machine only the quiet runs say what the code can do.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATE = re.compile(rb"exported ([\d,]+) events to .* in ([\d.]+) s")


def busy_cores(seconds: float) -> float:
    """Cores kept busy by other processes: sampled while nothing of ours runs."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return (os.cpu_count() or 1) * (1 - (idle1 - idle0) / max(1, total1 - total0))


def run_once(fmt: str, target: Path, pause: float) -> tuple[int, float, float]:
    load = busy_cores(pause)
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "events", "export", "--format", fmt, "-o", str(target)],
        capture_output=True,
        check=True,
        env={**os.environ, "TASKS_LOG_LEVEL": "WARNING"},
    )
    match = RATE.search(done.stderr)
    if match is None:
        raise RuntimeError(done.stderr.decode())
    target.unlink()
    return int(match[1].replace(b",", b"")), float(match[2]), load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--formats", default="ndjson,csv,parquet")
    parser.add_argument(
        "--pause", type=float, default=2.0, help="seconds between runs, spent sampling the CPU"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("set DATABASE_URL to the database es_export_log.py built")
    formats = args.formats.split(",")
    results: dict[str, list[tuple[int, float, float]]] = {f: [] for f in formats}
    with tempfile.TemporaryDirectory(prefix="es-export-") as folder:
        for _ in range(args.runs):
            for fmt in formats:
                results[fmt].append(run_once(fmt, Path(folder) / f"events.{fmt}", args.pause))
    print(f"{os.cpu_count()} cores; {args.runs} runs per format, formats in turn\n")
    print(
        "| format | events | median events/s | best events/s | cores busy with other work just before each run |"
    )
    print("| --- | --- | --- | --- | --- |")
    for fmt, runs in results.items():
        rates = [n / s for n, s, _ in runs]
        loads = ", ".join(f"{load:.1f}" for _, _, load in runs)
        print(
            f"| {fmt} | {runs[0][0]:,} | {statistics.median(rates):,.0f} | {max(rates):,.0f} | {loads} |"
        )


if __name__ == "__main__":
    main()
