"""The task domain: events, commands, the pure decide function and the event store."""
