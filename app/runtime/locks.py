"""Every PostgreSQL advisory lock key this service takes, in one place."""

# The one lock every append takes, held to commit, so positions become visible in order
# (0x7461736b, "task"). Erasure and the rebuild's swap take it too.
APPEND_LOCK = 1952539499
# Serialises migration runs of several processes starting at once.
MIGRATE_LOCK = 1952539500
# One rebuild at a time (exclusive), verifies beside each other but not during one (shared).
REBUILD_LOCK = 1952539501
# Held by the process that runs the once-per-deployment jobs.
LEADER_LOCK = 1952539502
