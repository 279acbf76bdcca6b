-- Members, applications, and the grants, codes and tokens that connect them.
-- Times are seconds since the Unix epoch, UTC. Codes and tokens are stored
-- only as SHA-256 digests.

CREATE TABLE members (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    email         TEXT,
    password_hash TEXT    NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL,
    failed_logins BIGINT  NOT NULL DEFAULT 0,
    locked_until  BIGINT
);

CREATE TABLE clients (
    id         TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('web', 'mobile')),
    name       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE TABLE redirect_uris (
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    uri       TEXT NOT NULL,
    PRIMARY KEY (client_id, uri)
);

-- A grant is one session: what one code, and the refresh tokens that
-- followed it, gave one application on one device.
CREATE TABLE grants (
    id           TEXT    PRIMARY KEY,
    member_id    BIGINT  NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    client_id    TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    device_id    TEXT,
    access_type  TEXT    NOT NULL CHECK (access_type IN ('online', 'offline')),
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX grants_member_id ON grants (member_id);
CREATE INDEX grants_client_id ON grants (client_id);

CREATE TABLE codes (
    digest         BYTEA   PRIMARY KEY,
    member_id      BIGINT  NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    client_id      TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    device_id      TEXT,
    access_type    TEXT    NOT NULL CHECK (access_type IN ('online', 'offline')),
    redirect_uri   TEXT,
    code_challenge TEXT,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,
    used_at        BIGINT,
    grant_id       TEXT    REFERENCES grants (id) ON DELETE CASCADE
);
CREATE INDEX codes_expires_at ON codes (expires_at);
CREATE INDEX codes_grant_id ON codes (grant_id);

CREATE TABLE tokens (
    digest      BYTEA   PRIMARY KEY,
    grant_id    TEXT    NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    replaced_at BIGINT
);
CREATE INDEX tokens_grant_id ON tokens (grant_id);
CREATE INDEX tokens_expires_at ON tokens (expires_at);
