"""The Litestar application, its settings and the `tasks` command line."""
