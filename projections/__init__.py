"""Read models derived from the event log: read-table rows, replay, rebuild and verify."""
