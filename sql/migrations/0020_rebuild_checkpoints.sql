-- Where an interrupted `tasks rebuild` stands, so that it can resume instead of starting over.
--
-- One row per read table being rebuilt (today only 'tasks'), written in the same
-- transaction as the rows it describes, so the fresh table and its checkpoint never
-- disagree. The bulk phase folds every stream of the log up to snapshot_position, in
-- (user_id, stream_id) order: every stream up to (last_user_id, last_stream_id) is in
-- the fresh table. The catch-up phase then applies events after snapshot_position in
-- log order: every event up to caught_up_position is applied. The swap deletes the row.
CREATE TABLE IF NOT EXISTS rebuild_checkpoints (
    name               text        PRIMARY KEY,
    snapshot_position  bigint      NOT NULL,
    snapshot_events    bigint      NOT NULL,
    last_user_id       text,
    last_stream_id     uuid,
    events_done        bigint      NOT NULL DEFAULT 0,
    bulk_done          boolean     NOT NULL DEFAULT false,
    caught_up_position bigint,
    started_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
