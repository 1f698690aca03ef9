-- Accounts and the append-only audit trail of account events.
-- Applied by `loanctl migrate` in one transaction and recorded in schema_migrations.

CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    name            text        NOT NULL CHECK (char_length(name) BETWEEN 3 AND 100),
    email           text        NOT NULL CHECK (char_length(email) <= 254),
    password_hash   text        NOT NULL,
    role            text        NOT NULL DEFAULT 'applicant'
                                CHECK (role IN ('applicant', 'officer', 'admin')),
    disabled        boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz,
    failed_logins   integer     NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until    timestamptz,
    -- Bumped when the role changes or the account is disabled; tokens carry the version they
    -- were issued under ("ver") and an older one is refused.
    token_version   integer     NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
CREATE INDEX users_created_at ON users (created_at DESC, id DESC);

CREATE TABLE audit_events (
    id          bigserial   PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint      REFERENCES users (id),
    actor_email text,
    action      text        NOT NULL,
    target_type text,
    target_id   text,
    client_addr text,
    user_agent  text,
    details     jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_time ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id, occurred_at DESC);

-- Append-only: history cannot be rewritten, not even by the application's own role.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
