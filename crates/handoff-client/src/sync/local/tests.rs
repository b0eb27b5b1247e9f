//! Push answers, pulled pages and rebuilds together, on a real store.

use rusqlite::Transaction;

use handoff_core::protocol::{ApiErrorCode, Outcome, PullResponse, PushResult, Record, Scope, ScopePage};
use handoff_core::*;

use super::*;
use crate::error::Result;
use crate::outbox::meta_set;
use crate::store::read;
use crate::{Client, NewSpec};

fn joined_client(dir: &std::path::Path) -> (Client, WorkspaceId) {
    let client = Client::open(dir).expect("open");
    let ws: WorkspaceId = uuid::Uuid::from_bytes([9; 16]).into();
    {
        let conn = client.conn();
        meta_set(&conn, "identity", "me@x.io").expect("identity");
        meta_set(&conn, "user_id", "u1").expect("user");
        conn.execute("UPDATE client_ids SET user_id = 'u1'", []).expect("client id's account");
        conn.execute("INSERT INTO workspaces (id, name, is_local) VALUES (?1, 'W', 0)", [ws.to_string()]).expect("ws");
        conn.execute("INSERT INTO members VALUES (?1, 'u1', 'me@x.io', 'Me', 'owner', 'UTC', '{}')", [ws.to_string()])
            .expect("member");
    }
    (client, ws)
}

/// This data dir's client id and its base.
fn me(client: &Client) -> (ClientId, u64) {
    (crate::outbox::client_id(&client.conn()).expect("client id"), 0)
}

fn page(spec: &Spec, version: u64) -> PullResponse<Pulled> {
    PullResponse {
        pages: vec![ScopePage {
            scope: Scope::Spec(spec.id),
            reset: false,
            to_version: version,
            records: vec![Pulled::try_from(Record::Spec(spec.clone())).expect("json")],
        }],
        more: false,
        server_hlc: Hlc::ZERO,
        history: None,
        max_request_bytes: None,
    }
}

fn title(client: &Client, id: SpecId) -> String {
    read::spec(&client.conn(), id).expect("read").expect("spec").title
}

fn with_tx<T>(client: &Client, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> T {
    let mut conn = client.conn();
    let tx = conn.transaction().expect("tx");
    let out = f(&tx).expect("step");
    crate::store::commit(tx).expect("commit");
    out
}

/// A spec made locally, pushed (answered `applied`) and pulled back at version 1: the
/// server's copy, and the time used.
fn synced_spec(client: &Client, ws: WorkspaceId) -> (Spec, Timestamp) {
    let id = client.create_spec(NewSpec { workspace_id: Some(ws), title: "first".into(), ..Default::default() }).expect("spec");
    let now = client.now();
    let me = me(client);
    with_tx(client, |tx| {
        record_push_results(tx, me, &[PushResult { mutation_id: 1, outcome: Outcome::Applied }], Hlc::ZERO, now)
    });
    let server = read::spec(&client.conn(), id).expect("read").expect("spec");
    with_tx(client, |tx| apply_pull(tx, &page(&server, 1), now));
    (server, now)
}

#[test]
fn pending_edits_stay_on_top_of_pulled_state_and_a_rejection_is_undone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (client, ws) = joined_client(dir.path());
    let (mut server, now) = synced_spec(&client, ws);
    let id = server.id;

    client.set_title(id, "mine").expect("local edit");
    server.title = "theirs".into();
    with_tx(&client, |tx| apply_pull(tx, &page(&server, 2), now));
    assert_eq!(title(&client, id), "mine", "the pending edit wins locally until answered");

    let rejected = Outcome::Rejected { code: ApiErrorCode::Forbidden, message: "no".into() };
    let me = me(&client);
    let tally =
        with_tx(&client, |tx| record_push_results(tx, me, &[PushResult { mutation_id: 2, outcome: rejected }], Hlc::ZERO, now));
    assert_eq!(tally.rejected, 1);
    with_tx(&client, rebuild_dirty);
    assert_eq!(title(&client, id), "theirs", "the rejected edit's optimistic effect is gone");
    let attention = client.attention().expect("attention");
    assert_eq!(attention.len(), 1);
    assert!(matches!(&attention[0].entry.envelope.mutation, Mutation::SetTitle { title, .. } if title == "mine"));
    assert_eq!(cursors(&client.conn()).expect("cursors").get(&Scope::Spec(id)), Some(&2));
}

#[test]
fn a_lost_scope_drops_its_rows_and_parks_unsent_work_without_a_gap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (client, ws) = joined_client(dir.path());
    let (server, now) = synced_spec(&client, ws);
    let id = server.id;
    client.set_title(id, "unsent").expect("edit");
    let lost = PullResponse::<Pulled> {
        pages: vec![ScopePage { scope: Scope::Spec(id), reset: true, to_version: 0, records: vec![] }],
        more: false,
        server_hlc: Hlc::ZERO,
        history: None,
        max_request_bytes: None,
    };
    let tally = with_tx(&client, |tx| apply_pull(tx, &lost, now));
    assert_eq!((tally.lost_scopes, tally.orphaned), (1, 1));
    assert!(read::spec(&client.conn(), id).expect("read").is_none());
    // Still sent (ids stay gap-free), but listed for a person.
    assert_eq!(pending_ids(&client.conn()).expect("ids"), vec![2]);
    assert_eq!(client.attention().expect("attention").len(), 1);
    assert!(client.discard_attention(2).is_err(), "not discardable before the server recorded it");
}
