//! The sync engine against a server that changed under it, in-process over the seeded fault
//! layer: restored from a backup, seen by a device that pushed and never pulled before it
//! (found by simulation seed 6441: the restore silently lost what that device had pushed); and
//! a body limit lowered, then raised again.

use std::sync::Arc;

use handoff_client::NewSpec;
use handoff_client::sync::SyncEngine;
use handoff_core::*;

use super::http_e2e::params;
use super::support::*;

#[tokio::test]
async fn a_device_that_only_pushed_before_a_restore_sends_again_what_the_restore_lost() {
    let server = SimServer::start();
    let url = "http://sim.invalid";
    let ana_dir = tempfile::tempdir().expect("ana's data dir");
    let (ana, _) = open_client(ana_dir.path(), &server.time, 0);
    let link = SimTransport::new(server.clone(), 1);
    let ana_engine = SyncEngine::new(ana.clone(), Arc::new(link.clone()), url);
    let code = server.invite("Acme", "ana@acme.io", Role::Owner).await;
    ana_engine.join(params(&code, "ana@acme.io")).await.expect("ana joins");
    server.backup();

    // Ana's push gets through; every answer to her pulls is lost on the way back.
    let spec = ana.create_spec(NewSpec { title: "Pushed, never pulled".into(), ..Default::default() }).expect("spec");
    link.set_faults(Faults { lose_pull_answers: true, ..Faults::default() });
    assert!(ana_engine.sync_once().await.is_err(), "the pull's answer is lost");
    assert_eq!(ana.status().expect("status").pending, 0, "the push was answered");

    // The server is restored from the backup taken before her push.
    assert!(server.restore().await, "a backup was taken");
    link.set_faults(Faults::default());
    ana_engine.sync_once().await.expect("ana syncs after the restore");

    // Rita, on another machine, sees Ana's spec.
    let rita_dir = tempfile::tempdir().expect("rita's data dir");
    let (rita, _) = open_client(rita_dir.path(), &server.time, 0);
    let rita_engine = SyncEngine::new(rita.clone(), Arc::new(SimTransport::new(server.clone(), 2)), url);
    let code = server.invite("Acme", "rita@acme.io", Role::Reviewer).await;
    rita_engine.join(params(&code, "rita@acme.io")).await.expect("rita joins");
    rita_engine.sync_once().await.expect("rita syncs");
    let titles: Vec<String> = rita.list_specs(None).expect("rita's specs").into_iter().map(|s| s.title).collect();
    assert_eq!(titles, vec!["Pushed, never pulled".to_owned()], "the restore lost nothing Ana had pushed ({spec})");
}

/// The app syncs for days in one process: after the server's body limit was lowered and its
/// pushes shrank to fit, raising the limit again makes them grow back, not stay small forever.
#[tokio::test]
async fn pushes_shrunk_under_a_lowered_body_limit_grow_back_when_it_is_raised() {
    let server = SimServer::start();
    let dir = tempfile::tempdir().expect("data dir");
    let (ana, _) = open_client(dir.path(), &server.time, 0);
    let engine = SyncEngine::new(ana.clone(), Arc::new(SimTransport::new(server.clone(), 3)), "http://sim.invalid");
    let code = server.invite("Acme", "ana@acme.io", Role::Owner).await;
    engine.join(params(&code, "ana@acme.io")).await.expect("ana joins");
    let spec = ana.create_spec(NewSpec { title: "Notes".into(), ..Default::default() }).expect("spec");
    engine.sync_once().await.expect("first sync");
    let source = std::fs::read_to_string(super::procs::WHATWG).expect("the shared WHATWG fixture");
    let mut at = 0;
    let mut save_a_day = |ana: &handoff_client::Client| {
        for _ in 0..40 {
            let end = source[..(at + 3_000).min(source.len())].char_indices().last().map_or(0, |(i, _)| i);
            ana.edit_section(spec, SectionKind::Notes, &source[at..end]).expect("save");
            at = end;
        }
    };

    server.set_body_limit(20_000);
    save_a_day(&ana);
    let low = engine.sync_once().await.expect("sync under the low limit");
    assert_eq!(low.applied, 40, "{low:?}");

    server.set_body_limit(DEFAULT_BODY_LIMIT);
    save_a_day(&ana);
    let raised = engine.sync_once().await.expect("sync after the limit is raised");
    assert_eq!(raised.applied, 40, "{raised:?}");
    assert!(
        raised.pushes * 3 <= low.pushes,
        "the pushes grow back: {} under the low limit, {} after it was raised",
        low.pushes,
        raised.pushes
    );
}
