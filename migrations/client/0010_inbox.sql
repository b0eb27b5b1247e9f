-- The inbox (issue #14): what happened on each spec as the server recorded it, in the
-- server's order (seq: the spec scope's version, n: the place within it), and how far each
-- member has read it. Both are rebuilt from synced records like every visible table.
CREATE TABLE activity (
    spec_id TEXT NOT NULL REFERENCES specs(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    event   TEXT NOT NULL,
    PRIMARY KEY (spec_id, seq, n)
) STRICT;
CREATE INDEX activity_by_time ON activity (at);

CREATE TABLE read_marks (
    spec_id TEXT NOT NULL REFERENCES specs(id) ON DELETE CASCADE,
    email   TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (spec_id, email)
) STRICT;

-- Desktop notifications already shown on this machine (not synced: each machine shows its
-- own, and a read mark from another device stops the rest).
CREATE TABLE notified (
    spec_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (spec_id, seq, n)
) STRICT;
