-- Security events, for `hktia-portal audit list`, and the failed sign-ins of
-- usernames that belong to no member, so that the sign-in pause looks the
-- same whether or not a username exists. Times are seconds since the Unix
-- epoch, UTC. No row holds a password, code or token.

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    event       TEXT    NOT NULL,
    member_id   INTEGER,
    username    TEXT,
    client_id   TEXT,
    grant_id    TEXT,
    address     TEXT,
    detail      TEXT
);
CREATE INDEX audit_events_occurred_at ON audit_events (occurred_at);
CREATE INDEX audit_events_member_id ON audit_events (member_id);

CREATE TABLE unknown_signins (
    username_key   TEXT    PRIMARY KEY,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   INTEGER,
    last_failed_at INTEGER NOT NULL
);
CREATE INDEX unknown_signins_last_failed_at ON unknown_signins (last_failed_at);

-- The cleanup task deletes ended and expired sessions.
CREATE INDEX grants_expires_at ON grants (expires_at);
CREATE INDEX grants_revoked_at ON grants (revoked_at);
