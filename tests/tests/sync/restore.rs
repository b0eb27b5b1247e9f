//! A server restored from a backup, seen by a device that pushed and never pulled before it
//! (found by simulation seed 6441: the restore silently lost what that device had pushed).

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
