"""The task domain: events, commands, state, the pure decide and evolve, and the input rules."""
