//! The router's surface through `oneshot`: the protocol gate, fallbacks, the OpenAPI document,
//! limits, and bad input answered with `{code, message}` and nothing stored.

use axum::http::{Method, StatusCode};
use handoff_core::protocol::*;
use handoff_core::*;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn healthz_needs_nothing_and_v1_needs_the_protocol_header() {
    let app = TestApp::sqlite();
    let (s, body) = app.call_raw(Method::GET, "/healthz", None, None, false).await;
    assert_eq!((s, body), (StatusCode::OK, Value::String("ok".into())));
    let (s, body) = app.call_raw(Method::POST, "/v1/pull", None, Some(b"{}".to_vec()), false).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::UPGRADE_REQUIRED, json!("upgrade_required")));
    let (s, body) = app.call_raw(Method::GET, "/v1/openapi.json", None, None, false).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::UPGRADE_REQUIRED, json!("upgrade_required")));
    let (s, body) = app.call_raw(Method::GET, "/nope", None, None, true).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
}

#[tokio::test]
async fn a_newer_protocol_version_is_refused_by_name() {
    let app = TestApp::sqlite();
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/v1/auth/login")
        .header(PROTOCOL_HEADER, "2")
        .body(axum::body::Body::from("{}"))
        .expect("request");
    use tower::ServiceExt;
    let resp = handoff_server::router(app.state.clone()).oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::UPGRADE_REQUIRED);
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
    let err: ApiError = serde_json::from_slice(&body).expect("api error");
    assert!(err.message.contains("speaks protocol 1"), "{}", err.message);
}

#[tokio::test]
async fn every_route_in_the_router_is_in_the_openapi_document_and_answers() {
    let app = TestApp::sqlite();
    let (s, doc) = app.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc, handoff_server::openapi::document(&app.state.config), "the served document is the generated one");
    for (method, path) in handoff_server::routes::ROUTES {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} missing from the document");
        let concrete = path
            .replace("{id}", &id::<WorkspaceId>(1).to_string())
            .replace("{user_id}", &id::<UserId>(2).to_string())
            .replace("{token_id}", "t")
            .replace("{sha256}", &"a".repeat(64));
        let m: Method = method.to_uppercase().parse().expect("method");
        let (s, body) = app.call_raw(m.clone(), &concrete, None, Some(b"{}".to_vec()), true).await;
        assert_ne!(s, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(!(s == StatusCode::NOT_FOUND && body["message"] == "no such endpoint"), "{method} {path} is not routed");
    }
}

async fn owner_with_spec(app: &TestApp) -> (Session, Device, SpecId, WorkspaceId) {
    let owner = app.member("Acme", "owner@acme.test", Role::Owner).await;
    let ws = owner.workspaces[0].workspace.id;
    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let e = dev.env(create_spec(spec, ws, "S"));
    app.push_ok(&owner.token, dev.id, &[e]).await;
    (owner, dev, spec, ws)
}

#[tokio::test]
async fn malformed_json_and_unknown_mutation_kinds_are_refused_whole() {
    let app = TestApp::sqlite();
    let (owner, dev, spec, _) = owner_with_spec(&app).await;
    let (s, body) = app.call_raw(Method::POST, "/v1/push", Some(&owner.token), Some(b"{\"client_id\": ".to_vec()), true).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("malformed_request")));
    let push = json!({"client_id": dev.id, "mutations": [
        {"client_id": dev.id, "mutation_id": 2, "hlc": {"wall_ms": 1, "counter": 0}, "created_at": 1,
         "mutation": {"kind": "spec.set_title", "spec_id": spec, "title": "fine"}},
        {"client_id": dev.id, "mutation_id": 3, "hlc": {"wall_ms": 1, "counter": 0}, "created_at": 1,
         "mutation": {"kind": "spec.delete", "spec_id": spec}}]});
    let (s, body) = app.call(Method::POST, "/v1/push", Some(&owner.token), Some(push)).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("malformed_request")));
    assert!(body["message"].as_str().unwrap_or_default().contains("unknown variant `spec.delete`"), "{body}");
    assert_eq!(
        find_spec(&app.pull_all(&owner.token).await, spec).expect("spec").title,
        "S",
        "nothing of the refused push was applied"
    );
    let (s, body) =
        app.call(Method::POST, "/v1/pull", Some(&owner.token), Some(json!({"cursors": {"blob:1": 3}, "limit": 1}))).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("malformed_request")));
}

#[tokio::test]
async fn oversized_bodies_batches_and_blobs_are_too_large() {
    let app = TestApp::sqlite_with(|c| {
        c.max_json_bytes = 64 * 1024;
        c.max_blob_bytes = 1024;
    });
    let (owner, mut dev, spec, _) = owner_with_spec(&app).await;
    let big = "x".repeat(100 * 1024);
    let (s, body) =
        app.call(Method::POST, "/v1/pull", Some(&owner.token), Some(json!({"cursors": {}, "limit": 1, "pad": big}))).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::PAYLOAD_TOO_LARGE, json!("too_large")));
    let many: Vec<_> =
        (0..MAX_PUSH_BATCH + 1).map(|_| dev.env(Mutation::SetTitle { spec_id: spec, title: "t".into() })).collect();
    let app2 = TestApp::sqlite();
    let (o2, _, _, _) = owner_with_spec(&app2).await;
    let (s, body) = app2.push(&o2.token, dev.id, &many).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::PAYLOAD_TOO_LARGE, json!("too_large")), "{body}");
    let blob = vec![7u8; 2048];
    let (s, body) =
        app.call_raw(Method::PUT, &format!("/v1/blobs/{}", sha(&blob)), Some(&owner.token), Some(blob.clone()), true).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::PAYLOAD_TOO_LARGE, json!("too_large")));
    let (_, missing) =
        app.call(Method::POST, "/v1/blobs/missing", Some(&owner.token), Some(json!({"hashes": [sha(&blob)]}))).await;
    assert_eq!(missing["missing"].as_array().map(Vec::len), Some(1), "nothing stored");
    let tmp = std::fs::read_dir(app.dir.path().join("blobs").join("tmp")).expect("tmp dir").count();
    assert_eq!(tmp, 0, "refused uploads leave no temp files");
}

#[tokio::test]
async fn bad_blob_addresses_hashes_and_manifests_are_refused() {
    let app = TestApp::sqlite();
    let (owner, mut dev, spec, _) = owner_with_spec(&app).await;
    for bad in ["../../etc/passwd", "ABC", &"g".repeat(64), &"A".repeat(64)] {
        let (s, body) =
            app.call_raw(Method::PUT, &format!("/v1/blobs/{bad}"), Some(&owner.token), Some(b"x".to_vec()), true).await;
        assert!(s == StatusCode::BAD_REQUEST || s == StatusCode::NOT_FOUND, "{bad}: {s}");
        assert!(body["code"] == "invalid" || body["code"] == "not_found", "{bad}: {body}");
    }
    let (s, body) = app
        .call_raw(Method::PUT, &format!("/v1/blobs/{}", sha(b"right")), Some(&owner.token), Some(b"wrong".to_vec()), true)
        .await;
    assert_eq!((s, body["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("hash_mismatch")));
    let (_, missing) =
        app.call(Method::POST, "/v1/blobs/missing", Some(&owner.token), Some(json!({"hashes": [sha(b"right")]}))).await;
    assert_eq!(missing["missing"].as_array().map(Vec::len), Some(1));
    let (s, body) = app.call(Method::POST, "/v1/blobs/missing", Some(&owner.token), Some(json!({"hashes": ["../x"]}))).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid")));
    let envs = vec![
        dev.env(Mutation::CreateDeliverable { deliverable_id: id(5), spec_id: spec }),
        dev.env(Mutation::CreateRevision {
            revision_id: id(6),
            deliverable_id: id(5),
            spec_id: spec,
            files: vec![ManifestEntry { path: "../../etc/passwd".into(), sha256: sha(b"x"), size: 1, executable: false }],
            summary: String::new(),
            addresses: vec![],
        }),
        dev.env(Mutation::CreateRevision {
            revision_id: id(7),
            deliverable_id: id(5),
            spec_id: spec,
            files: vec![ManifestEntry { path: ".git/config".into(), sha256: sha(b"x"), size: 1, executable: false }],
            summary: String::new(),
            addresses: vec![],
        }),
    ];
    let out = app.push_ok(&owner.token, dev.id, &envs).await;
    assert_eq!(out[0], Outcome::Applied);
    for o in &out[1..] {
        assert!(
            matches!(o, Outcome::Rejected { code: ApiErrorCode::Invalid, message } if message.contains("invalid file path")),
            "{o:?}"
        );
    }
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let app = TestApp::sqlite_with(|c| c.rate_limit = Some(handoff_server::config::RateLimit { per_second: 1.0, burst: 3.0 }));
    let owner = app.member("Acme", "owner@acme.test", Role::Owner).await;
    for _ in 0..3 {
        assert_eq!(app.call(Method::GET, "/v1/auth/tokens", Some(&owner.token), None).await.0, StatusCode::OK);
    }
    let req = axum::http::Request::builder()
        .uri("/v1/auth/tokens")
        .header(PROTOCOL_HEADER, "1")
        .header("authorization", format!("Bearer {}", owner.token))
        .body(axum::body::Body::empty())
        .expect("request");
    use tower::ServiceExt;
    let resp = handoff_server::router(app.state.clone()).oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    app.clock.advance(1_000);
    assert_eq!(
        app.call(Method::GET, "/v1/auth/tokens", Some(&owner.token), None).await.0,
        StatusCode::OK,
        "refilled as the clock moves"
    );
}

#[tokio::test]
async fn a_push_with_mixed_client_ids_or_broken_sequence_is_invalid() {
    let app = TestApp::sqlite();
    let (owner, mut dev, spec, _) = owner_with_spec(&app).await;
    let mut other = Device::new(9);
    let envs = vec![
        dev.env(Mutation::SetTitle { spec_id: spec, title: "a".into() }),
        other.env(Mutation::SetTitle { spec_id: spec, title: "b".into() }),
    ];
    let (s, body) = app.push(&owner.token, dev.id, &envs).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid")));
    let mut skip = vec![dev.env(Mutation::SetTitle { spec_id: spec, title: "a".into() })];
    dev.next += 1;
    skip.push(dev.env(Mutation::SetTitle { spec_id: spec, title: "c".into() }));
    let (s, body) = app.push(&owner.token, dev.id, &skip).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid")), "{body}");
}

/// GET with a header, returning the status, one response header and the raw body.
async fn get_with(app: &TestApp, path: &str, token: &str, range: &str, want: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("authorization", format!("Bearer {token}"))
        .header("range", range)
        .body(axum::body::Body::empty())
        .expect("request");
    let resp = handoff_server::router(app.state.clone()).oneshot(req).await.expect("infallible");
    let header = resp.headers().get(want).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body").to_vec();
    (status, header, body)
}

#[tokio::test]
async fn a_blob_download_resumes_from_a_byte_offset() {
    let app = TestApp::sqlite();
    let (owner, _, _, _) = owner_with_spec(&app).await;
    let blob: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let path = format!("/v1/blobs/{}", sha(&blob));
    let (s, _) = app.call_raw(Method::PUT, &path, Some(&owner.token), Some(blob.clone()), true).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    let (s, range, body) = get_with(&app, &path, &owner.token, "bytes=123457-", "content-range").await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert_eq!(range.as_deref(), Some("bytes 123457-199999/200000"));
    assert_eq!(body, blob[123_457..], "exactly the rest");

    let (s, range, body) = get_with(&app, &path, &owner.token, "bytes=200000-", "content-range").await;
    assert_eq!((s, range.as_deref(), body.len()), (StatusCode::RANGE_NOT_SATISFIABLE, Some("bytes */200000"), 0));

    // Forms a resuming client never sends get the whole blob, as RFC 9110 allows.
    for other in ["bytes=0-99", "bytes=-100", "items=5-", "bytes=x-"] {
        let (s, _, body) = get_with(&app, &path, &owner.token, other, "content-range").await;
        assert_eq!((s, body.len()), (StatusCode::OK, blob.len()), "{other}");
    }
}

#[tokio::test]
async fn mutation_ids_past_what_the_store_holds_are_refused_not_a_crash() {
    // Found by the API fuzzer: a withdrawn id of u64::MAX overflowed the consecutive-id check.
    let app = TestApp::sqlite();
    let (owner, dev, spec, _) = owner_with_spec(&app).await;
    for id in [u64::MAX, i64::MAX as u64 + 1] {
        let push = json!({"client_id": dev.id, "mutations": [], "withdrawn": [
            {"mutation_id": id, "kind": "spec.set_title", "spec_id": spec, "code": "too_large", "message": "gone"}]});
        let (s, body) =
            app.call_raw(Method::POST, "/v1/push", Some(&owner.token), Some(push.to_string().into_bytes()), true).await;
        assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid")), "id {id}: {body}");
    }
}

#[tokio::test]
async fn a_whole_number_written_with_a_fraction_is_the_same_number() {
    // JSON has one number type: `10.0` is the integer 10 (JSON Schema says so too), and the API
    // document promises integers, not spellings.
    let app = TestApp::sqlite();
    let (owner, _, spec, _) = owner_with_spec(&app).await;
    let pull = json!({"cursors": {format!("spec:{spec}"): 0.0}, "limit": 10.0}).to_string();
    let (s, body) = app.call_raw(Method::POST, "/v1/pull", Some(&owner.token), Some(pull.into_bytes()), true).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let scopes: Vec<&Value> = body["pages"].as_array().expect("pages").iter().map(|p| &p["scope"]).collect();
    assert!(scopes.contains(&&json!(format!("spec:{spec}"))), "{body}");
    let fraction = json!({"cursors": {}, "limit": 10.5}).to_string();
    let (s, body) = app.call_raw(Method::POST, "/v1/pull", Some(&owner.token), Some(fraction.into_bytes()), true).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("malformed_request")), "{body}");
}

#[tokio::test]
async fn a_kind_is_a_name_never_a_variant_number() {
    // Found by the API fuzzer: serde reads an internally tagged enum's tag as a variant index
    // too, so `"kind": 0` was taken as the first anchor kind; the wire names kinds by name
    // only, and their order is no part of it.
    let app = TestApp::sqlite();
    let (owner, mut dev, spec, _) = owner_with_spec(&app).await;
    let env = dev.env(Mutation::SetTitle { spec_id: spec, title: "named".into() });
    let mut by_name = serde_json::to_value(&env).expect("json");
    by_name["mutation"]["kind"] = json!(1);
    let push = json!({"client_id": dev.id, "mutations": [by_name]}).to_string();
    let (s, body) = app.call_raw(Method::POST, "/v1/push", Some(&owner.token), Some(push.into_bytes()), true).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("malformed_request")), "{body}");
    let thread = json!({"client_id": dev.id, "mutations": [{"client_id": dev.id, "mutation_id": 2,
        "hlc": {"wall_ms": 1, "counter": 0}, "created_at": 1, "mutation": {"kind": "thread.create",
        "spec_id": spec, "thread_id": id::<ThreadId>(9), "comment_id": id::<CommentId>(9), "body": "b",
        "anchor": {"kind": 0, "section": "notes"}}}]})
    .to_string();
    let (s, body) = app.call_raw(Method::POST, "/v1/push", Some(&owner.token), Some(thread.into_bytes()), true).await;
    assert_eq!((s, body["code"].clone()), (StatusCode::BAD_REQUEST, json!("malformed_request")), "{body}");
}

#[tokio::test]
async fn a_whole_number_is_read_exactly_whatever_its_spelling() {
    // Found by the API fuzzer: 3621867532071194.0 read as a float is 3621867532071193.5.
    let app = TestApp::sqlite();
    let (owner, _, spec, _) = owner_with_spec(&app).await;
    for spelling in ["3621867532071194.0", "3.621867532071194e15", "362186753207119400e-2"] {
        let pull = format!(r#"{{"cursors": {{"spec:{spec}": {spelling}}}, "limit": 1e1}}"#);
        let (s, body) = app.call_raw(Method::POST, "/v1/pull", Some(&owner.token), Some(pull.into_bytes()), true).await;
        assert_eq!(s, StatusCode::OK, "{spelling}: {body}");
    }
}
