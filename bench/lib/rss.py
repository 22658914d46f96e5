#!/usr/bin/env python3
"""Resident memory of a server's process tree, read from /proc right after a measurement (stdlib only).

Usage: rss.py ROOT_PID   prints one line:
  rss_mb=<role>:<MB>,...  every process of the tree, root first (root = the only process with one worker,
                          else the supervisor; w = worker; aux = multiprocessing's resource tracker)
  rss_worker_max_mb=<MB>  the largest worker (what the issue's "memory per worker" target is about)
  rss_total_mb=<MB>       the whole tree
"""
import os
import sys


def procs():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            with open(f"/proc/{d}/status") as f:
                rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ppid = int(s[s.rfind(")") + 2:].split()[1])
        out[int(d)] = (ppid, rss, cmd)
    return out


def main() -> None:
    root = int(sys.argv[1])
    snap = procs()
    if root not in snap:
        print("rss_mb=? rss_worker_max_mb=? rss_total_mb=?")
        return
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in snap.items():
        children.setdefault(ppid, []).append(pid)
    tree, stack = [], [root]
    while stack:
        p = stack.pop()
        tree.append(p)
        stack.extend(sorted(children.get(p, []), reverse=True))
    parts, workers = [], []
    for pid in tree:
        _, rss_kb, cmd = snap[pid]
        mb = rss_kb / 1024
        if len(tree) == 1:
            role = "w"
        elif pid == root:
            role = "root"
        elif "resource_tracker" in cmd or "semaphore_tracker" in cmd:
            role = "aux"
        else:
            role = "w"
        if role == "w":
            workers.append(mb)
        parts.append(f"{role}:{mb:.0f}")
    total = sum(snap[p][1] for p in tree) / 1024
    wmax = f"{max(workers):.0f}" if workers else "?"
    print(f"rss_mb={','.join(parts)} rss_worker_max_mb={wmax} rss_total_mb={total:.0f}")


if __name__ == "__main__":
    main()
