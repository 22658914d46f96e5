-- ensure_analyst_role: create or update a LOGIN role that can read the analytics views
-- and the events table and nothing else, and can write nothing (`tasks analyst-role`).
--
-- Privileges start from nothing (REVOKE ALL on everything in the two schemas and the
-- database), then exactly CONNECT, USAGE on public and analytics, and SELECT on events
-- and every view in analytics are granted. Nothing else in public (the read table, the
-- migrations table, idempotency records, secrets) is readable, including tables added
-- later: nothing is granted by default. The views run with their owner's rights, so
-- SELECT on a view is enough. default_transaction_read_only is a second fence.
-- Refuses to touch an existing role that could do more (superuser, CREATEROLE, a member
-- of other roles, an owner of objects here), rather than silently demoting it.
-- p_password is a SCRAM-SHA-256 verifier computed by the client, never the password.
CREATE OR REPLACE FUNCTION ensure_analyst_role(p_role text, p_password text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
AS $$
DECLARE
    existing pg_roles%ROWTYPE;
    db text := current_database();
BEGIN
    IF p_role !~ '^[a-z_][a-z0-9_]{0,62}$' OR p_role LIKE 'pg\_%' THEN
        RAISE EXCEPTION 'role name must be 1 to 63 of a-z 0-9 _, not starting with a digit or pg_'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT * INTO existing FROM pg_roles WHERE rolname = p_role;
    IF NOT FOUND THEN
        EXECUTE format('CREATE ROLE %I LOGIN', p_role);
    ELSIF existing.rolsuper OR existing.rolcreaterole OR existing.rolcreatedb
          OR existing.rolreplication OR existing.rolbypassrls
          OR p_role IN (current_user, session_user)
          OR EXISTS (SELECT 1 FROM pg_auth_members WHERE member = existing.oid)
          OR EXISTS (SELECT 1 FROM pg_class WHERE relowner = existing.oid)
          OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspowner = existing.oid)
          OR EXISTS (SELECT 1 FROM pg_proc WHERE proowner = existing.oid)
    THEN
        RAISE EXCEPTION 'role % can do more than read; refusing to make it an analyst role', p_role
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
                   p_role);
    IF p_password IS NOT NULL THEN
        EXECUTE format('ALTER ROLE %I PASSWORD %L', p_role, p_password);
    END IF;
    EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on', p_role);

    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public, analytics FROM %I', p_role);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public, analytics FROM %I', p_role);
    EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public, analytics FROM %I', p_role);
    EXECUTE format('REVOKE ALL ON SCHEMA public, analytics FROM %I', p_role);
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', db, p_role);

    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', db, p_role);
    EXECUTE format('GRANT USAGE ON SCHEMA public, analytics TO %I', p_role);
    EXECUTE format('GRANT SELECT ON TABLE events TO %I', p_role);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO %I', p_role);
    RETURN existing.oid IS NULL;
END
$$;

REVOKE ALL
    ON FUNCTION ensure_analyst_role(text, text)
  FROM PUBLIC;
