"""Helpers the tests share: tokens, fresh names, seeded tasks, servers, databases, replay."""
