-- Handoff local store, schema 3: search text indexed once per transaction instead of per row,
-- and a leaner synced copy.
-- Append-only: never edit this file once released.
--
-- Why: schema 1 wrote into the FTS5 table from row triggers. Once an FTS5 table has been
-- written in a transaction, every later statement that opens a statement journal (any
-- upsert, any statement that fires a trigger) makes FTS5 flush its pending terms to a new
-- on-disk segment, and merge segments. An initial sync of 100k comments paid that flush on
-- every row. Its deletes (`WHERE kind = ? AND ref_id = ?` on UNINDEXED columns) also scanned
-- the whole index on every spec edit. Now triggers keep a plain table of searchable
-- documents; new ones are those above a high-water mark, changed ones are listed with the
-- text the index holds. The store brings the index up to date with a few set-based
-- statements just before each commit (`store::commit`), so FTS5 is written once, at the end.

DROP TRIGGER specs_ai;
DROP TRIGGER specs_au;
DROP TRIGGER specs_ad;
DROP TRIGGER criteria_ai;
DROP TRIGGER criteria_au;
DROP TRIGGER criteria_ad;
DROP TRIGGER comments_ai;
DROP TRIGGER comments_au;
DROP TRIGGER comments_ad;
DROP TRIGGER revision_files_ai;
DROP TRIGGER revision_files_ad;
DROP TABLE search_index;

-- One row per searchable thing; its id is its rowid in the full-text index. AUTOINCREMENT:
-- ids only grow, so "not indexed yet" is exactly "id above search_indexed.up_to".
CREATE TABLE search_docs (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT NOT NULL,
    ref_id  TEXT NOT NULL,
    spec_id TEXT NOT NULL,
    text    TEXT NOT NULL,
    UNIQUE (kind, ref_id)
) STRICT;

-- The highest document id the index holds (one row).
CREATE TABLE search_indexed (
    up_to INTEGER NOT NULL
) STRICT;
INSERT INTO search_indexed (up_to) VALUES (0);

-- Indexed documents changed or deleted since, with the text the index holds for them (what
-- FTS5 needs to delete the entry). The first change in a transaction wins (OR IGNORE).
CREATE TABLE search_stale (
    id           INTEGER PRIMARY KEY,
    indexed_text TEXT NOT NULL
) STRICT;

CREATE VIRTUAL TABLE search_index USING fts5(
    text, content = 'search_docs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER search_docs_au AFTER UPDATE OF text ON search_docs
WHEN old.id <= (SELECT up_to FROM search_indexed) BEGIN
    INSERT OR IGNORE INTO search_stale (id, indexed_text) VALUES (old.id, old.text);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs
WHEN old.id <= (SELECT up_to FROM search_indexed) BEGIN
    INSERT OR IGNORE INTO search_stale (id, indexed_text) VALUES (old.id, old.text);
END;

CREATE TRIGGER specs_ai AFTER INSERT ON specs BEGIN
    INSERT INTO search_docs (kind, ref_id, spec_id, text) VALUES ('spec', new.id, new.id,
        new.title || char(10) || new.system_context || char(10) || new.api_shape || char(10) || new.out_of_scope || char(10) || new.notes);
END;
CREATE TRIGGER specs_au AFTER UPDATE OF title, system_context, api_shape, out_of_scope, notes ON specs BEGIN
    UPDATE search_docs SET text = new.title || char(10) || new.system_context || char(10) || new.api_shape || char(10)
        || new.out_of_scope || char(10) || new.notes
    WHERE kind = 'spec' AND ref_id = new.id;
END;
-- A spec's criteria, comments and files go by their own triggers, as the foreign keys
-- cascade.
CREATE TRIGGER specs_ad AFTER DELETE ON specs BEGIN
    DELETE FROM search_docs WHERE kind = 'spec' AND ref_id = old.id;
END;

CREATE TRIGGER criteria_ai AFTER INSERT ON criteria BEGIN
    INSERT INTO search_docs (kind, ref_id, spec_id, text) VALUES ('criterion', new.id, new.spec_id, new.text);
END;
CREATE TRIGGER criteria_au AFTER UPDATE OF text ON criteria BEGIN
    UPDATE search_docs SET text = new.text WHERE kind = 'criterion' AND ref_id = new.id;
END;
CREATE TRIGGER criteria_ad AFTER DELETE ON criteria BEGIN
    DELETE FROM search_docs WHERE kind = 'criterion' AND ref_id = old.id;
END;

CREATE TRIGGER comments_ai AFTER INSERT ON comments BEGIN
    INSERT INTO search_docs (kind, ref_id, spec_id, text) VALUES ('comment', new.id, new.spec_id, new.body);
END;
CREATE TRIGGER comments_au AFTER UPDATE OF body ON comments BEGIN
    UPDATE search_docs SET text = new.body WHERE kind = 'comment' AND ref_id = new.id;
END;
CREATE TRIGGER comments_ad AFTER DELETE ON comments BEGIN
    DELETE FROM search_docs WHERE kind = 'comment' AND ref_id = old.id;
END;

CREATE TRIGGER revision_files_ai AFTER INSERT ON revision_files BEGIN
    INSERT INTO search_docs (kind, ref_id, spec_id, text)
    VALUES ('file', new.revision_id || '/' || new.path, (SELECT spec_id FROM revisions WHERE id = new.revision_id),
            replace(replace(replace(new.path, '/', ' '), '_', ' '), '.', ' ') || ' ' || new.path);
END;
CREATE TRIGGER revision_files_ad AFTER DELETE ON revision_files BEGIN
    DELETE FROM search_docs WHERE kind = 'file' AND ref_id = old.revision_id || '/' || old.path;
END;

-- What schema 1 indexed, carried over; the index is built from it at once.
INSERT INTO search_docs (kind, ref_id, spec_id, text)
SELECT 'spec', id, id, title || char(10) || system_context || char(10) || api_shape || char(10) || out_of_scope || char(10) || notes
FROM specs;
INSERT INTO search_docs (kind, ref_id, spec_id, text) SELECT 'criterion', id, spec_id, text FROM criteria;
INSERT INTO search_docs (kind, ref_id, spec_id, text) SELECT 'comment', id, spec_id, body FROM comments;
INSERT INTO search_docs (kind, ref_id, spec_id, text)
SELECT 'file', f.revision_id || '/' || f.path, r.spec_id,
       replace(replace(replace(f.path, '/', ' '), '_', ' '), '.', ' ') || ' ' || f.path
FROM revision_files f JOIN revisions r ON r.id = f.revision_id;
INSERT INTO search_index (search_index) VALUES ('rebuild');
UPDATE search_indexed SET up_to = COALESCE((SELECT max(id) FROM search_docs), 0);


-- The synced copy clustered by scope (WITHOUT ROWID, keyed (scope, kind, key)): one B-tree
-- per pulled record instead of a table and two indexes, and a spec's rebuild reads one
-- contiguous range. A record never changes scope: its scope is its spec, or its workspace.
CREATE TABLE synced_records_clustered (
    scope TEXT NOT NULL,
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    data  TEXT NOT NULL,
    PRIMARY KEY (scope, kind, key)
) STRICT, WITHOUT ROWID;
INSERT INTO synced_records_clustered (scope, kind, key, data) SELECT scope, kind, key, data FROM synced_records;
DROP TABLE synced_records;
ALTER TABLE synced_records_clustered RENAME TO synced_records;
