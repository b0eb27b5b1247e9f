-- Specs restored from an export folder (`handoff import`, issue #15) are archived records:
-- read-only here, never pushed (no outbox entry is ever made for them) and not synced
-- records either (nothing in synced_records or sync_cursors), so sync neither sends nor
-- rebuilds them. If a server later sends the same spec's scope, its copy replaces the
-- archive (sync/local/pull.rs). The manifest's own sha256 says which folder it came from.
CREATE TABLE archived_specs (
    spec_id         TEXT PRIMARY KEY REFERENCES specs(id) ON DELETE CASCADE,
    manifest_sha256 TEXT NOT NULL,
    imported_at     INTEGER NOT NULL
) STRICT;
