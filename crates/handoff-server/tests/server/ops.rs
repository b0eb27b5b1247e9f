//! Operations: `/metrics` counts what happened, `/readyz` answers, `--log-format json` writes
//! JSON lines, and the binary refuses to start on an object store it cannot use, saying why.

use std::process::{Command, Stdio};

use axum::http::{Method, StatusCode};
use handoff_core::protocol::Outcome;
use handoff_core::*;
use serde_json::json;

use crate::support::pg::PgServer;
use crate::support::s3::S3Server;
use crate::support::*;

/// The value of the sample line that starts with `series ` (labels included).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let (s, body) = app.call_raw(Method::GET, "/metrics", None, None, false).await;
    assert_eq!(s, StatusCode::OK);
    body.as_str().expect("text").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_push_outcomes_pulled_records_and_blob_bytes() {
    let w = World::sqlite().await;
    let mut dev = Device::new(1);
    let blob = b"fn main() {}\n".to_vec();
    let (s, _) =
        w.app.call_raw(Method::PUT, &format!("/v1/blobs/{}", sha(&blob)), Some(&w.owner.token), Some(blob.clone()), true).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let mut push = first_delivery(&mut dev, w.ws, "Importer", "main.rs", &blob);
    push.push(dev.env(Mutation::SetTitle { spec_id: id(1), title: "   ".into() }));
    let out = w.app.push_ok(&w.owner.token, dev.id, &push).await;
    let pages = w.app.pull_all(&w.reviewer.token).await;
    let pulled: usize = pages.iter().map(|p| p.records.len()).sum();
    let (s, _) = w.app.call_raw(Method::GET, &format!("/v1/blobs/{}", sha(&blob)), Some(&w.reviewer.token), None, true).await;
    assert_eq!(s, StatusCode::OK);

    let text = scrape(&w.app).await;
    let applied = out.iter().filter(|o| **o == Outcome::Applied).count();
    assert_eq!((applied, out.len()), (3, 4), "{out:?}");
    assert_eq!(sample(&text, r#"handoff_push_mutations_total{outcome="applied"}"#), Some(3.0), "{text}");
    assert_eq!(sample(&text, r#"handoff_push_mutations_total{outcome="rejected"}"#), Some(1.0));
    assert_eq!(sample(&text, "handoff_pull_records_total"), Some(pulled as f64));
    assert_eq!(sample(&text, r#"handoff_blob_bytes_total{direction="in"}"#), Some(blob.len() as f64));
    assert_eq!(sample(&text, r#"handoff_blob_bytes_total{direction="out"}"#), Some(blob.len() as f64));
    assert_eq!(sample(&text, r#"handoff_http_requests_total{method="POST",route="/v1/push",status="200"}"#), Some(1.0));
    assert_eq!(
        sample(&text, r#"handoff_http_request_duration_seconds_count{method="PUT",route="/v1/blobs/{sha256}"}"#),
        Some(1.0)
    );
    assert_eq!(sample(&text, "handoff_event_streams_open"), Some(0.0));
    assert_eq!(sample(&text, r#"handoff_db_connections{state="in_use"}"#), Some(0.0));
    assert!(sample(&text, "handoff_db_connections_max").is_some_and(|n| n >= 1.0), "{text}");
    // A path that matches no route is one series, not one per path.
    for p in ["/nope/1", "/nope/2"] {
        w.app.call_raw(Method::GET, p, None, None, false).await;
    }
    let text = scrape(&w.app).await;
    assert_eq!(sample(&text, r#"handoff_http_requests_total{method="GET",route="unmatched",status="404"}"#), Some(2.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_on_postgres_reports_the_pool_in_metrics() {
    let pg = PgServer::start();
    let app = TestApp::postgres(&pg.fresh_database("readyz_pool").await).await;
    let (s, body) = app.call_raw(Method::GET, "/readyz", None, None, false).await;
    assert_eq!((s, body), (StatusCode::OK, json!("ready")));
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "handoff_db_connections_max"), Some(16.0), "{text}");
    assert!(sample(&text, r#"handoff_db_connections{state="idle"}"#).is_some_and(|n| n >= 1.0), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_writes_json_log_lines_and_serves_readyz_and_metrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff-server"))
        .args(["--listen", "127.0.0.1:0", "--log-format", "json", "--data-dir"])
        .arg(dir.path().join("data"))
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start handoff-server");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().expect("stdout")), &mut line)
        .expect("listening line");
    let base = line.trim().rsplit(' ').next().expect("url").to_owned();
    // reqwest is built with `rustls-no-provider`: the process picks the provider (ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = reqwest::Client::new();
    let ready = c.get(format!("{base}/readyz")).send().await.expect("readyz");
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.expect("text"), "ready");
    let metrics = c.get(format!("{base}/metrics")).send().await.expect("metrics");
    assert_eq!(metrics.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let text = metrics.text().await.expect("text");
    assert_eq!(sample(&text, r#"handoff_http_requests_total{method="GET",route="/readyz",status="200"}"#), Some(1.0), "{text}");
    let _ = child.kill();
    let _ = child.wait();

    let logged = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<serde_json::Value> =
        logged.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect();
    assert!(lines.iter().all(|l| l["level"].is_string() && l["fields"].is_object()), "{logged}");
    assert!(
        lines.iter().any(|l| l["span"]["path"] == "/readyz" && l["span"]["status"] == 200),
        "the request's span fields are on its lines: {logged}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_server_answers_readyz_503_through_its_grace_then_stops() {
    let app = TestApp::sqlite_with(|c| c.shutdown_grace = std::time::Duration::from_secs(3));
    let server = LoopbackServer::start(&app).await;
    let base = format!("http://{}", server.addr);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = reqwest::Client::new();
    let status = |path: &'static str| {
        let (c, url) = (c.clone(), format!("{base}{path}"));
        async move { c.get(url).send().await.expect(path).status().as_u16() }
    };
    assert_eq!((status("/readyz").await, status("/healthz").await), (200, 200));
    let LoopbackServer { stop, task, .. } = server;
    stop.send(()).expect("stop");
    // Still serving, but no longer ready: a balancer moves requests elsewhere meanwhile. The
    // serving task sees the signal a moment after it is sent, so ask until it has (well
    // within the 3 s grace); a server that never turns unready fails here.
    let mut ready = status("/readyz").await;
    for _ in 0..40 {
        if ready == 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        ready = status("/readyz").await;
    }
    assert_eq!((ready, status("/healthz").await), (503, 200));
    task.await.expect("join").expect("serve");
    assert!(c.get(format!("{base}/healthz")).send().await.is_err(), "stopped after the grace");
}

/// Runs the binary to serve with these arguments and environment; it must exit (refusing to
/// start): returns its stderr.
fn refused(args: &[&str], env: &[(&str, String)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_handoff-server"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .expect("run handoff-server");
    assert!(!out.status.success(), "it started: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Arguments, environment, and what the refusal must say.
type Refusal<'a> = (Vec<&'a str>, Vec<(&'static str, String)>, &'static str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_an_object_store_it_cannot_use_and_says_why() {
    let (pg, s3) = (PgServer::start(), S3Server::start());
    s3.create_bucket("blobs");
    let url = pg.fresh_database("binary_refusals").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_string_lossy().into_owned();
    let mut wrong_secret = s3.env();
    for (k, v) in wrong_secret.iter_mut() {
        if *k == "AWS_SECRET_ACCESS_KEY" {
            *v = "not-the-secret".into();
        }
    }
    let cases: [Refusal; 4] = [
        (vec!["--database-url", &url, "--blobs", "s3://no-such-bucket"], s3.env(), "the bucket no-such-bucket does not exist"),
        (vec!["--database-url", &url, "--blobs", "s3://blobs/handoff"], wrong_secret, "refused these credentials"),
        (vec!["--data-dir", &data, "--blobs", "s3://blobs"], s3.env(), "need --database-url"),
        (vec!["--database-url", &url, "--blobs", "gs://blobs"], s3.env(), "not at gs://"),
    ];
    for (args, env, says) in cases {
        let stderr = refused(&args, &env);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
