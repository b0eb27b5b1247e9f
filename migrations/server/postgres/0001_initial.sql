-- Handoff server schema, PostgreSQL. Append-only: never edit a migration once released.
-- Integers are 64-bit, booleans are 0/1 and ids are text, identically on SQLite, so the
-- server's SQL is written once.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE members (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    role          TEXT NOT NULL CHECK (role IN ('owner', 'reviewer', 'contractor')),
    timezone      TEXT NOT NULL,
    start_minute  BIGINT NOT NULL,
    end_minute    BIGINT NOT NULL,
    days          BIGINT NOT NULL,
    joined_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX members_by_user ON members(user_id);

CREATE TABLE invites (
    code_hash     TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'reviewer', 'contractor')),
    created_by    TEXT,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    used_at       BIGINT
);

CREATE TABLE tokens (
    id            TEXT PRIMARY KEY,
    token_hash    TEXT NOT NULL UNIQUE,
    user_id       TEXT NOT NULL REFERENCES users(id),
    device_name   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX tokens_by_user ON tokens(user_id);

-- One version counter per scope (`workspace:<id>` or `spec:<id>`), bumped in every write
-- transaction that touches the scope.
CREATE TABLE scopes (
    scope         TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id),
    kind          TEXT NOT NULL CHECK (kind IN ('workspace', 'spec')),
    version       BIGINT NOT NULL
);
CREATE INDEX scopes_by_workspace ON scopes(workspace_id, kind);

-- The current state of every synced entity as its pull record (`protocol::Record` JSON),
-- with the (scope, version) of its last write and the per-field clocks of LWW fields.
CREATE TABLE records (
    kind     TEXT NOT NULL,
    id       TEXT NOT NULL,
    scope    TEXT NOT NULL REFERENCES scopes(scope),
    version  BIGINT NOT NULL,
    data     TEXT NOT NULL,
    meta     TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX records_by_scope_version ON records(scope, version);

-- Who a spec is assigned to: contractors see exactly these scopes.
CREATE TABLE assignments (
    scope  TEXT NOT NULL REFERENCES scopes(scope),
    email  TEXT NOT NULL,
    PRIMARY KEY (scope, email)
);
CREATE INDEX assignments_by_email ON assignments(email);

-- Revision numbers, assigned at commit: max + 1 per deliverable, never twice.
CREATE TABLE revision_numbers (
    deliverable_id  TEXT NOT NULL,
    number          BIGINT NOT NULL,
    revision_id     TEXT NOT NULL UNIQUE,
    PRIMARY KEY (deliverable_id, number)
);

-- Resolve/reopen events, append-only; a thread's state is derived from the last one.
CREATE TABLE thread_events (
    id         TEXT PRIMARY KEY,
    thread_id  TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('resolve', 'reopen')),
    author     TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX thread_events_by_thread ON thread_events(thread_id);

-- Each client installation belongs to one user; its last recorded mutation id.
CREATE TABLE clients (
    client_id         TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users(id),
    last_mutation_id  BIGINT NOT NULL
);

-- The recorded outcome of every mutation, written in the same transaction as its effects.
CREATE TABLE mutation_outcomes (
    client_id    TEXT NOT NULL REFERENCES clients(client_id),
    mutation_id  BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    PRIMARY KEY (client_id, mutation_id)
);

-- Verified blobs on the blob store, who uploaded them, and which specs reference them.
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE blob_uploads (
    sha256   TEXT NOT NULL REFERENCES blobs(sha256),
    user_id  TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (sha256, user_id)
);
CREATE TABLE revision_blobs (
    sha256  TEXT NOT NULL,
    scope   TEXT NOT NULL REFERENCES scopes(scope),
    PRIMARY KEY (sha256, scope)
);
