-- Server-assigned receive times (issue #13): when the server received a revision, by its
-- clock, beside the author's `created_at`. NULL until pushed, and for revisions pulled from
-- servers that predate the field.
ALTER TABLE revisions ADD COLUMN received_at INTEGER;
