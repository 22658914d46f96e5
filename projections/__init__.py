"""Read models derived from the event log: the fold, the read-table writer, rebuild and verify."""
