-- An owner's move of a spec to ready although readiness rules failed (issue #14), with the
-- reason and the rules that failed then (a JSON array of rule names), shown on the spec.
CREATE TABLE ready_overrides (
    spec_id TEXT PRIMARY KEY REFERENCES specs(id) ON DELETE CASCADE,
    by      TEXT NOT NULL,
    reason  TEXT NOT NULL,
    failing TEXT NOT NULL,
    at      INTEGER NOT NULL
) STRICT;
