//! The blob store on every combination that exists: SQLite with a folder, PostgreSQL with a
//! folder, PostgreSQL with an S3 bucket (a real `s3s-fs`). Then what only an object store can
//! do: be down (503 with `Retry-After`, nothing stored, the same upload accepted once it is
//! back), refuse credentials, lack the bucket.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use handoff_core::protocol::*;
use handoff_core::*;
use handoff_server::AppState;
use handoff_server::blobs::BlobsAt;
use handoff_server::clock::ManualClock;
use handoff_server::config::Config;
use handoff_server::storage::Database;
use handoff_server::storage::postgres::PgStore;
use serde_json::json;
use tower::ServiceExt;

use crate::support::pg::PgServer;
use crate::support::s3::S3Server;
use crate::support::*;

on_every_store!(
    a_blob_is_read_back_whole_and_from_any_offset,
    a_blob_larger_than_a_part_streams_in_and_out_whole,
    refused_uploads_leave_nothing_behind,
);

/// One request; the answer's status, headers and body bytes.
async fn send(
    state: &AppState,
    method: Method,
    path: &str,
    token: &str,
    range: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("authorization", format!("Bearer {token}"));
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let resp =
        handoff_server::router(state.clone()).oneshot(req.body(Body::from(body)).expect("request")).await.expect("infallible");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body").to_vec();
    (status, headers, bytes)
}

async fn put(app: &TestApp, token: &str, claimed: &str, content: &[u8]) -> StatusCode {
    send(&app.state, Method::PUT, &format!("/v1/blobs/{claimed}"), token, None, content.to_vec()).await.0
}

async fn missing(app: &TestApp, token: &str, hashes: &[&str]) -> Vec<String> {
    let (s, body) = app.call(Method::POST, "/v1/blobs/missing", Some(token), Some(json!({ "hashes": hashes }))).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    serde_json::from_value(body["missing"].clone()).expect("missing list")
}

fn content(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8).collect()
}

async fn a_blob_is_read_back_whole_and_from_any_offset(app: TestApp) {
    let w = World::on(app).await;
    let blob = content(200_000, 1);
    let hash = sha(&blob);
    let path = format!("/v1/blobs/{hash}");
    assert_eq!(missing(&w.app, &w.owner.token, &[&hash]).await, vec![hash.clone()]);
    assert_eq!(put(&w.app, &w.owner.token, &hash, &blob).await, StatusCode::NO_CONTENT);
    assert!(missing(&w.app, &w.owner.token, &[&hash]).await.is_empty());

    let (s, headers, body) = send(&w.app.state, Method::GET, &path, &w.owner.token, None, vec![]).await;
    assert_eq!((s, headers["content-length"].to_str().ok()), (StatusCode::OK, Some("200000")));
    assert!(body == blob, "the whole blob");
    for from in [1usize, 123_457, 199_999] {
        let (s, headers, body) =
            send(&w.app.state, Method::GET, &path, &w.owner.token, Some(&format!("bytes={from}-")), vec![]).await;
        assert_eq!(s, StatusCode::PARTIAL_CONTENT, "from {from}");
        assert_eq!(headers["content-range"].to_str().ok(), Some(format!("bytes {from}-199999/200000").as_str()));
        assert!(body == blob[from..], "exactly the rest from {from}");
    }
    let (s, headers, body) = send(&w.app.state, Method::GET, &path, &w.owner.token, Some("bytes=200000-"), vec![]).await;
    assert_eq!(
        (s, headers["content-range"].to_str().ok(), body.len()),
        (StatusCode::RANGE_NOT_SATISFIABLE, Some("bytes */200000"), 0)
    );
    // The same content again is accepted and changes nothing.
    assert_eq!(put(&w.app, &w.owner.token, &hash, &blob).await, StatusCode::NO_CONTENT);
    let (s, _, body) = send(&w.app.state, Method::GET, &path, &w.owner.token, None, vec![]).await;
    assert_eq!((s, body.len()), (StatusCode::OK, blob.len()));
}

async fn a_blob_larger_than_a_part_streams_in_and_out_whole(app: TestApp) {
    let w = World::on(app).await;
    // Over two of an object store's parts, and not a multiple of one.
    let blob = content(handoff_server::blobs::s3::PART_BYTES * 2 + 4099, 2);
    let hash = sha(&blob);
    let path = format!("/v1/blobs/{hash}");
    assert_eq!(put(&w.app, &w.owner.token, &hash, &blob).await, StatusCode::NO_CONTENT);
    let (s, _, body) = send(&w.app.state, Method::GET, &path, &w.owner.token, None, vec![]).await;
    assert_eq!((s, body.len()), (StatusCode::OK, blob.len()));
    assert!(body == blob, "the whole blob, byte for byte");
    let from = handoff_server::blobs::s3::PART_BYTES + 17;
    let (s, _, body) = send(&w.app.state, Method::GET, &path, &w.owner.token, Some(&format!("bytes={from}-")), vec![]).await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert!(body == blob[from..], "the rest from inside the second part");
}

async fn refused_uploads_leave_nothing_behind(app: TestApp) {
    let w = World::on(app).await;
    let small = content(1000, 3);
    let large = content(handoff_server::blobs::s3::PART_BYTES + 1, 4);
    for (what, blob) in [("small", &small), ("larger than a part", &large)] {
        let hash = sha(blob);
        // The right address, the wrong content (one byte off at the end).
        let mut wrong = blob.clone();
        *wrong.last_mut().expect("not empty") ^= 1;
        assert_eq!(put(&w.app, &w.owner.token, &hash, &wrong).await, StatusCode::UNPROCESSABLE_ENTITY, "{what}");
        assert_eq!(missing(&w.app, &w.owner.token, &[&hash]).await, vec![hash.clone()], "{what}: still missing");
        let (s, _, _) = send(&w.app.state, Method::GET, &format!("/v1/blobs/{hash}"), &w.owner.token, None, vec![]).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{what}: not readable");
    }
    // Over the account's quota: refused before or while streaming, nothing kept.
    let hash = sha(&large);
    let mut tight = w.app.state.clone();
    let mut config = (*tight.config).clone();
    config.upload_quota_bytes = Some(1000);
    tight.config = std::sync::Arc::new(config);
    let (s, _, _) = send(&tight, Method::PUT, &format!("/v1/blobs/{hash}"), &w.owner.token, None, large.clone()).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(missing(&w.app, &w.owner.token, &[&hash]).await, vec![hash.clone()]);
    // And the right content is then accepted under the same address.
    assert_eq!(put(&w.app, &w.owner.token, &hash, &large).await, StatusCode::NO_CONTENT);
}

/// A spec with a deliverable whose first revision lists `content` as `a.txt`.
fn delivery(dev: &mut Device, ws: WorkspaceId, content: &[u8]) -> Vec<MutationEnvelope> {
    first_delivery(dev, ws, "Importer", "a.txt", content)
}

async fn postgres_with_s3(pg: &PgServer, s3: &S3Server, name: &str) -> TestApp {
    let url = pg.fresh_database(name).await;
    TestApp::postgres_with_blobs(&url, s3.location("blobs", name)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_store_that_is_down_answers_503_stores_nothing_and_takes_the_retry() {
    let (pg, mut s3) = (PgServer::start(), S3Server::start());
    s3.create_bucket("blobs");
    let w = World::on(postgres_with_s3(&pg, &s3, "store_down").await).await;
    let (small, large) = (content(5_000, 5), content(handoff_server::blobs::s3::PART_BYTES * 2 + 1, 6));
    let mut dev = Device::new(1);
    let push = delivery(&mut dev, w.ws, &small);
    let keys_before = s3.keys("blobs");

    s3.stop();
    for blob in [&small, &large] {
        let (s, headers, body) =
            send(&w.app.state, Method::PUT, &format!("/v1/blobs/{}", sha(blob)), &w.owner.token, None, blob.clone()).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers["retry-after"].to_str().ok(), Some("5"));
        let body: ApiError = serde_json::from_slice(&body).expect("an ApiError");
        assert!(body.message.contains("try again"), "{}", body.message);
    }
    // Nothing counts: the blobs are missing, and a push that needs one is refused whole.
    assert_eq!(missing(&w.app, &w.owner.token, &[&sha(&small)]).await, vec![sha(&small)]);
    let (s, body) = w.app.push(&w.owner.token, dev.id, &push).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::CONFLICT, json!("blobs_missing")), "{body}");
    let (s, ready) = w.app.call_raw(Method::GET, "/readyz", None, None, false).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{ready}");

    s3.resume();
    assert_eq!(s3.keys("blobs"), keys_before, "nothing of the refused uploads reached the bucket");
    // The client's retry: the same uploads, then the same push.
    for blob in [&small, &large] {
        assert_eq!(put(&w.app, &w.owner.token, &sha(blob), blob).await, StatusCode::NO_CONTENT);
    }
    let out = w.app.push_ok(&w.owner.token, dev.id, &push).await;
    assert!(out.iter().all(|o| *o == Outcome::Applied), "{out:?}");
    let (s, _, body) =
        send(&w.app.state, Method::GET, &format!("/v1/blobs/{}", sha(&small)), &w.reviewer.token, None, vec![]).await;
    assert_eq!((s, body == small), (StatusCode::OK, true));
    let (s, _) = w.app.call_raw(Method::GET, "/readyz", None, None, false).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_leaves_no_object_and_no_open_multipart_upload_in_the_bucket() {
    let (pg, s3) = (PgServer::start(), S3Server::start());
    s3.create_bucket("blobs");
    let w = World::on(postgres_with_s3(&pg, &s3, "refused_in_bucket").await).await;
    let keys_before = s3.keys("blobs");
    for len in [1000, handoff_server::blobs::s3::PART_BYTES * 2 + 3] {
        let blob = content(len, 7);
        let mut wrong = blob.clone();
        wrong[len / 2] ^= 1;
        assert_eq!(put(&w.app, &w.owner.token, &sha(&blob), &wrong).await, StatusCode::UNPROCESSABLE_ENTITY, "{len} bytes");
        assert_eq!(s3.keys("blobs"), keys_before, "{len} bytes: no object under any key");
        assert_eq!(s3.open_multipart_uploads(), 0, "{len} bytes: the multipart upload was aborted");
    }
    let blob = content(handoff_server::blobs::s3::PART_BYTES * 2 + 3, 7);
    assert_eq!(put(&w.app, &w.owner.token, &sha(&blob), &blob).await, StatusCode::NO_CONTENT);
    let key = format!("refused_in_bucket/{}/{}", &sha(&blob)[..2], &sha(&blob)[2..]);
    assert!(s3.keys("blobs").contains(&key), "the right content is stored under {key}");
    assert_eq!(s3.open_multipart_uploads(), 0);
}

/// The state a server would start with over `at`, or why it refuses to.
async fn start_with(url: &str, at: BlobsAt) -> Result<AppState, String> {
    let db = Database::Postgres(PgStore::open(url).await.expect("open postgres"));
    let mut config = Config::new(std::path::PathBuf::new());
    config.blobs = at;
    AppState::connect(db, config, std::sync::Arc::new(ManualClock::at(T0))).await.map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_refuses_to_start_on_wrong_credentials_a_missing_bucket_or_no_store() {
    let (pg, mut s3) = (PgServer::start(), S3Server::start());
    s3.create_bucket("blobs");
    let url = pg.fresh_database("start_refusals").await;
    let cases = [
        (s3.location_with_secret("blobs", "", "not-the-secret"), "refused these credentials"),
        (s3.location("no-such-bucket", ""), "does not exist"),
    ];
    for (at, says) in cases {
        let refusal = start_with(&url, at.clone()).await.err().unwrap_or_else(|| panic!("{at} was accepted"));
        assert!(refusal.contains(says), "{at}: {refusal}");
    }
    assert!(start_with(&url, s3.location("blobs", "")).await.is_ok(), "the right settings start");
    s3.stop();
    let refusal = match start_with(&url, s3.location("blobs", "")).await {
        Ok(_) => panic!("started without a store"),
        Err(e) => e,
    };
    assert!(refusal.contains("is AWS_ENDPOINT right and the store up"), "{refusal}");
}

#[tokio::test]
async fn blobs_in_an_object_store_need_postgresql() {
    let s3 = S3Server::start();
    s3.create_bucket("blobs");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Database::Sqlite(handoff_server::storage::sqlite::SqliteStore::open(&dir.path().join("db")).expect("sqlite"));
    let mut config = Config::new(dir.path().join("blobs"));
    config.blobs = s3.location("blobs", "");
    let refusal = AppState::connect(db, config, std::sync::Arc::new(ManualClock::at(T0))).await.err().expect("refused");
    assert!(refusal.to_string().contains("--database-url"), "{refusal}");
}
