-- Server-assigned receive times for threads, comments and reviews (issue #13), as 0006 did
-- for revisions: the server's clock beside the author's, NULL until pushed and for records
-- pulled from servers that predate the field.
ALTER TABLE threads ADD COLUMN received_at INTEGER;
ALTER TABLE comments ADD COLUMN received_at INTEGER;
ALTER TABLE reviews ADD COLUMN received_at INTEGER;
