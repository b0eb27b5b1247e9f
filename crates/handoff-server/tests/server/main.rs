//! The handoff-server integration tests: one binary, one module per area.
//!
//! - `suite`: behaviour cases (push, pull, conflicts, accounts), each run on SQLite and, all
//!   together, on PostgreSQL (a throwaway cluster, or `HANDOFF_TEST_POSTGRES_URL`) and on
//!   PostgreSQL with the blobs in an S3 bucket (`s3s-fs`, support/s3.rs).
//! - `routes`: the router's surface (protocol gate, fallbacks, OpenAPI, bad input).
//! - `authz`: the authorization matrix.
//! - `abuse`: throttled sign-in, upload quotas, bounded pulls, timeouts and event stream caps.
//! - `reviews`: the reviewing rules (whole reviews, who resolves, claims, acceptance).
//! - `blobs`: the blob store on SQLite + folder, PostgreSQL + folder and PostgreSQL + S3;
//!   an object store that is down, refuses credentials or lacks the bucket.
//! - `ops`: `/metrics`, `/readyz`, JSON logs, and start-up refusals of the binary.
//! - `e2e`: the server on 127.0.0.1:0 over real HTTP, and the real binary killed mid-push.

#[path = "../support/mod.rs"]
mod support;

mod abuse;
mod authz;
mod blobs;
mod e2e;
mod ops;
mod reviews;
mod routes;
mod suite;
