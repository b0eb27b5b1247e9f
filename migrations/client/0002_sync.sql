-- Handoff local store, schema 2: the synced copy the sync engine rebases pending edits on.
-- Append-only: never edit this file once released.

-- The server's current state of every record this client pulled, exactly as pulled
-- (DESIGN §3 inv. 5). The visible tables are this copy with the still-pending outbox
-- mutations replayed on top.
CREATE TABLE synced_records (
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    scope TEXT NOT NULL,
    data  TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT;
CREATE INDEX synced_records_by_scope ON synced_records (scope);

-- Scopes whose visible rows may still show the optimistic effect of a mutation the server
-- has answered: rebuilt from synced_records (+ pending) at the next pull.
CREATE TABLE sync_dirty (
    scope TEXT PRIMARY KEY
) STRICT;
