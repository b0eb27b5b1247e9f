-- Which history of the database this is (issue #13): a random id, replaced by
-- `handoff-server restored` after a restore from a backup. Clients compare it on every pull;
-- when it changes they fetch every scope again, so nothing the restore lost stays on them.
CREATE TABLE server_history (
    id TEXT NOT NULL
);
INSERT INTO server_history (id) VALUES (lower(hex(randomblob(16))));
