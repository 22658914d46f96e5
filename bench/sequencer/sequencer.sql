-- The leader's loop, as pgbench can: move, then look again 2 ms later.
SELECT sequence_events(false);
\sleep 2 ms
