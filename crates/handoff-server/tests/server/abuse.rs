//! The server against abuse: sign-in and join throttled per address and per account, upload
//! quotas, pull pages bounded by bytes.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use handoff_core::protocol::*;
use handoff_core::*;
use handoff_server::config::RateLimit;
use handoff_server::limits::Peer;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::*;

/// A JSON request through the router as if it came from `addr`; answers status, the
/// Retry-After header and the body.
async fn call_from(app: &TestApp, addr: &str, path: &str, body: Value) -> (StatusCode, Option<String>, Value) {
    let peer: SocketAddr = addr.parse().expect("address");
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("content-type", "application/json")
        .extension(ConnectInfo(Peer(peer)))
        .body(Body::from(body.to_string()))
        .expect("request");
    let resp = handoff_server::router(app.state.clone()).oneshot(req).await.expect("infallible");
    let status = resp.status();
    let retry = resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    (status, retry, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn login(email: &str) -> Value {
    json!({"email": email, "password": "not-the-password", "device_name": "laptop"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_join_are_throttled_per_address_and_per_account() {
    let app = TestApp::sqlite_with(|c| c.auth_rate_limit = Some(RateLimit { per_second: 0.01, burst: 3.0 }));
    let guesser = "203.0.113.7:40000";
    for _ in 0..3 {
        let (s, _, body) = call_from(&app, guesser, "/v1/auth/login", login("victim@acme.test")).await;
        assert_eq!((s, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("unauthorized")));
    }
    let (s, retry, body) = call_from(&app, guesser, "/v1/auth/login", login("victim@acme.test")).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::TOO_MANY_REQUESTS, json!("rate_limited")), "{body}");
    assert_eq!(retry.as_deref(), Some("100"), "Retry-After names the wait");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("100 s")), "{body}");
    // The account is throttled from any address …
    let (s, _, _) = call_from(&app, "198.51.100.9:1", "/v1/auth/login", login("victim@acme.test")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "per account");
    // … and the address for any account, joins included.
    let (s, _, _) = call_from(&app, guesser, "/v1/auth/login", login("someone@acme.test")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "per address");
    let join = json!({"invite_code": "nope", "email": "new@acme.test", "display_name": "N", "password": "password123", "device_name": "d", "timezone": "UTC"});
    let (s, _, _) = call_from(&app, guesser, "/v1/auth/join", join.clone()).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "joins count too");
    // Someone else, elsewhere, is not affected.
    let (s, _, body) = call_from(&app, "198.51.100.10:1", "/v1/auth/join", join).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("invite_invalid")));
    app.clock.advance(100_000);
    let (s, _, _) = call_from(&app, guesser, "/v1/auth/login", login("someone@acme.test")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "the wait was enough");
}

async fn upload(app: &TestApp, token: &str, content: &[u8]) -> (StatusCode, Value) {
    app.call_raw(Method::PUT, &format!("/v1/blobs/{}", sha(content)), Some(token), Some(content.to_vec()), true).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_bounded_per_account() {
    let w = World::on(TestApp::sqlite_with(|c| c.upload_quota_bytes = Some(100))).await;
    let (first, second) = ([b'a'; 60], [b'b'; 60]);
    assert_eq!(upload(&w.app, &w.owner.token, &first).await.0, StatusCode::NO_CONTENT);
    let (s, body) = upload(&w.app, &w.owner.token, &second).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::PAYLOAD_TOO_LARGE, json!("quota_exceeded")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("quota of 100 bytes")), "{body}");
    assert_eq!(upload(&w.app, &w.owner.token, &first).await.0, StatusCode::NO_CONTENT, "its own content again is free");
    // The quota is the account's: another member uploads the same and other content.
    assert_eq!(upload(&w.app, &w.reviewer.token, &first).await.0, StatusCode::NO_CONTENT);
    assert_eq!(upload(&w.app, &w.contractor.token, &second).await.0, StatusCode::NO_CONTENT);
    let (_, body) =
        w.app.call(Method::POST, "/v1/blobs/missing", Some(&w.owner.token), Some(json!({"hashes": [sha(&second)]}))).await;
    assert_eq!(body["missing"], json!([sha(&second)]), "the refused upload counts for nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_pages_are_bounded_by_bytes() {
    const MAX: usize = 4_000;
    let w = World::on(TestApp::sqlite_with(|c| c.max_pull_bytes = MAX)).await;
    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let e = dev.env(create_spec(spec, w.ws, "Chatty"));
    w.app.push_ok(&w.owner.token, dev.id, &[e]).await;
    let e = dev.env(Mutation::CreateThread {
        thread_id: id(2),
        spec_id: spec,
        anchor: Anchor::Spec,
        comment_id: id(3),
        body: "start".into(),
    });
    w.app.push_ok(&w.owner.token, dev.id, &[e]).await;
    for n in 0..40u128 {
        let body = format!("{n:03} {}", "x".repeat(500));
        let e = dev.env(Mutation::AddComment { comment_id: id(100 + n), thread_id: id(2), spec_id: spec, body, seen_events: 0 });
        w.app.push_ok(&w.owner.token, dev.id, &[e]).await;
    }
    let mut cursors = std::collections::BTreeMap::new();
    let (mut comments, mut pulls) = (0, 0);
    loop {
        let req = PullRequest { cursors: cursors.clone(), limit: 5_000 };
        let (s, body) =
            w.app.call(Method::POST, "/v1/pull", Some(&w.reviewer.token), Some(serde_json::to_value(&req).expect("json"))).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let resp: PullResponse = serde_json::from_value(body).expect("pull");
        let bytes: usize =
            resp.pages.iter().flat_map(|p| &p.records).map(|r| serde_json::to_string(r).expect("json").len()).sum();
        assert!(bytes <= MAX, "a page of {bytes} bytes");
        for p in &resp.pages {
            cursors.insert(p.scope, p.to_version);
            comments += p.records.iter().filter(|r| matches!(r, Record::Comment(_))).count();
        }
        pulls += 1;
        if !resp.more {
            break;
        }
    }
    assert_eq!(comments, 41, "every comment arrived");
    assert!(pulls >= 5, "40 comments of ~600 bytes need several 4 KB pages, not {pulls}");
}

/// `GET /v1/events` through the router, answering status and the response (whose body is the
/// stream, open until dropped).
async fn open_events(app: &TestApp, token: &str) -> (StatusCode, axum::response::Response) {
    let req = Request::builder()
        .method(Method::GET)
        .uri("/v1/events")
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    let resp = handoff_server::router(app.state.clone()).oneshot(req).await.expect("infallible");
    (resp.status(), resp)
}

/// Reads an event stream until it ends (true) or a `poke` event arrives (false); bounded, so a
/// stream that neither ends nor pokes fails the test instead of hanging it.
async fn ends_without_a_poke(resp: axum::response::Response) -> bool {
    use futures_util::StreamExt;
    let mut body = resp.into_body().into_data_stream();
    let read = async {
        while let Some(chunk) = body.next().await {
            if String::from_utf8_lossy(&chunk.expect("chunk")).contains("event: poke") {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read).await.expect("the stream ended or poked")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_are_capped_per_token_and_in_all() {
    let w = World::on(TestApp::sqlite_with(|c| {
        c.max_event_streams_per_token = 2;
        c.max_event_streams = 3;
    }))
    .await;
    let (s1, first) = open_events(&w.app, &w.owner.token).await;
    let (s2, _second) = open_events(&w.app, &w.owner.token).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_eq!(open_events(&w.app, &w.owner.token).await.0, StatusCode::TOO_MANY_REQUESTS, "per token");
    let (s, _third) = open_events(&w.app, &w.reviewer.token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(open_events(&w.app, &w.contractor.token).await.0, StatusCode::TOO_MANY_REQUESTS, "server-wide");
    drop(first);
    assert_eq!(open_events(&w.app, &w.contractor.token).await.0, StatusCode::OK, "a closed stream frees its place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stream_ends_when_its_token_is_revoked_or_expires() {
    let w = World::sqlite().await;
    let (s, revoked) = open_events(&w.app, &w.owner.token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(w.app.call(Method::POST, "/v1/auth/logout", Some(&w.owner.token), None).await.0, StatusCode::NO_CONTENT);
    assert!(ends_without_a_poke(revoked).await, "revoked");

    let (s, expiring) = open_events(&w.app, &w.reviewer.token).await;
    assert_eq!(s, StatusCode::OK);
    w.app.clock.advance(91 * 24 * 3600 * 1000);
    // A change the reviewer could see: an expired token hears nothing more, and its stream ends.
    let login = json!({"email": "owner@acme.test", "password": "password123", "device_name": "second"});
    let (s, body) = w.app.call(Method::POST, "/v1/auth/login", None, Some(login)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let fresh: Session = serde_json::from_value(body).expect("session");
    let mut dev = Device::new(1);
    let e = dev.env(create_spec(id(1), w.ws, "After expiry"));
    assert!(matches!(w.app.push(&fresh.token, dev.id, &[e]).await.0, StatusCode::OK));
    assert!(ends_without_a_poke(expiring).await, "expired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_json_request_times_out_while_a_longer_blob_upload_finishes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Long enough that setting up never hits it on a busy machine; the test waits for it anyway.
    let app = TestApp::sqlite_with(|c| c.request_timeout = std::time::Duration::from_secs(2));
    let owner = app.member("Acme", "owner@acme.test", Role::Owner).await;
    let server = LoopbackServer::start(&app).await;
    let addr = server.addr;
    let send_head = async |method: &str, path: &str, len: usize| {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nhandoff-protocol: 1\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n",
            owner.token
        );
        tcp.write_all(head.as_bytes()).await.expect("head");
        tcp
    };
    // A blob upload, started first and still sending when the slow pull below times out.
    let blob = vec![7u8; 64 * 1024];
    let mut upload = send_head("PUT", &format!("/v1/blobs/{}", sha(&blob)), blob.len()).await;
    upload.write_all(&blob[..1024]).await.expect("first part");
    let part_dir = app.dir.path().join("blobs").join("tmp");
    let started = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while !std::fs::read_dir(&part_dir)
            .map(|rd| rd.flatten().any(|e| e.metadata().is_ok_and(|m| m.len() >= 1024)))
            .unwrap_or(false)
        {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(started.is_ok(), "the upload is being stored");
    // A pull whose body never finishes arriving.
    let mut pull = send_head("POST", "/v1/pull", 100).await;
    pull.write_all(b"{\"cursors\":").await.expect("part of the body");
    let mut answer = String::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), pull.read_to_string(&mut answer)).await;
    assert!(read.is_ok(), "the slow request was answered");
    assert!(answer.starts_with("HTTP/1.1 500") && answer.contains("took longer than the server allows"), "{answer}");
    // The upload, older than the timeout by now, still completes.
    upload.write_all(&blob[1024..]).await.expect("rest");
    let mut answer = String::new();
    upload.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 204"), "{answer}");
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_beyond_the_servers_limit_are_refused_at_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::sqlite_with(|c| c.max_concurrent_requests = 1);
    let owner = app.member("Acme", "owner@acme.test", Role::Owner).await;
    let server = LoopbackServer::start(&app).await;
    let addr = server.addr;
    // One request that holds the only slot while its body is still arriving.
    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let body = json!({"cursors": {}, "limit": 10}).to_string();
    let head = format!(
        "POST /v1/pull HTTP/1.1\r\nhost: {addr}\r\nhandoff-protocol: 1\r\nauthorization: Bearer {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        owner.token,
        body.len()
    );
    slow.write_all(head.as_bytes()).await.expect("head");
    slow.write_all(&body.as_bytes()[..5]).await.expect("part of the body");
    let tokens = || async { app.call(Method::GET, "/v1/auth/tokens", Some(&owner.token), None).await };
    // Evidence that the slow request holds the slot (probing with requests instead could take
    // the slot first and have the slow one refused).
    let held = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while app.state.request_slots.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(held.is_ok(), "the slow request holds the slot");
    let (s, refused) = tokens().await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "refused at once, not queued");
    assert_eq!(refused["code"], "rate_limited");
    slow.write_all(&body.as_bytes()[5..]).await.expect("rest");
    let mut answer = String::new();
    slow.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(tokens().await.0, StatusCode::OK, "the slot is free again");
    server.shut_down().await;
}

/// A contractor cannot backdate a delivery: beside the author's `created_at`, the pulled
/// revision carries when the server received it, by the server's clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revision_carries_the_servers_receive_time_beside_the_authors() {
    let w = World::sqlite().await;
    let mut dev = Device::new(1);
    dev.wall -= 30 * 24 * 3600 * 1000;
    let content = b"late work";
    let (s, _) = upload(&w.app, &w.owner.token, content).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let envs = first_delivery(&mut dev, w.ws, "Backdated", "a.txt", content);
    assert!(w.app.push_ok(&w.owner.token, dev.id, &envs).await.iter().all(|o| *o == Outcome::Applied));
    let pages = w.app.pull_all(&w.reviewer.token).await;
    let revision = records(&pages)
        .into_iter()
        .find_map(|r| match r {
            Record::Revision(r) => Some(r.clone()),
            _ => None,
        })
        .expect("the revision");
    assert_eq!(revision.created_at, Timestamp::from_millis(T0 - 30 * 24 * 3600 * 1000), "the author's clock");
    assert_eq!(revision.received_at, Some(Timestamp::from_millis(T0)), "the server's");
    let json = serde_json::to_value(&revision).expect("json");
    assert_eq!(json["received_at"], json!(T0), "on the wire, an optional field old clients ignore");
}
