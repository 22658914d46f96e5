"""For analysts: exporting the log, erasure on request, the read-only analyst role. No HTTP."""
