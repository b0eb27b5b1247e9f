//! The sync engine against the real server over real HTTP (loopback TCP, reqwest).

use std::sync::Arc;

use handoff_client::sync::SyncEngine;
use handoff_client::{Client, JoinParams, NewSpec, OutboxState, ThreadTarget};
use handoff_core::protocol::Outcome;
use handoff_core::*;

use super::support::SimServer;

pub struct Http {
    pub server: Arc<SimServer>,
    pub url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Serves the in-process server state on a loopback port.
pub async fn serve(server: Arc<SimServer>) -> Http {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = server.state();
    tokio::spawn(async move {
        let _ = handoff_server::serve(listener, state, async move {
            let _ = rx.await;
        })
        .await;
    });
    Http { server, url, _stop: tx }
}

pub fn params(code: &str, email: &str) -> JoinParams {
    JoinParams {
        invite_code: code.into(),
        email: email.into(),
        display_name: email.into(),
        password: "password123".into(),
        device_name: "test".into(),
        timezone: "UTC".into(),
    }
}

fn engine(url: &str) -> (tempfile::TempDir, SyncEngine) {
    let dir = tempfile::tempdir().expect("tempdir");
    let client = Arc::new(Client::open(dir.path()).expect("open"));
    let engine = SyncEngine::http(client, url).expect("engine");
    (dir, engine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_sync_over_http_with_offline_work_conflicts_revisions_and_blobs() {
    let http = serve(SimServer::start()).await;
    let owner_code = http.server.invite("Acme", "olga@acme.io", Role::Owner).await;
    let rev_code = http.server.invite("Acme", "rui@acme.io", Role::Reviewer).await;
    let con_code = http.server.invite("Acme", "chen@contract.io", Role::Contractor).await;

    // Olga writes a spec offline, before she has joined anything.
    let (_a_dir, a) = engine(&http.url);
    let offline = a
        .client()
        .create_spec(NewSpec {
            title: "Importer".into(),
            criteria: vec!["Imports CSV".into()],
            // Complete enough to hand off once someone is assigned (the readiness rules).
            sections: Sections {
                system_context: "The ledger service stores payments in SQLite; finance exports arrive as CSV files by \
                    mail every morning and are typed in by hand today. This work imports them instead."
                    .into(),
                out_of_scope: "Other file formats.".into(),
                ..Default::default()
            },
            due_date: Some("2026-12-24".into()),
            ..Default::default()
        })
        .expect("offline spec");
    a.client().edit_section(offline, SectionKind::ApiShape, "fn import(path)\n").expect("edit");
    let joined = a.join(params(&owner_code, "olga@acme.io")).await.expect("join");
    assert_eq!(joined.adopted_specs, 1, "the offline spec moves into the joined workspace");
    assert_eq!(a.client().status().expect("status").identity, "olga@acme.io");
    let r = a.sync_once().await.expect("sync a");
    assert_eq!((r.applied, r.rejected, r.pending, r.attention), (2, 0, 0, 0), "{r:?}");
    assert_eq!(a.is_online(), Some(true));

    let (_b_dir, b) = engine(&http.url);
    b.join(params(&rev_code, "rui@acme.io")).await.expect("join b");
    // The reviewer is assigned too, so the spec passes every readiness rule.
    a.client().assign(offline, "rui@acme.io").expect("assign the reviewer");
    a.sync_once().await.expect("a assigns");
    b.sync_once().await.expect("sync b");
    let specs = b.client().list_specs(None).expect("list");
    assert_eq!(specs.len(), 1);
    assert_eq!(specs[0].title, "Importer");
    assert_eq!(b.client().spec_detail(offline).expect("detail").spec.sections.api_shape, "fn import(path)\n");

    // Both edit the same section offline, overlapping: one wins, the other becomes a conflict
    // that keeps both sides; both edit the title (LWW); both move the status from draft.
    a.client().edit_section(offline, SectionKind::ApiShape, "fn import(path, opts)\n").expect("a edit");
    b.client().edit_section(offline, SectionKind::ApiShape, "fn import(file)\n").expect("b edit");
    a.client().set_status(offline, SpecStatus::Ready).expect("a status");
    b.client().set_status(offline, SpecStatus::Ready).expect("b status, from the same draft");
    let thread =
        b.client().create_thread(offline, ThreadTarget::Section(SectionKind::ApiShape), "Which path type?").expect("thread");
    a.sync_once().await.expect("a pushes first");
    let rb = b.sync_once().await.expect("b pushes second");
    assert_eq!((rb.conflicts, rb.rejected), (1, 1), "{rb:?}");
    let mut attention = b.client().attention().expect("attention");
    assert_eq!(attention.len(), 2);
    let status_change =
        attention.iter().find(|i| i.entry.kind == "spec.set_status").expect("status change kept").entry.mutation_id;
    assert!(matches!(
        attention.iter().find(|i| i.entry.mutation_id == status_change).and_then(|i| i.outcome.clone()),
        Some(Outcome::Rejected { .. })
    ));
    b.client().discard_attention(status_change).expect("discard");
    attention.retain(|i| i.entry.mutation_id != status_change);
    assert!(matches!(attention[0].outcome, Some(Outcome::Conflict { .. })));
    assert_eq!(attention[0].entry.state, OutboxState::Attention);
    // The conflicted edit's optimistic text is gone: B shows the server's text.
    assert_eq!(b.client().spec_detail(offline).expect("detail").spec.sections.api_shape, "fn import(path, opts)\n");
    let export = _b_dir.path().join("attention.json");
    assert_eq!(b.client().export_attention(&export).expect("export"), 1);
    assert!(std::fs::read_to_string(&export).expect("read").contains("fn import(file)"));
    // Retrying means "my text wins" against what B sees now.
    b.client().retry_attention(attention[0].entry.mutation_id).expect("retry");
    let rb = b.sync_once().await.expect("b retries");
    assert_eq!((rb.applied, rb.attention), (1, 0), "{rb:?}");

    a.sync_once().await.expect("a pulls");
    let da = a.client().spec_detail(offline).expect("a detail");
    assert_eq!(da.spec.sections.api_shape, "fn import(file)\n");
    assert_eq!(da.spec.status, SpecStatus::Ready);
    assert_eq!(da.threads.len(), 1);
    a.client().reply(thread, "A PathBuf.").expect("reply");
    // The contractor joins (on two devices); then the owner assigns the spec.
    let (_c1_dir, c1) = engine(&http.url);
    c1.join(params(&con_code, "chen@contract.io")).await.expect("join c1");
    c1.sync_once().await.expect("c1 sees nothing yet");
    assert_eq!(c1.client().list_specs(None).expect("list").len(), 0, "not assigned yet");
    a.sync_once().await.expect("a sees the new member");
    a.client().assign(offline, "chen@contract.io").expect("assign");
    let r = a.sync_once().await.expect("a sync");
    assert_eq!((r.applied, r.attention), (1, 0), "{r:?}");
    let (_c2_dir, c2) = engine(&http.url);
    c2.login("chen@contract.io", "password123", "second laptop").await.expect("login c2");
    c1.sync_once().await.expect("c1");
    c2.sync_once().await.expect("c2");
    assert_eq!(c1.client().list_specs(None).expect("list").len(), 1, "the assigned spec is visible");
    let work = tempfile::tempdir().expect("work");
    std::fs::write(work.path().join("import.rs"), "fn import() {}\n").expect("write");
    c1.client().set_status(offline, SpecStatus::InProgress).expect("start");
    let r1 = c1.client().deliver(offline, work.path(), "first cut", vec![]).expect("deliver 1");
    assert!(!r1.number_confirmed);
    let r = c1.sync_once().await.expect("c1 pushes");
    assert_eq!((r.blobs_uploaded, r.rejected), (1, 0), "{r:?}");
    c2.sync_once().await.expect("c2 pulls");
    // Both devices deliver "revision 2" offline; the server numbers them 2 and 3.
    std::fs::write(work.path().join("import.rs"), "fn import() { todo!() }\n").expect("write");
    assert_eq!(c1.client().deliver(offline, work.path(), "second cut", vec![]).expect("deliver 2").number, 2);
    std::fs::write(work.path().join("import.rs"), "fn import() { 42 }\n").expect("write");
    assert_eq!(c2.client().deliver(offline, work.path(), "other laptop", vec![]).expect("deliver 2'").number, 2);
    c1.sync_once().await.expect("c1 pushes");
    c2.sync_once().await.expect("c2 pushes");
    c1.sync_once().await.expect("c1 pulls");
    for c in [&c1, &c2] {
        let revs = c.client().revisions(offline).expect("revisions");
        assert_eq!(
            revs.iter().map(|r| (r.number, r.number_confirmed)).collect::<Vec<_>>(),
            vec![(1, true), (2, true), (3, true)]
        );
    }
    assert_eq!(c1.client().snapshot().expect("c1"), c2.client().snapshot().expect("c2"));

    // The owner downloads the delivered files on demand.
    a.sync_once().await.expect("a pulls revisions");
    assert_eq!(a.fetch_spec_blobs(offline).await.expect("fetch"), 3);
    let rev2 = a.client().revision(offline, 2).expect("rev 2");
    assert_eq!(a.client().blobs().read(&rev2.files[0].sha256).expect("blob"), b"fn import() { todo!() }\n");

    // Everyone converges on the same state.
    b.sync_once().await.expect("b final");
    let sa = a.client().snapshot().expect("snap a");
    assert_eq!(sa, b.client().snapshot().expect("snap b"));

    a.logout().await.expect("logout");
    assert!(a.sync_once().await.expect_err("signed out").needs_sign_in());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_blob_download_resumes_where_it_stopped_and_a_bad_part_starts_over() {
    use handoff_client::sync::Progress;
    use std::sync::Mutex;

    let http = serve(SimServer::start()).await;
    let (_a_dir, a) = engine(&http.url);
    a.join(params(&http.server.invite("Acme", "olga@acme.io", Role::Owner).await, "olga@acme.io")).await.expect("join a");
    let spec = a.client().create_spec(NewSpec { title: "Exports".into(), ..Default::default() }).expect("spec");
    let work = tempfile::tempdir().expect("work");
    // Real test data, several 64 KiB chunks long.
    let content = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/diff/whatwg-source.old-large"))
        .expect("fixture");
    std::fs::write(work.path().join("spec.html"), &content).expect("write");
    let rev = a.client().deliver(spec, work.path(), "first cut", vec![]).expect("deliver");
    a.sync_once().await.expect("a pushes");
    let file = a.client().revision(spec, rev.number).expect("revision").files[0].clone();
    assert_eq!(file.size, content.len() as u64);

    let (b_dir, b) = engine(&http.url);
    b.join(params(&http.server.invite("Acme", "rui@acme.io", Role::Reviewer).await, "rui@acme.io")).await.expect("join b");
    b.sync_once().await.expect("b pulls");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    b.set_progress(Some(Arc::new(move |p| {
        if let Progress::Downloading { done, .. } = p {
            log.lock().expect("log").push(done);
        }
    })));

    // An earlier attempt stopped after 60% of the bytes.
    let part = b_dir.path().join("blobs").join("tmp").join(format!("{}.download", file.sha256));
    let cut = content.len() * 3 / 5;
    std::fs::write(&part, &content[..cut]).expect("part");
    b.download_blob(&file.sha256, file.size).await.expect("resumed download");
    assert_eq!(b.client().blobs().read(&file.sha256).expect("blob"), content, "whole and verified");
    assert!(!part.exists(), "the part is gone once stored");
    let done = std::mem::take(&mut *seen.lock().expect("log"));
    assert!(done.first().is_some_and(|&d| d > cut as u64), "only the rest was fetched: {done:?}");
    assert_eq!(done.last().copied(), Some(file.size));

    // A part that is not a prefix of the blob fails verification, is dropped, and the next
    // attempt fetches everything.
    let (c_dir, c) = engine(&http.url);
    c.join(params(&http.server.invite("Acme", "chen@acme.io", Role::Reviewer).await, "chen@acme.io")).await.expect("join c");
    c.sync_once().await.expect("c pulls");
    let part = c_dir.path().join("blobs").join("tmp").join(format!("{}.download", file.sha256));
    std::fs::write(&part, vec![b'x'; cut]).expect("bad part");
    let err = c.download_blob(&file.sha256, file.size).await.expect_err("corrupt part");
    assert!(err.to_string().contains(&file.sha256), "{err}");
    assert!(!part.exists(), "a part that does not verify is dropped");
    c.download_blob(&file.sha256, file.size).await.expect("fresh download");
    assert_eq!(c.client().blobs().read(&file.sha256).expect("blob"), content);
}

/// A delivery made on a clock a month behind shows, on the reviewer's machine, when the server
/// received it, and that the author's clock said otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backdated_delivery_shows_the_servers_receive_time() {
    let http = serve(SimServer::start()).await;
    let owner_code = http.server.invite("Acme", "olga@acme.io", Role::Owner).await;
    let rev_code = http.server.invite("Acme", "rui@acme.io", Role::Reviewer).await;
    let month_ms = 30 * 24 * 3600 * 1000;
    let a_dir = tempfile::tempdir().expect("tempdir");
    let (client, _) = super::support::open_client(a_dir.path(), &http.server.time, -month_ms);
    let a = SyncEngine::http(client, &http.url).expect("engine");
    a.join(params(&owner_code, "olga@acme.io")).await.expect("join");
    let spec = a.client().create_spec(NewSpec { title: "Importer".into(), ..Default::default() }).expect("spec");
    let work = tempfile::tempdir().expect("work");
    std::fs::write(work.path().join("main.rs"), "fn main() {}\n").expect("write");
    let delivered = a.client().deliver(spec, work.path(), "on time, honestly", vec![]).expect("deliver");
    assert!(!delivered.author_clock_off, "not received yet: the author's time is all there is");
    a.sync_once().await.expect("sync a");
    let (_b_dir, b) = engine(&http.url);
    b.join(params(&rev_code, "rui@acme.io")).await.expect("join b");
    b.sync_once().await.expect("sync b");
    let seen = &b.client().spec_detail(spec).expect("detail").revisions[0];
    let server_now = http.server.time.load(std::sync::atomic::Ordering::SeqCst);
    assert!(seen.author_clock_off, "{seen:?}");
    assert_eq!(seen.created_at.as_millis(), delivered.created_at.as_millis(), "the author's time is kept");
    assert!((seen.shown_at.as_millis() - server_now).abs() < 60_000, "the server's time is shown: {seen:?}");
}
