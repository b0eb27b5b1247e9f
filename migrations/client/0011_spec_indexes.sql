-- The spec list counts each spec's revisions and queued changes, and a spec's threads map
-- revision ids to numbers: without these, each was a scan of every revision and every queued
-- change, once per spec (a 1,000-spec workspace with 5,000 revisions took a second to list).
CREATE INDEX revisions_by_spec ON revisions (spec_id, number);
CREATE INDEX outbox_by_spec ON outbox (spec_id);
