-- Reviewing (issue #12): drafts, review comments, thread history, viewed marks, overrides.

-- Comments written while reviewing: private to this machine until published with a review.
-- `revision_id` is the revision under review (the newer side of the pair on screen); a
-- draft thread's anchor may point into the older side. A reply names its thread instead.
CREATE TABLE review_drafts (
    id          TEXT PRIMARY KEY,
    spec_id     TEXT NOT NULL REFERENCES specs(id) ON DELETE CASCADE,
    revision_id TEXT NOT NULL,
    thread_id   TEXT,
    anchor      TEXT,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((thread_id IS NULL) <> (anchor IS NULL))
) STRICT;
CREATE INDEX review_drafts_by_spec ON review_drafts (spec_id, revision_id, created_at);

-- What a published review carried besides its verdict (JSON arrays of ids).
ALTER TABLE reviews ADD COLUMN threads TEXT NOT NULL DEFAULT '[]';
ALTER TABLE reviews ADD COLUMN replies TEXT NOT NULL DEFAULT '[]';

-- Resolves, reopens and claims in server order (JSON array of ThreadHistoryEntry).
ALTER TABLE threads ADD COLUMN history TEXT NOT NULL DEFAULT '[]';

-- A reviewer's viewed marks: one per (spec, reviewer, path), holding the content viewed.
CREATE TABLE viewed_files (
    spec_id     TEXT NOT NULL REFERENCES specs(id) ON DELETE CASCADE,
    reviewer    TEXT NOT NULL,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    revision_id TEXT NOT NULL,
    viewed      INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (spec_id, reviewer, path)
) STRICT, WITHOUT ROWID;

-- An owner's acceptance without a settling review, with the reason.
CREATE TABLE acceptance_overrides (
    spec_id     TEXT PRIMARY KEY REFERENCES specs(id) ON DELETE CASCADE,
    revision_id TEXT,
    by          TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          INTEGER NOT NULL
) STRICT;
