//! End to end over real HTTP: the library server on 127.0.0.1:0 driven with reqwest, graceful
//! shutdown with a request in flight, and the real binary killed with SIGKILL mid-push.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use handoff_core::protocol::*;
use handoff_core::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

fn http() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(PROTOCOL_HEADER, reqwest::header::HeaderValue::from_static("1"));
    // In a workspace build, feature unification gives reqwest the client crate's
    // `rustls-no-provider`, which panics unless a crypto provider is installed first.
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().default_headers(headers).build().expect("client")
}

async fn join_over_http(c: &reqwest::Client, base: &str, code: &str, email: &str) -> Session {
    let resp = c
        .post(format!("{base}/v1/auth/join"))
        .json(&json!({"invite_code": code, "email": email, "display_name": "O", "password": "password123", "device_name": "cli", "timezone": "UTC"}))
        .send()
        .await
        .expect("join");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("session")
}

/// Waits for the next SSE `data:` line on a streaming response (bounded, so a bug fails
/// instead of hanging; nothing is asserted about how long it took).
async fn next_poke(resp: &mut reqwest::Response, buf: &mut String) -> Poke {
    let fut = async {
        loop {
            if let Some(i) = buf.find("data:")
                && let Some(end) = buf[i..].find('\n')
            {
                let line = buf[i + 5..i + end].trim().to_owned();
                buf.drain(..i + end + 1);
                return serde_json::from_str::<Poke>(&line).expect("poke json");
            }
            let chunk = resp.chunk().await.expect("sse chunk").expect("stream open");
            buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    tokio::time::timeout(Duration::from_secs(30), fut).await.expect("a poke arrives")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_blobs_and_events_over_real_http_then_graceful_shutdown() {
    let app = TestApp::sqlite();
    let code = app.bootstrap_invite("Acme", "owner@acme.test", Role::Owner).await;
    let LoopbackServer { addr, stop: stop_tx, task: server } = LoopbackServer::start(&app).await;
    let base = format!("http://{addr}");
    let c = http();
    assert_eq!(c.get(format!("{base}/healthz")).send().await.expect("healthz").text().await.expect("text"), "ok");
    let owner = join_over_http(&c, &base, &code, "owner@acme.test").await;
    let ws = owner.workspaces[0].workspace.id;

    let mut events = c.get(format!("{base}/v1/events")).bearer_auth(&owner.token).send().await.expect("events");
    assert_eq!(events.status(), 200);
    let mut buf = String::new();

    let content = b"hello over http\n".to_vec();
    let hash = sha(&content);
    let put = c.put(format!("{base}/v1/blobs/{hash}")).bearer_auth(&owner.token).body(content.clone()).send().await.expect("put");
    assert_eq!(put.status(), 204);
    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let envs = first_delivery(&mut dev, ws, "Over HTTP", "hello.txt", &content);
    let resp: PushResponse = c
        .post(format!("{base}/v1/push"))
        .bearer_auth(&owner.token)
        .json(&PushRequest::new(dev.id, envs))
        .send()
        .await
        .expect("push")
        .json()
        .await
        .expect("push json");
    assert!(resp.results.iter().all(|r| r.outcome == Outcome::Applied), "{resp:?}");
    let poke = next_poke(&mut events, &mut buf).await;
    assert_eq!(poke.scope, Scope::Spec(spec));
    let pull: PullResponse = c
        .post(format!("{base}/v1/pull"))
        .bearer_auth(&owner.token)
        .json(&PullRequest { cursors: Default::default(), limit: 100 })
        .send()
        .await
        .expect("pull")
        .json()
        .await
        .expect("pull json");
    assert!(find_spec(&pull.pages, spec).is_some());
    let got = c
        .get(format!("{base}/v1/blobs/{hash}"))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("get blob")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(got.as_ref(), content.as_slice());

    // Graceful shutdown: a request whose body is still arriving is finished, then serve returns.
    let slow_blob = vec![42u8; 64 * 1024];
    let slow_hash = sha(&slow_blob);
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "PUT /v1/blobs/{slow_hash} HTTP/1.1\r\nhost: {addr}\r\nhandoff-protocol: 1\r\nauthorization: Bearer {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        owner.token,
        slow_blob.len()
    );
    tcp.write_all(head.as_bytes()).await.expect("head");
    tcp.write_all(&slow_blob[..1024]).await.expect("first part");
    // Evidence, not a pause: the handler is streaming the upload once its part file holds the
    // first kilobyte, and shutdown has begun once the listener refuses new connections.
    let part_dir = app.dir.path().join("blobs").join("tmp");
    wait_for("the upload's part file", || {
        std::fs::read_dir(&part_dir).map(|rd| rd.flatten().any(|e| e.metadata().is_ok_and(|m| m.len() >= 1024))).unwrap_or(false)
    })
    .await;
    stop_tx.send(()).expect("stop");
    let refused = tokio::time::timeout(Duration::from_secs(30), async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(refused.is_ok(), "the listener closed on shutdown");
    tcp.write_all(&slow_blob[1024..]).await.expect("rest");
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 204"), "in-flight upload finished during shutdown: {answer}");
    // The event stream ends too, instead of holding the shutdown open.
    let ended = tokio::time::timeout(Duration::from_secs(30), async { while let Ok(Some(_)) = events.chunk().await {} }).await;
    assert!(ended.is_ok(), "event stream closed on shutdown");
    tokio::time::timeout(Duration::from_secs(30), server).await.expect("serve returned").expect("join").expect("serve ok");
}

/// Polls `done` until it holds, failing the test after 30 seconds.
async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

struct ServerProcess {
    child: Child,
    base: String,
}

fn start_binary(data_dir: &std::path::Path) -> ServerProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff-server"))
        .args(["--listen", "127.0.0.1:0", "--rate-limit", "0", "--data-dir"])
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start handoff-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("read the listening line");
    let base = line.trim().rsplit(' ').next().expect("url").to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    ServerProcess { child, base }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_push_applies_each_mutation_once_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_handoff-server"))
        .args(["invite", "--workspace", "Acme", "--role", "owner", "--email", "owner@acme.test", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("invite command");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let c = http();
    let server = start_binary(dir.path());
    let owner = join_over_http(&c, &server.base, &code, "owner@acme.test").await;
    let ws = owner.workspaces[0].workspace.id;
    drop(server);

    let mut dev = Device::new(1);
    let spec: SpecId = id(1);
    let mut batches = Vec::new();
    let mut first = vec![
        dev.env(create_spec(spec, ws, "Crash")),
        dev.env(Mutation::CreateThread {
            thread_id: id(2),
            spec_id: spec,
            anchor: Anchor::Spec,
            comment_id: id(3),
            body: "start".into(),
        }),
    ];
    let body = "words ".repeat(2_000);
    while first.len() < MAX_PUSH_BATCH {
        let n = first.len() as u128;
        first.push(dev.env(Mutation::AddComment {
            comment_id: id(1_000 + n),
            thread_id: id(2),
            spec_id: spec,
            body: format!("{n} {body}"),
            seen_events: 0,
        }));
    }
    batches.push(first);
    for b in 1..4u128 {
        batches.push(
            (0..MAX_PUSH_BATCH as u128)
                .map(|n| {
                    dev.env(Mutation::AddComment {
                        comment_id: id(10_000 * b + n),
                        thread_id: id(2),
                        spec_id: spec,
                        body: format!("{b}/{n} {body}"),
                        seen_events: 0,
                    })
                })
                .collect(),
        );
    }
    let total_comments = 1 + (MAX_PUSH_BATCH - 2) + 3 * MAX_PUSH_BATCH;

    // Kill the server at different moments of applying each batch, then retry on a restart.
    for (i, batch) in batches.iter().enumerate() {
        let server = start_binary(dir.path());
        let req = PushRequest::new(dev.id, batch.clone());
        let (c2, url, token) = (c.clone(), format!("{}/v1/push", server.base), owner.token.clone());
        let inflight = tokio::spawn(async move { c2.post(url).bearer_auth(token).json(&req).send().await });
        tokio::time::sleep(Duration::from_millis(20 * i as u64 + 5)).await;
        drop(server); // SIGKILL
        let _ = inflight.await;
        let server = start_binary(dir.path());
        let resp = c
            .post(format!("{}/v1/push", server.base))
            .bearer_auth(&owner.token)
            .json(&PushRequest::new(dev.id, batch.clone()))
            .send()
            .await
            .expect("retry");
        assert_eq!(resp.status(), 200);
        let resp: PushResponse = resp.json().await.expect("push json");
        assert_eq!(resp.results.len(), batch.len());
        assert!(
            resp.results.iter().all(|r| r.outcome == Outcome::Applied),
            "batch {i}: every mutation applied (now or before the kill)"
        );
    }
    let server = start_binary(dir.path());
    let mut cursors = std::collections::BTreeMap::new();
    let mut comments = std::collections::BTreeMap::<CommentId, usize>::new();
    loop {
        let resp: PullResponse = c
            .post(format!("{}/v1/pull", server.base))
            .bearer_auth(&owner.token)
            .json(&PullRequest { cursors: cursors.clone(), limit: 1_000 })
            .send()
            .await
            .expect("pull")
            .json()
            .await
            .expect("pull json");
        for p in &resp.pages {
            cursors.insert(p.scope, p.to_version);
            for r in &p.records {
                if let Record::Comment(cm) = r {
                    *comments.entry(cm.id).or_default() += 1;
                }
            }
        }
        if !resp.more {
            break;
        }
    }
    assert_eq!(comments.len(), total_comments, "every comment exists");
    assert!(comments.values().all(|n| *n == 1), "no comment came twice");
}

/// HTTPS with the fixture certificate (self-signed for localhost, test use only).
#[cfg(feature = "tls")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_when_given_a_certificate() {
    use std::sync::Arc;
    use tokio_rustls::rustls::{self, pki_types::ServerName};

    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (cert, key) = (fixtures.join("tls-cert.pem"), fixtures.join("tls-key.pem"));
    let config = handoff_server::tls::load_config(&cert, &key).expect("tls config");
    let app = TestApp::sqlite();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(handoff_server::serve_tls(listener, config, app.state.clone(), async move {
        let _ = stop_rx.await;
    }));

    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut std::io::BufReader::new(std::fs::File::open(&cert).expect("cert"))) {
        roots.add(c.expect("pem")).expect("root");
    }
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client)).connect(name, tcp).await.expect("handshake");
    tls.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").await.expect("request");
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");
    stop_tx.send(()).expect("stop");
    tokio::time::timeout(Duration::from_secs(30), server).await.expect("serve returned").expect("join").expect("serve ok");
}
