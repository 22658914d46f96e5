"""Storage: the event store, the read table's queries and idempotency records. No HTTP here."""
