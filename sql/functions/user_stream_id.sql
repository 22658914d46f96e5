-- The id of a user's own stream (where UserErased is recorded): a name-based UUID,
-- version 3 of RFC 4122, md5 over a fixed namespace and the user id. The same as
-- events.types.user_stream_id in Python (uuid.uuid3). Version 3 rather than 5 because
-- md5 is built into PostgreSQL and sha1 needs an extension; the id only has to be
-- stable and distinct from the random task ids, not secret.
CREATE OR REPLACE FUNCTION user_stream_id(p_user_id text)
RETURNS uuid
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
AS $$
SELECT (substr(h, 1, 12)
        || '3'
        || substr(h, 14, 3)
        || to_hex(((('x' || substr(h, 17, 1))::bit(4)::integer) & 3) | 8)
        || substr(h, 18))::uuid
  FROM (SELECT md5(decode('6f1d2c3e8a4b4c5d9e6f7a8b9c0d1e2f', 'hex')
                   || convert_to(p_user_id, 'UTF8')) AS h) AS digest
$$;
