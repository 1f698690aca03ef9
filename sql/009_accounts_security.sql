-- Accounts hardening (issue 11).
--
-- revoked_tokens: logged-out tokens until they expire. PostgreSQL is the source of truth (a Redis
-- restart, flush or eviction cannot bring a token back); workers cache the answer for a few
-- seconds. Rows past their expiry are pruned by every logout.
CREATE TABLE revoked_tokens (
    jti        text        PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

-- login_throttle: failed sign-ins counted per key, where a key is "e:" and a keyed hash of the
-- lower-cased email (so unknown emails count exactly like known ones, and no email is stored)
-- or "a:" and the client address. Past a few failures within the window each further failure
-- blocks the key for a delay that doubles (capped); nothing is ever locked for good.
CREATE TABLE login_throttle (
    key             text        PRIMARY KEY,
    user_id         bigint      REFERENCES users (id),
    failures        integer     NOT NULL CHECK (failures >= 0),
    last_failure_at timestamptz NOT NULL DEFAULT now(),
    blocked_until   timestamptz
);
CREATE INDEX login_throttle_user ON login_throttle (user_id) WHERE user_id IS NOT NULL;

-- The address a user last signed in from: failures from other addresses do not slow the owner.
ALTER TABLE users ADD COLUMN last_login_addr text;

-- Whether the password meets the staff rule (at least 12 bytes), recorded when it is set, so a
-- promotion to officer or admin can require it without keeping the password's length; NULL for
-- passwords set before this migration (not known to be short).
ALTER TABLE users ADD COLUMN password_staff_ok boolean;

-- The old lock-out is gone: nothing reads these any more.
UPDATE users SET failed_logins = 0, locked_until = NULL;

-- The block a key gets at its failures-th failure: none below free, then 2, 4, 8 … seconds, at
-- most cap.
CREATE FUNCTION login_throttle_block(failures integer, free integer, cap integer)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN failures >= free
                THEN now() + make_interval(secs => least(cap, power(2, least(failures - free + 1, 20))))
           END
$$;
