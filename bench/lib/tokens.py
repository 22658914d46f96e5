#!/usr/bin/env python3
"""AUTH HOOK: write a WRK_TOKENS file ("user token" lines) for the benchmark users, minted by our own
`tasks token USER [--role auditor]` (API.md). Run with the project venv's python, in the environment the
service runs with (the signing secret comes from the same settings).

Usage: tokens.py OUT_FILE
Exit 0: file written. Exit 3: this build has no `tasks token` (authentication not implemented yet): no file.

All tokens are minted in this one process (calling the CLI's main() 6,000 times costs seconds, where 6,000
`tasks token` processes would cost minutes). Users: u1..u5000 (seeded), w1..w1000 (writers of the create
scenario), and the pseudo-user "@feed": a token with role auditor for the global feed.
"""
import contextlib
import io
import sys


def mint(main, argv: list[str]) -> str | None:
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
    except SystemExit as e:  # argparse: unknown command
        rc = e.code
    token = out.getvalue().strip().split()[-1] if out.getvalue().strip() else ""
    return token if rc in (0, None) and token else None


def main() -> int:
    path = sys.argv[1]
    from app.cli import main as cli_main

    if mint(cli_main, ["token", "u1"]) is None:
        print("tokens: this build has no working `tasks token` (authentication not implemented yet)",
              file=sys.stderr)
        return 3
    users = [f"u{i}" for i in range(1, 5001)] + [f"w{i}" for i in range(1, 1001)]
    lines = []
    for user in users:
        token = mint(cli_main, ["token", user])
        if token is None:
            print(f"tokens: `tasks token {user}` failed", file=sys.stderr)
            return 1
        lines.append(f"{user} {token}")
    feed = mint(cli_main, ["token", "bench-auditor", "--role", "auditor"])
    if feed is None:
        print("tokens: `tasks token bench-auditor --role auditor` failed", file=sys.stderr)
        return 1
    lines.append(f"@feed {feed}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"tokens: {len(lines)} written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
