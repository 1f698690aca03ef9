-- Two database roles: the owner, which owns the schema and runs `loanctl migrate`
-- (MIGRATE_DATABASE_URL), and the serving role the workers and every other loanctl command use
-- (DATABASE_URL), which owns nothing. Only an owner (or a superuser) can ALTER a table, so only
-- it could disable the append-only triggers; the serving role reads and writes rows and can only
-- SELECT and INSERT on the append-only tables, so the audit trail holds even against the
-- application's own credentials.
--
-- loanflow_grant_serving(role) gives the serving role what it needs and nothing more, and is
-- idempotent: `loanctl migrate` calls it after every run with the user named in DATABASE_URL
-- (nothing to do when that is the owner itself: a single-role setup, as before). It grants
--   * SELECT, INSERT, UPDATE, DELETE on every table and view (never TRUNCATE, never ownership);
--   * USAGE, SELECT on every sequence; EXECUTE on every function;
--   * the same by default on whatever the owner creates later (ALTER DEFAULT PRIVILEGES), so a
--     table a later migration adds is usable by the server without that migration knowing of
--     roles;
-- then takes back UPDATE, DELETE and TRUNCATE on the append-only tables: audit_events and
-- approval_logs by name, and every table a refuse_change() trigger guards, per event (so
-- risk_models keeps the UPDATE its activation needs, while risk_grades, risk_model_features and
-- bureau_tiers, append-only or immutable, lose it), including later ones; and every change to
-- schema_migrations (SELECT only). It runs as the owner (it is not SECURITY DEFINER), and only
-- the owner may execute it.
CREATE FUNCTION loanflow_grant_serving(serving text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    IF serving IS NULL OR serving = '' OR serving = current_user THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = serving) THEN
        RAISE EXCEPTION 'the serving role "%" (the user of DATABASE_URL) does not exist', serving;
    END IF;
    IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = serving) THEN
        RAISE WARNING 'the serving role "%" is a superuser: the append-only tables are not protected from it', serving;
    ELSIF pg_has_role(serving, current_user, 'MEMBER') THEN
        RAISE WARNING 'the serving role "%" is a member of the owner "%": it can act as the owner', serving, current_user;
    END IF;

    -- Only the owner creates objects (PostgreSQL 15 already revokes this from PUBLIC).
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
    EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', serving);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I', serving);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I', serving);
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO %I', serving);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', current_user, serving);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'GRANT USAGE, SELECT ON SEQUENCES TO %I', current_user, serving);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
                   'GRANT EXECUTE ON FUNCTIONS TO %I', current_user, serving);

    -- The append-only audit trails, by name.
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_events, approval_logs FROM %I', serving);
    -- Every table a refuse_change() trigger guards, for the events it guards (pg_trigger.tgtype:
    -- 8 DELETE, 16 UPDATE, 32 TRUNCATE).
    FOR t IN
        SELECT c.oid::regclass AS tab,
               bool_or((tr.tgtype::int & 8) <> 0) AS del,
               bool_or((tr.tgtype::int & 16) <> 0) AS upd,
               bool_or((tr.tgtype::int & 32) <> 0) AS trunc
          FROM pg_trigger tr
          JOIN pg_class c ON c.oid = tr.tgrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
         WHERE tr.tgfoid = 'refuse_change()'::regprocedure AND NOT tr.tgisinternal
         GROUP BY c.oid
    LOOP
        IF t.del THEN EXECUTE format('REVOKE DELETE ON %s FROM %I', t.tab, serving); END IF;
        IF t.upd THEN EXECUTE format('REVOKE UPDATE ON %s FROM %I', t.tab, serving); END IF;
        IF t.trunc THEN EXECUTE format('REVOKE TRUNCATE ON %s FROM %I', t.tab, serving); END IF;
    END LOOP;
    -- The migration history is the owner's.
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migrations FROM %I', serving);
    EXECUTE format('REVOKE ALL ON FUNCTION loanflow_grant_serving(text) FROM PUBLIC, %I', serving);
END
$$;
REVOKE ALL ON FUNCTION loanflow_grant_serving(text) FROM PUBLIC;
