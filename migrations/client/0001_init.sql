-- Handoff local store, schema 1. Append-only: never edit this file once released; add 0002_*.sql.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE workspaces (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    -- 1 for the workspace a client creates for itself before it joins any server.
    is_local INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE members (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL,
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'reviewer', 'contractor')),
    timezone      TEXT NOT NULL,
    working_hours TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
) STRICT;

CREATE TABLE specs (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    title          TEXT NOT NULL,
    system_context TEXT NOT NULL DEFAULT '',
    api_shape      TEXT NOT NULL DEFAULT '',
    out_of_scope   TEXT NOT NULL DEFAULT '',
    notes          TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    due_date       TEXT,
    created_by     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX specs_by_workspace ON specs (workspace_id, updated_at);

CREATE TABLE criteria (
    id       TEXT PRIMARY KEY,
    spec_id  TEXT NOT NULL REFERENCES specs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text     TEXT NOT NULL
) STRICT;
CREATE INDEX criteria_by_spec ON criteria (spec_id, position);

CREATE TABLE spec_assignees (
    spec_id TEXT NOT NULL REFERENCES specs(id) ON DELETE CASCADE,
    email   TEXT NOT NULL,
    PRIMARY KEY (spec_id, email)
) STRICT;

CREATE TABLE deliverables (
    id         TEXT PRIMARY KEY,
    spec_id    TEXT NOT NULL REFERENCES specs(id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX deliverables_by_spec ON deliverables (spec_id);

CREATE TABLE revisions (
    id               TEXT PRIMARY KEY,
    deliverable_id   TEXT NOT NULL REFERENCES deliverables(id) ON DELETE CASCADE,
    spec_id          TEXT NOT NULL REFERENCES specs(id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    number_confirmed INTEGER NOT NULL DEFAULT 0,
    summary          TEXT NOT NULL,
    addresses        TEXT NOT NULL DEFAULT '[]',
    created_by       TEXT NOT NULL,
    created_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX revisions_by_deliverable ON revisions (deliverable_id, number);

CREATE TABLE revision_files (
    revision_id TEXT NOT NULL REFERENCES revisions(id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    executable  INTEGER NOT NULL,
    PRIMARY KEY (revision_id, path)
) STRICT;

CREATE TABLE threads (
    id         TEXT PRIMARY KEY,
    spec_id    TEXT NOT NULL REFERENCES specs(id) ON DELETE CASCADE,
    anchor     TEXT NOT NULL,
    resolved   INTEGER NOT NULL DEFAULT 0,
    events     INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX threads_by_spec ON threads (spec_id, created_at);

CREATE TABLE comments (
    id         TEXT PRIMARY KEY,
    thread_id  TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    spec_id    TEXT NOT NULL,
    author     TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at  INTEGER,
    redacted   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX comments_by_thread ON comments (thread_id, created_at);

CREATE TABLE reviews (
    id           TEXT PRIMARY KEY,
    revision_id  TEXT NOT NULL REFERENCES revisions(id) ON DELETE CASCADE,
    spec_id      TEXT NOT NULL,
    reviewer     TEXT NOT NULL,
    verdict      TEXT NOT NULL,
    summary      TEXT NOT NULL,
    criteria     TEXT NOT NULL,
    published_at INTEGER NOT NULL
) STRICT;

-- Conflicts the server recorded (kept whole, as the wire record).
CREATE TABLE conflicts (
    id      TEXT PRIMARY KEY,
    spec_id TEXT NOT NULL,
    record  TEXT NOT NULL
) STRICT;

-- Every local change, in order, until the server has recorded its result (DESIGN §3 inv. 1, 3).
CREATE TABLE outbox (
    mutation_id INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    spec_id     TEXT NOT NULL,
    envelope    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    -- pending: waiting to be pushed; attention: the server rejected it or kept a conflict.
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'attention')),
    outcome     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
) STRICT;

-- Last applied version per sync scope (DESIGN §3 inv. 4).
CREATE TABLE sync_cursors (
    scope   TEXT PRIMARY KEY,
    version INTEGER NOT NULL
) STRICT;

-- Blobs present in the local blob store.
CREATE TABLE blobs (
    sha256    TEXT PRIMARY KEY,
    size      INTEGER NOT NULL,
    stored_at INTEGER NOT NULL
) STRICT;

-- Full-text search over spec text, criteria, comments and file paths, kept by triggers so
-- pulled changes are searchable exactly like local ones.
CREATE VIRTUAL TABLE search_index USING fts5(
    kind UNINDEXED, ref_id UNINDEXED, spec_id UNINDEXED, text,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER specs_ai AFTER INSERT ON specs BEGIN
    INSERT INTO search_index (kind, ref_id, spec_id, text) VALUES ('spec', new.id, new.id,
        new.title || char(10) || new.system_context || char(10) || new.api_shape || char(10) || new.out_of_scope || char(10) || new.notes);
END;
CREATE TRIGGER specs_au AFTER UPDATE OF title, system_context, api_shape, out_of_scope, notes ON specs BEGIN
    DELETE FROM search_index WHERE kind = 'spec' AND ref_id = old.id;
    INSERT INTO search_index (kind, ref_id, spec_id, text) VALUES ('spec', new.id, new.id,
        new.title || char(10) || new.system_context || char(10) || new.api_shape || char(10) || new.out_of_scope || char(10) || new.notes);
END;
CREATE TRIGGER specs_ad AFTER DELETE ON specs BEGIN
    DELETE FROM search_index WHERE spec_id = old.id;
END;

CREATE TRIGGER criteria_ai AFTER INSERT ON criteria BEGIN
    INSERT INTO search_index (kind, ref_id, spec_id, text) VALUES ('criterion', new.id, new.spec_id, new.text);
END;
CREATE TRIGGER criteria_au AFTER UPDATE OF text ON criteria BEGIN
    DELETE FROM search_index WHERE kind = 'criterion' AND ref_id = old.id;
    INSERT INTO search_index (kind, ref_id, spec_id, text) VALUES ('criterion', new.id, new.spec_id, new.text);
END;
CREATE TRIGGER criteria_ad AFTER DELETE ON criteria BEGIN
    DELETE FROM search_index WHERE kind = 'criterion' AND ref_id = old.id;
END;

CREATE TRIGGER comments_ai AFTER INSERT ON comments BEGIN
    INSERT INTO search_index (kind, ref_id, spec_id, text) VALUES ('comment', new.id, new.spec_id, new.body);
END;
CREATE TRIGGER comments_au AFTER UPDATE OF body ON comments BEGIN
    DELETE FROM search_index WHERE kind = 'comment' AND ref_id = old.id;
    INSERT INTO search_index (kind, ref_id, spec_id, text) VALUES ('comment', new.id, new.spec_id, new.body);
END;
CREATE TRIGGER comments_ad AFTER DELETE ON comments BEGIN
    DELETE FROM search_index WHERE kind = 'comment' AND ref_id = old.id;
END;

CREATE TRIGGER revision_files_ai AFTER INSERT ON revision_files BEGIN
    INSERT INTO search_index (kind, ref_id, spec_id, text)
    VALUES ('file', new.revision_id || '/' || new.path, (SELECT spec_id FROM revisions WHERE id = new.revision_id),
            replace(replace(replace(new.path, '/', ' '), '_', ' '), '.', ' ') || ' ' || new.path);
END;
CREATE TRIGGER revision_files_ad AFTER DELETE ON revision_files BEGIN
    DELETE FROM search_index WHERE kind = 'file' AND ref_id = old.revision_id || '/' || old.path;
END;
