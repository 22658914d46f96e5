#!/usr/bin/env python3
"""Turn one run's summary lines ($RUN_DIR/summary.txt, written by lib/measure.sh and run.sh) into a markdown
section: machine, versions, date, exact command, the results table with ratios to the peer and the ceiling,
the issue's targets, 1 -> 2 worker scaling and the checks (load generator, connection spread, memory).
Prints it and appends it to the report file. Stdlib only.

Usage: report.py RUN_DIR REPORT_FILE
"""
import os
import platform
import statistics
import subprocess
import sys
from collections import OrderedDict

SCEN_ORDER = ["create", "get", "list", "toggle", "mixed", "feed"]
TARGET_ORDER = ["ours-defaults", "ours", "base", "peer", "ceiling"]  # base: the same service before a change (BASE_REPO)
OURS = ("ours", "ours-defaults")  # ours-defaults: `tasks serve` at its default settings (INFO log, default pool)
# Issue 13's targets, at 32 connections: p99 and max latency; server CPU per request against the ceiling's
# (theirs / ours: 1.0 = as cheap); the defaults row against the bench settings' row (req/s).
MAX_P99_MS, MAX_MAX_MS = 30.0, 100.0
MIN_CPU_X_CEILING = {"list": 0.9, "get": 0.9, "create": 0.95, "toggle": 0.95, "mixed": 0.95}
MIN_DEFAULTS_X_BENCH = 0.95
CPU_KEYS = {"server", "postgres", "loadgen", "other", "total", "window_s", "other_top", "contended"}
WRK_BOUND = 0.9  # a wrk thread busy this share of a core or more may be what limits the rate


def parse(line):
    parts = line.split()
    kv, prefix = {}, ""
    for p in parts[1:]:
        if p == "cpu_cores":
            prefix = "cpu_"  # the CPU sampler's fields follow (server=, postgres=, loadgen=, ...)
        elif "=" in p:
            k, v = p.split("=", 1)
            kv.setdefault((prefix if k in CPU_KEYS else "") + k, v)
    return parts[0], kv


def fnum(v, default=None):
    try:
        return float(v)
    except (TypeError, ValueError):
        return default


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def pkg_versions(python, names):
    if not python or not os.path.exists(python):
        return "not installed"
    code = ("import importlib.metadata as m, platform, sys\n"
            "out = ['Python ' + platform.python_version()]\n"
            "for n in sys.argv[1:]:\n"
            "    try: out.append(n + ' ' + m.version(n))\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(', '.join(out))")
    return sh(python, "-c", code, *names) or "?"


def machine():
    model = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal:"))
    except (OSError, StopIteration):
        mem_kb = 0
    osname = "?"
    try:
        osname = next(line.split("=", 1)[1].strip().strip('"') for line in open("/etc/os-release")
                      if line.startswith("PRETTY_NAME="))
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} cores (nproc {sh('nproc') or '?'}; {model}), {mem_kb / 1048576:.1f} GiB RAM, "
            f"{osname}, Linux {platform.release()}")


def read_meta(path):
    meta = OrderedDict()
    if os.path.exists(path):
        for line in open(path):
            if ": " in line:
                k, v = line.rstrip("\n").split(": ", 1)
                meta[k] = v
    return meta


def main():
    run_dir, report = sys.argv[1], sys.argv[2]
    meta = read_meta(os.path.join(run_dir, "meta.txt"))
    groups = OrderedDict()  # (scenario, workers, target) -> {"runs": [...], "status": ...}
    summary = os.path.join(run_dir, "summary.txt")
    for line in open(summary) if os.path.exists(summary) else []:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, kv = parse(line)
        key = (kv.get("scenario"), kv.get("workers"), kv.get("target"))
        g = groups.setdefault(key, {"runs": [], "status": None, "kv": kv})
        if kind == "http":
            g["runs"].append(kv)
        else:
            g["status"] = (kind, kv)

    def med(key, field):
        runs = groups.get(key, {}).get("runs", [])
        vals = [fnum(r.get(field)) for r in runs if fnum(r.get(field)) is not None]
        return statistics.median(vals) if vals else None

    def cpu_us(key):  # server CPU per request, µs (median over the runs)
        runs = groups.get(key, {}).get("runs", [])
        vals = [fnum(r.get("cpu_server")) * 1e6 / fnum(r.get("rps")) for r in runs
                if fnum(r.get("cpu_server")) is not None and fnum(r.get("rps"))]
        return statistics.median(vals) if vals else None

    def rep_run(key):  # the median run by req/s
        runs = sorted(groups[key]["runs"], key=lambda r: fnum(r.get("rps"), 0))
        return runs[len(runs) // 2]

    dur = fnum(meta.get("duration_s"), 0)
    smoke = dur < 20
    out = []
    title = meta.get("date", "?")
    out.append(f"## {title}" + (" (smoke run: DURATION < 20 s, not a measurement)" if smoke else ""))
    out.append("")
    out.append("Command, from the repository root:")
    out.append("")
    out.append("```sh")
    out.append(meta.get("command", "?"))
    out.append("```")
    out.append("")
    out.append(f"- Machine: {machine()}; wrk, the servers and PostgreSQL all on this one machine.")
    out.append(f"- Commit: {meta.get('commit', '?')}")
    out.append(f"- Ours: `tasks serve` (uvicorn), {pkg_versions(meta.get('tasks_python'), ['tasks-es', 'litestar', 'msgspec', 'asyncpg', 'uvicorn', 'uvloop', 'httptools'])}")
    out.append(f"- Peer: uvicorn, {pkg_versions(meta.get('peer_python'), ['fastapi', 'sqlmodel', 'SQLAlchemy', 'asyncpg', 'uvicorn', 'uvloop'])}; pool {meta.get('peer_pool', '?')}")
    out.append(f"- Ceiling: {meta.get('ceiling', '?')}, {pkg_versions(meta.get('ceiling_python'), ['litestar', 'msgspec', 'asyncpg', 'uvicorn', 'granian', 'uvloop'])}")
    out.append(f"- PostgreSQL {meta.get('postgres', '?')}; {meta.get('wrk', 'wrk ?')}, {meta.get('wrk_threads', '?')} thread(s), "
               f"{meta.get('conns', '?')} connections, {meta.get('warmup_s', '?')} s warm-up then {meta.get('duration_s', '?')} s measured, "
               f"{meta.get('repeat', '1')} run(s) per row (median shown)")
    out.append(f"- Data: {meta.get('data', '?')}")
    if meta.get("server"):
        out.append(f"- PostgreSQL server: {meta['server']}")
    if meta.get("base"):
        out.append(f"- Base (the same service before the change): {meta['base']}")
    if meta.get("listeners"):
        out.append(f"- Listeners: {meta['listeners']}")
    out.append(f"- Authentication: {meta.get('auth', '?')}")
    if meta.get("env"):
        out.append(f"- Settings from the environment: {meta['env']}")
    out.append(f"- Raw lines and logs: `{run_dir}`")
    out.append("")

    has_base = any(k[2] == "base" for k in groups)
    xb_head, xb_rule = (" × base |", "---|") if has_base else ("", "")
    out.append(f"| scenario | workers | target | req/s | p50 ms | p99 ms | max ms | × peer | × ceiling |{xb_head} server µs/req | non-2xx | RSS per worker MB | CPU cores: server / PG / wrk / all | conn split | busy cores before |")
    out.append(f"|---|---|---|---|---|---|---|---|---|{xb_rule}---|---|---|---|---|---|")
    keys = sorted(groups, key=lambda k: (SCEN_ORDER.index(k[0]) if k[0] in SCEN_ORDER else 99,
                                          int(k[1] or 0), TARGET_ORDER.index(k[2]) if k[2] in TARGET_ORDER else 9))
    notes, wrk_bound, contended, non2xx_ours, uneven = [], [], [], [], []
    for key in keys:
        sc, w, t = key
        g = groups[key]
        if not g["runs"]:
            kind, kv = g["status"]
            what = {"na": "n/a: no such endpoint in this service",
                    "skip": f"skipped: the endpoint answered {kv.get('reason', '?').rsplit('_', 1)[-1]}",
                    "fail": f"failed: see `{kv.get('log', '?')}`"}.get(kind, kind)
            out.append(f"| {sc} | {w} | {t} | {what} | | | | | |{' |' if has_base else ''} | | | | | |")
            if kind == "skip":
                notes.append(f"`{sc}` for {t} ({w} worker(s)) skipped: `{kv.get('probe', '?').replace(':', ' ', 1)}` answered "
                             f"{kv.get('reason', '?').rsplit('_', 1)[-1]}, so the endpoint does not exist yet.")
            elif kind == "fail":
                notes.append(f"`{sc}` for {t} ({w} worker(s)) FAILED: see `{kv.get('log', '?')}`.")
            continue
        rps = med(key, "rps")
        runs = g["runs"]
        all_rps = " / ".join(f"{fnum(x['rps']):,.0f}" for x in runs)
        rps_s = f"{rps:,.0f}" + (f" ({all_rps})" if len(runs) > 1 else "")
        xp = xc = xb = ""
        if t in OURS and has_base:
            rb = med((sc, w, "base"), "rps")
            xb = f"{rps / rb:.2f}" if rb else "n/a"
        if t in OURS:
            for ref, col in (("peer", "xp"), ("ceiling", "xc")):
                rr = med((sc, w, ref), "rps")
                val = f"{rps / rr:.2f}" if rr else "n/a"
                if col == "xp":
                    xp = val
                else:
                    xc = val
        r = rep_run(key)
        n2 = sum(int(fnum(x.get("non2xx"), 0)) + int(fnum(x.get("sock_err"), 0)) for x in runs)
        cores = f"{r.get('cpu_server', '?')} / {r.get('cpu_postgres', '?')} / {r.get('cpu_loadgen', '?')} / {r.get('cpu_total', '?')}"
        us = cpu_us(key)
        us_s = f"{us:.0f}" if us else "?"
        out.append(f"| {sc} | {w} | {t} | {rps_s} | {med(key, 'p50_ms'):.1f} | {med(key, 'p99_ms'):.1f} | {med(key, 'max_ms'):.0f} | {xp} | {xc} | "
                   + (f"{xb} | " if has_base else "") +
                   f"{us_s} | {n2} | {r.get('rss_worker_max_mb', '?')} | {cores} | {' '.join(x.get('conn_split', '?') for x in runs)} | "
                   f"{','.join(x.get('quiet_before', '?') for x in runs)} |")
        threads = fnum(r.get("wrk_threads"), 1)
        for x in runs:
            lg = fnum(x.get("cpu_loadgen"), 0)
            if lg >= WRK_BOUND * threads:
                wrk_bound.append(f"{sc}/{w}/{t} ({lg:.2f} cores)")
            if x.get("cpu_contended") == "yes":
                contended.append(f"{sc}/{w}/{t} (other: {x.get('cpu_other', '?')} cores, {x.get('cpu_other_top', '?')})")
            split = [int(p) for p in x.get("conn_split", "").split("/") if p.isdigit()]
            if int(w or 1) > 1 and len(split) < int(w):
                uneven.append(f"{sc}/{w}/{t} ({x.get('conn_split')})")
        if t in OURS and n2:
            non2xx_ours.append(f"{sc}/{w} ({n2})")
    out.append("")
    out.append("× peer and × ceiling: our req/s divided by theirs in the same scenario and worker count, in this run. "
               "p50/p99: wrk's latency percentiles. RSS: the largest worker process right after the measurement. "
               "CPU cores: average cores used during the measured window by the server's process tree, PostgreSQL, "
               "wrk, and the whole machine (shared/bench/lib/cpusample.py). conn split: established connections per "
               "server process, sampled once during the run.")
    out.append("")

    # Listeners (LISTENERS=1): what the SSE clients, the feed reader and the latency probe saw during each run of ours
    lrows = []
    for key in keys:
        for x in groups[key]["runs"]:
            if "l_ok" not in x:
                continue
            lrows.append(f"| {key[0]} | {key[1]} | {key[2]} | {x.get('l_ok')} | {x.get('l_events_expected', '?')} | "
                         f"{x.get('l_sse_global_events', '?')} | {x.get('l_sse_user_events', '?')} | "
                         f"{x.get('l_sse_bad', '?')} / {x.get('l_sse_behind', '?')} | "
                         f"{x.get('l_feed_events', '?')} in {x.get('l_feed_pages', '?')} | "
                         f"{x.get('l_probe_n', '0')} ({x.get('l_probe_failed', '0')} failed, {x.get('l_probe_lost', '0')} lost) | "
                         f"{x.get('l_probe_p50_ms', '-')} / {x.get('l_probe_p99_ms', '-')} / {x.get('l_probe_max_ms', '-')} | "
                         f"{x.get('l_cpu_s', '?')} s |")
    if lrows:
        out.append("Listeners on ours during the run (lib/listeners.py): events after the seed (the log's head at the end "
                   "minus the seed); events received by each SSE client on the whole log and on one user's events; "
                   "checks failed (a gap, a repeat, out of order, a user's stream unlike the feed) / streams that never "
                   "reached the head; the feed reader's events and pages; the probe's creates and the time from each 2xx "
                   "to its event on the streams (one sample per stream that carries it), and the listeners' own CPU time:")
        out.append("")
        out.append("| scenario | workers | target | all checks pass | events | SSE whole-log clients | SSE per-user clients | "
                   "failed / behind | feed | probe creates | 2xx → SSE p50 / p99 / max ms | listeners' CPU |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        out.extend(lrows)
        out.append("")

    # Targets
    ours_keys = [k for k in keys if k[2] in OURS and groups[k]["runs"]]
    if ours_keys:
        out.append(f"Targets of issue 13 (ours, both rows): p99 ≤ {MAX_P99_MS:g} ms, max ≤ {MAX_MAX_MS:g} ms, server CPU per "
                   f"request against the ceiling's (ceiling µs / ours µs) ≥ 0.9 for get and list, ≥ 0.95 for the writes and "
                   f"mixed; the defaults row ≥ {MIN_DEFAULTS_X_BENCH:g}× the bench-settings row in req/s:")
        out.append("")
        out.append("| scenario | workers | target | p99 | max | CPU/request × ceiling | defaults / bench req/s |")
        out.append("|---|---|---|---|---|---|---|")

        def mark(ok, text):
            return f"{'✓' if ok else '✗'} {text}"

        for k in ours_keys:
            sc, w, t = k
            p99, mx = med(k, "p99_ms"), med(k, "max_ms")
            cells = [mark(p99 <= MAX_P99_MS, f"{p99:.1f} ms"), mark(mx <= MAX_MAX_MS, f"{mx:.0f} ms")]
            ours_us, ceil_us = cpu_us(k), cpu_us((sc, w, "ceiling"))
            lim = MIN_CPU_X_CEILING.get(sc)
            cells.append(mark(ceil_us / ours_us >= lim, f"{ceil_us / ours_us:.2f} ({ours_us:.0f} / {ceil_us:.0f} µs)")
                         if ours_us and ceil_us and lim else "n/a")
            bench = med((sc, w, "ours"), "rps")
            cells.append(mark(med(k, "rps") / bench >= MIN_DEFAULTS_X_BENCH, f"{med(k, 'rps') / bench:.2f}")
                         if t == "ours-defaults" and bench else "")
            out.append(f"| {sc} | {w} | {t} | " + " | ".join(cells) + " |")
        out.append("")

    # 1 -> 2 workers
    scaling = []
    for t in TARGET_ORDER:
        for sc in SCEN_ORDER:
            a, b = med((sc, "1", t), "rps"), med((sc, "2", t), "rps")
            if a and b:
                scaling.append(f"| {sc} | {t} | {a:,.0f} | {b:,.0f} | {b / a:.2f} |")
    if scaling:
        out.append("Throughput from one worker to two:")
        out.append("")
        out.append("| scenario | target | 1 worker req/s | 2 workers req/s | 2 / 1 |")
        out.append("|---|---|---|---|---|")
        out.extend(scaling)
        out.append("")

    out.append("Checks:")
    out.append("")
    max_lg = max((fnum(x.get("cpu_loadgen"), 0) for g in groups.values() for x in g["runs"]), default=0)
    out.append(f"- Load generator: wrk runs with {meta.get('wrk_threads', '?')} thread(s), so it can never use more than that "
               f"many cores; a saturated wrk shows up as its thread count in the wrk column (1.00 per thread) while the "
               f"server still has CPU to spare. The most wrk used in any run here: {max_lg:.2f} cores. "
               + (f"Runs where wrk was at ≥ {WRK_BOUND:g} core per thread (their figures may be wrk's limit, not the "
                  f"server's): {', '.join(wrk_bound)}." if wrk_bound else
                  f"No run had wrk at ≥ {WRK_BOUND:g} core per thread: wrk was not the bottleneck."))
    out.append("- Other load: " + (f"other processes used ≥ 0.10 cores during {', '.join(contended)}: "
                                     "those figures are depressed (compare ratios within one run only)."
                                     if contended else "no run saw other processes using ≥ 0.10 cores."))
    if uneven:
        out.append(f"- Connection spread: some worker served no connection in {', '.join(uneven)}: "
                   "that figure measures fewer workers than it says.")
    if non2xx_ours:
        out.append(f"- Our service answered non-2xx (or wrk saw socket errors) in {', '.join(non2xx_ours)}: "
                   "see the server logs in the run folder; such figures do not count.")
    for n in notes:
        out.append(f"- {n}")
    out.append("")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(report, "a") as f:
        f.write("\n" + text)


if __name__ == "__main__":
    main()
