-- A client id per account (issue #13): signing in as another account on the same data dir
-- starts a new client id, so the server never sees one id pushed by two accounts. Outbox
-- rows keep one local sequence (`outbox.mutation_id`); each client id's wire ids are that
-- sequence minus its `base`, so every client id's ids start at 1 and stay gap-free.
CREATE TABLE client_ids (
    client_id TEXT PRIMARY KEY,
    -- The account it pushes as; NULL until the data dir first joins or signs in.
    user_id   TEXT,
    -- Local outbox id = wire mutation id + base.
    base      INTEGER NOT NULL,
    -- 1 after the server started a new history (a restore): the next round under this
    -- client id asks the server what it still has and sends what it lost.
    needs_probe INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO client_ids (client_id, user_id, base)
SELECT value, (SELECT value FROM meta WHERE key = 'user_id'), 0 FROM meta WHERE key = 'client_id';

ALTER TABLE outbox ADD COLUMN client_id TEXT;
UPDATE outbox SET client_id = json_extract(envelope, '$.client_id');

-- Mutations the server answered, kept a while after they leave the outbox: when a server is
-- restored from a backup it has lost the answers it gave after the backup was taken, and the
-- client sends these again (same client id and ids) so nothing is lost. Pruned to the newest
-- 10,000 (`sync::local::restore`).
CREATE TABLE outbox_sent (
    mutation_id INTEGER PRIMARY KEY,
    client_id   TEXT NOT NULL,
    envelope    TEXT NOT NULL
) STRICT;
