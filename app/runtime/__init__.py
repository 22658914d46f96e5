"""What runs beside the requests: the pool, migrations, the embedded server, replicas, the
leader and its jobs, the event hub, and the advisory lock keys. No HTTP here."""
