//! The deterministic fault simulation (DESIGN §7): 2–8 clients with real SQLite stores against
//! the real router in-process, through a seeded fault layer (lost requests, answers lost after
//! the server committed, duplicates, late re-deliveries, partitions lasting simulated days,
//! clients killed between a local commit and its push, server restarts, clocks skewed by up to
//! ±24 h, the server's body limit lowered at random, another account signing in on a data dir
//! for a while, stored blobs deleted from a data dir, the server restored from an earlier
//! backup), doing random work over every entity kind in every role. After healing (every
//! account that signed in on a data dir signs in there again and syncs) and syncing to
//! quiescence it checks invariants 1–7; invariant 2 per client id.
//!
//! - `HANDOFF_SIM_SEED=123 cargo test -p handoff-tests --test sync sim` replays one seed.
//! - `HANDOFF_SIM_SEEDS=N` runs seeds `HANDOFF_SIM_START..+N` (default 0..200);
//!   `HANDOFF_SIM_STEPS` changes the steps per seed (default 150).
//!
//! Schedules, operations and faults are decided by the seed alone. Entity ids are random
//! UUIDs (the client draws their entropy itself), so a replay follows the same schedule with
//! different ids; choices are made over lists sorted by content, not ids, to keep that small.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use handoff_client::sync::SyncEngine;
use handoff_client::{Client, NewSpec, ThreadTarget};
use handoff_core::protocol::Scope;
use handoff_core::*;

use super::http_e2e::params;
use super::support::*;

const DAY: i64 = 86_400_000;

struct SimClient {
    email: String,
    /// Who the data dir is signed in as (another account for a while after a switch).
    signed_in_as: String,
    /// Every account that signed in on this data dir.
    accounts: BTreeSet<String>,
    role: Role,
    dir: tempfile::TempDir,
    skew: i64,
    client: Arc<Client>,
    engine: SyncEngine,
    transport: SimTransport,
    token: String,
    cursors: BTreeMap<Scope, u64>,
    counter: u32,
}

impl SimClient {
    fn reopen(&mut self, base: &Arc<std::sync::atomic::AtomicI64>, server_url: &str) {
        // Killed: everything in memory is gone; the store on disk is all that survives.
        let (client, _clock) = open_client(self.dir.path(), base, self.skew);
        let engine = SyncEngine::new(client.clone(), Arc::new(self.transport.clone()), server_url);
        engine.set_token(Some(self.token.clone()));
        self.client = client;
        self.engine = engine;
    }
}

fn store_meta(dir: &Path, key: &str) -> Option<String> {
    let conn = rusqlite::Connection::open(dir.join("store.db")).ok()?;
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).ok()
}

fn synced_keys(dir: &Path, kind: &str) -> BTreeSet<String> {
    let Ok(conn) = rusqlite::Connection::open(dir.join("store.db")) else { return BTreeSet::new() };
    let Ok(mut stmt) = conn.prepare("SELECT key FROM synced_records WHERE kind = ?1") else { return BTreeSet::new() };
    stmt.query_map([kind], |r| r.get::<_, String>(0)).map(|rows| rows.flatten().collect()).unwrap_or_default()
}

/// The store's full-text index matches its documents (FTS5's own check), and there is one
/// document per spec, criterion, comment and file.
fn assert_search_index_current(dir: &Path, who: &str, seed: u64) {
    let conn = rusqlite::Connection::open(dir.join("store.db")).expect("store");
    conn.execute("INSERT INTO search_index (search_index, rank) VALUES ('integrity-check', 1)", [])
        .unwrap_or_else(|e| panic!("seed {seed}: {who}: the search index does not match its documents: {e}"));
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).expect("count");
    let docs = count("SELECT COUNT(*) FROM search_docs");
    let sources = count(
        "SELECT (SELECT COUNT(*) FROM specs) + (SELECT COUNT(*) FROM criteria) + (SELECT COUNT(*) FROM comments)
              + (SELECT COUNT(*) FROM revision_files)",
    );
    assert_eq!(docs, sources, "seed {seed}: {who}: {docs} search documents for {sources} searchable rows");
    assert_eq!(count("SELECT COUNT(*) FROM search_stale"), 0, "seed {seed}: {who}: stale search entries after commit");
}

fn text_variant(rng: &mut Rng, current: &str) -> String {
    let mut lines: Vec<String> = current.lines().map(str::to_owned).collect();
    match rng.below(3) {
        0 => lines.push(format!("line {}", rng.below(1000))),
        1 if !lines.is_empty() => {
            let i = rng.below(lines.len() as u64) as usize;
            lines[i] = format!("changed {}", rng.below(1000));
        }
        _ if !lines.is_empty() => {
            let i = rng.below(lines.len() as u64) as usize;
            lines.remove(i);
        }
        _ => lines.push("first".into()),
    }
    let mut s = lines.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// A system context that passes the readiness rule (25 words or more).
const READY_CONTEXT: &str = "The inventory service keeps items for the shop front; the sync worker copies them to the \
search index every minute. This work adds an endpoint that reads one item by its id for the new mobile app.\n";

/// One random local action by `c` (its own rules may refuse it: that is fine).
fn local_op(rng: &mut Rng, c: &mut SimClient, contractors: &[String], work: &Path) {
    let client = &c.client;
    let mut specs = client.list_specs(None).unwrap_or_default();
    specs.sort_by(|a, b| (&a.title, a.id).cmp(&(&b.title, b.id)));
    let spec = rng.pick(&specs).map(|s| s.id);
    c.counter += 1;
    let n = c.counter;
    let _ = match (rng.below(20), spec) {
        (0 | 1, _) | (_, None) => client
            .create_spec(NewSpec {
                title: format!("spec {} {n}", c.email),
                criteria: vec![format!("criterion {n}")],
                // Half the specs pass the readiness rules when assigned, so the lifecycle beyond
                // draft is walked both by the rules and by owners' overrides.
                sections: if rng.chance(0.5) {
                    Sections {
                        system_context: READY_CONTEXT.into(),
                        api_shape: format!("GET /v1/items/{n}\n"),
                        out_of_scope: "Anything else.\n".into(),
                        notes: String::new(),
                    }
                } else {
                    Sections { api_shape: format!("api {n}\n"), ..Default::default() }
                },
                due_date: rng.chance(0.5).then(|| "2026-12-24".into()),
                ..Default::default()
            })
            .map(drop),
        (2, Some(s)) => client.set_title(s, &format!("title {}", rng.below(50))),
        (3 | 4, Some(s)) => match client.spec_detail(s) {
            Ok(d) => {
                let section = SectionKind::ALL[rng.below(4) as usize];
                client.edit_section(s, section, &text_variant(rng, d.spec.sections.get(section)))
            }
            Err(e) => Err(e),
        },
        (5, Some(s)) => client.set_due_date(s, Some(&format!("2026-0{}-1{}", 1 + rng.below(9), rng.below(9)))),
        (6, Some(s)) => match client.spec_detail(s) {
            Ok(d) => match (rng.below(4), rng.pick(&d.spec.criteria).map(|c| c.id)) {
                (0, _) | (_, None) => client.add_criterion(s, &format!("criterion {n}"), None).map(drop),
                (1, Some(cid)) => client.edit_criterion(s, cid, &format!("criterion edited {}", rng.below(20))),
                (2, Some(cid)) => client.move_criterion(s, cid, None),
                (_, Some(cid)) => client.remove_criterion(s, cid),
            },
            Err(e) => Err(e),
        },
        (7 | 8, Some(s)) => match rng.pick(contractors) {
            Some(email) if rng.chance(0.8) => client.assign(s, email),
            Some(email) => client.unassign(s, email),
            None => Ok(()),
        },
        (9, Some(s)) => match client.spec_detail(s) {
            Ok(d) if d.permissions.ready_by_override && rng.chance(0.3) => {
                client.mark_ready_with_override(s, &format!("ready anyway {n}"))
            }
            Ok(d) => match rng.pick(&d.permissions.next_statuses) {
                Some(to) => client.set_status(s, *to),
                None => Ok(()),
            },
            Err(e) => Err(e),
        },
        (10 | 11, Some(s)) => {
            let dir = work.join(format!("delivery-{n}"));
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join("main.rs"), format!("fn main() {{ {} }}\n", rng.below(5)));
            if rng.chance(0.5) {
                let _ = std::fs::write(dir.join("lib.rs"), format!("// {n}\n"));
            }
            client.deliver(s, &dir, &format!("delivery {n}"), vec![]).map(drop)
        }
        (12 | 13, Some(s)) => {
            let target =
                if rng.chance(0.5) { ThreadTarget::Spec } else { ThreadTarget::Section(SectionKind::ALL[rng.below(4) as usize]) };
            client.create_thread(s, target, &format!("question {} {n}", c.email)).map(drop)
        }
        (14..=16, Some(s)) => match client.spec_detail(s) {
            Ok(d) => {
                let mut threads = d.threads;
                threads.sort_by(|a, b| a.comments.first().map(|c| &c.body).cmp(&b.comments.first().map(|c| &c.body)));
                match rng.pick(&threads) {
                    Some(t) => {
                        let tid = t.thread.id;
                        let own: Vec<_> =
                            t.comments.iter().filter(|cm| cm.author == c.email && !cm.redacted).map(|cm| cm.id).collect();
                        match (rng.below(5), rng.pick(&own)) {
                            (0 | 1, _) | (_, None) => client.reply(tid, &format!("reply {} {n}", c.email)).map(drop),
                            (2, Some(cid)) => client.edit_comment(tid, *cid, &format!("edited {n}")),
                            (3, Some(cid)) => client.redact_comment(tid, *cid),
                            (_, Some(_)) => client.set_thread_state(
                                tid,
                                if t.thread.resolved { ThreadEventKind::Reopen } else { ThreadEventKind::Resolve },
                            ),
                        }
                    }
                    None => Ok(()),
                }
            }
            Err(e) => Err(e),
        },
        (17, Some(s)) => match client.spec_detail(s) {
            // Claims, viewed marks and overrides: the reviewing loop around a review.
            Ok(d) => match (rng.below(3), d.revisions.iter().map(|r| r.number).max()) {
                (0, _) => {
                    let mut open: Vec<_> = d.threads.iter().filter(|t| !t.thread.resolved).map(|t| t.thread.id).collect();
                    open.sort();
                    let dir = work.join(format!("claim-{n}"));
                    let _ = std::fs::create_dir_all(&dir);
                    let _ = std::fs::write(dir.join("main.rs"), format!("fn main() {{ {n} }}\n"));
                    let addresses = rng.pick(&open).map(|t| vec![*t]).unwrap_or_default();
                    client.deliver(s, &dir, &format!("claim {n}"), addresses).map(drop)
                }
                (1, Some(newest)) => client.set_file_viewed(s, newest, "main.rs", rng.chance(0.8)),
                _ if d.permissions.accept_by_override => client.accept_with_override(s, &format!("override {n}")),
                _ => Ok(()),
            },
            Err(e) => Err(e),
        },
        (_, Some(s)) => match client.revisions(s) {
            Ok(revs) => match rng.pick(&revs) {
                Some(r) => {
                    let verdict = [Verdict::Approve, Verdict::RequestChanges, Verdict::Comment][rng.below(3) as usize];
                    // Line comments drafted on the revision go out with the review, as one unit
                    // (this client may not have the files yet: then it reviews without them).
                    for line in 1..=rng.below(3) {
                        let target = handoff_client::LineTarget {
                            revision: r.number,
                            path: "main.rs".into(),
                            start: 1,
                            end: 1,
                            side: DiffSide::New,
                        };
                        let _ = client.draft_line_comment(s, r.number, target, &format!("remark {} {n}.{line}", c.email));
                    }
                    let criteria = match client.spec_detail(s) {
                        Ok(d) => (1..=d.spec.criteria.len())
                            .map(|position| handoff_client::CriterionInput {
                                position,
                                status: [AcceptanceStatus::Met, AcceptanceStatus::NotMet, AcceptanceStatus::NotApplicable]
                                    [rng.below(3) as usize],
                                note: format!("note {n}"),
                                evidence: None,
                            })
                            .collect(),
                        Err(_) => vec![],
                    };
                    client.publish_review(s, r.number, verdict, &format!("review {n}"), criteria).map(drop)
                }
                None => Ok(()),
            },
            Err(e) => Err(e),
        },
    };
}

fn assert_dense_revisions(snapshot: &serde_json::Value, who: &str, seed: u64) {
    for spec in snapshot["specs"].as_array().into_iter().flatten() {
        let mut by_deliverable: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for r in spec["revisions"].as_array().into_iter().flatten() {
            by_deliverable.entry(r["deliverable_id"].to_string()).or_default().push(r["number"].as_u64().unwrap_or(0));
        }
        for (d, mut numbers) in by_deliverable {
            numbers.sort_unstable();
            let want: Vec<u64> = (1..=numbers.len() as u64).collect();
            assert_eq!(numbers, want, "seed {seed}: {who}: revision numbers of deliverable {d} are not dense and unique");
        }
    }
}

/// A published review is seen whole: every thread it opened is there with its first comment.
fn assert_reviews_whole(snapshot: &serde_json::Value, who: &str, seed: u64) {
    for spec in snapshot["specs"].as_array().into_iter().flatten() {
        let threads: BTreeMap<&str, usize> = spec["threads"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some((t["thread"]["id"].as_str()?, t["comments"].as_array().map_or(0, Vec::len))))
            .collect();
        for review in spec["reviews"].as_array().into_iter().flatten() {
            for t in review["threads"].as_array().into_iter().flatten().filter_map(|t| t.as_str()) {
                assert!(
                    threads.get(t).is_some_and(|comments| *comments >= 1),
                    "seed {seed}: {who} sees review {} without its thread {t}",
                    review["id"]
                );
            }
        }
    }
}

/// Runs one seed to the end; panics (with the seed) on any broken invariant.
pub fn run_seed(seed: u64, steps: u32) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(run(seed, steps));
}

async fn run(seed: u64, steps: u32) {
    let mut rng = Rng::new(seed);
    let server = SimServer::start();
    let url = "http://sim.invalid";
    let work = tempfile::tempdir().expect("work dir");
    let n = 2 + rng.below(7) as usize;
    let mut clients: Vec<SimClient> = Vec::new();
    let mut contractors = Vec::new();
    for i in 0..n {
        let role = match i {
            0 => Role::Owner,
            1 => Role::Reviewer,
            2 => Role::Contractor,
            _ => [Role::Owner, Role::Reviewer, Role::Contractor][rng.below(3) as usize],
        };
        // The last of 4+ clients is a second device of the contractor's account.
        let second_device = n >= 4 && i == n - 1;
        let email = if second_device { "c2@sim.io".to_owned() } else { format!("c{i}@sim.io") };
        let role = if second_device { Role::Contractor } else { role };
        let skew = rng.below(2 * DAY as u64) as i64 - DAY;
        let dir = tempfile::tempdir().expect("client dir");
        let (client, _clock) = open_client(dir.path(), &server.time, skew);
        let transport = SimTransport::new(server.clone(), seed.wrapping_mul(31).wrapping_add(i as u64));
        let engine = SyncEngine::new(client.clone(), Arc::new(transport.clone()), url);
        if i == 0 {
            // Work made offline before joining must survive the join.
            client.create_spec(NewSpec { title: "made offline".into(), ..Default::default() }).expect("offline spec");
        }
        let joined = if second_device {
            engine.login(&email, "password123", "second").await.expect("login second device")
        } else {
            let code = server.invite("Sim", &email, role).await;
            engine.join(params(&code, &email)).await.expect("join")
        };
        if role == Role::Contractor && !second_device {
            contractors.push(email.clone());
        }
        clients.push(SimClient {
            email: email.clone(),
            role,
            dir,
            skew,
            client,
            engine,
            transport,
            signed_in_as: email.clone(),
            accounts: BTreeSet::from([email.clone()]),
            token: joined.session.token,
            cursors: BTreeMap::new(),
            counter: 0,
        });
    }
    let mut owner_comments_seen: BTreeSet<String> = BTreeSet::new();
    let mut restores_seen = vec![0usize; n];
    let emails: Vec<String> = clients.iter().map(|c| c.email.clone()).collect();

    for step in 0..steps {
        server.time.fetch_add(rng.below(120_000) as i64, Ordering::SeqCst);
        let i = rng.below(n as u64) as usize;
        match rng.below(100) {
            0..=49 => local_op(&mut rng, &mut clients[i], &contractors, work.path()),
            50..=76 => {
                let c = &mut clients[i];
                if let Ok(report) = c.engine.sync_once().await {
                    let now = read_cursors(c.dir.path());
                    // A restore sends everyone back to the restored versions.
                    if report.lost_scopes == 0 && server.restores() == restores_seen[i] {
                        for (scope, v) in &c.cursors {
                            if let Some(after) = now.get(scope) {
                                assert!(
                                    after >= v,
                                    "seed {seed} step {step}: {} cursor for {scope} moved back {v} -> {after}",
                                    c.email
                                );
                            }
                        }
                    }
                    c.cursors = now;
                    restores_seen[i] = server.restores();
                    if i == 0 {
                        owner_comments_seen.extend(synced_keys(c.dir.path(), "comment"));
                    }
                }
            }
            77..=81 => {
                let c = &clients[i];
                let mut f = c.transport.faults();
                f.partitioned = !f.partitioned;
                c.transport.set_faults(f);
                // A partition lasts simulated days.
                server.time.fetch_add(rng.below(3 * DAY as u64) as i64, Ordering::SeqCst);
            }
            82..=86 => {
                let f = Faults {
                    partitioned: clients[i].transport.faults().partitioned,
                    drop_request: rng.below(30) as f64 / 100.0,
                    drop_response: rng.below(30) as f64 / 100.0,
                    duplicate: rng.below(20) as f64 / 100.0,
                    replay_old: rng.below(20) as f64 / 100.0,
                    lose_pull_answers: false,
                };
                clients[i].transport.set_faults(f);
                if rng.chance(0.3) {
                    // An operator lowers (or restores) the body limit: pushes must get through
                    // in smaller batches, and what cannot goes to the attention list.
                    let limits = [6_000, 40_000, 400_000, DEFAULT_BODY_LIMIT];
                    server.set_body_limit(limits[rng.below(limits.len() as u64) as usize]);
                }
            }
            87..=90 => {
                // Killed right after a local commit, before any push.
                local_op(&mut rng, &mut clients[i], &contractors, work.path());
                clients[i].reopen(&server.time, url);
            }
            91 => server.restart(),
            92 => {
                // Backups are taken now and then; a restore puts the last one back.
                if rng.chance(0.5) || !server.restore().await {
                    server.backup();
                } else {
                    let kept = server_keys(&server.db_path(), "comment");
                    owner_comments_seen.retain(|k| kept.contains(k));
                }
            }
            96..=97 => {
                // Someone else signs in on this data dir for a while, then the owner again.
                let c = &mut clients[i];
                let others: Vec<&String> = emails.iter().filter(|e| **e != c.email).collect();
                if let Some(other) = rng.pick(&others).map(|e| (*e).clone())
                    && let Ok(j) = c.engine.login(&other, "password123", "borrowed").await
                {
                    // The data dir keeps the token of whoever signed in last.
                    c.token = j.session.token;
                    c.accounts.insert(other.clone());
                    c.signed_in_as = other;
                    let _ = c.engine.sync_once().await;
                }
                if let Ok(j) = c.engine.login(&c.email, "password123", "back").await {
                    c.signed_in_as = c.email.clone();
                    c.token = j.session.token;
                }
            }
            98..=99 => {
                // A blob deleted from the data dir by hand (or a disk cleanup).
                let blobs: Vec<std::path::PathBuf> = walk_files(&clients[i].dir.path().join("blobs"));
                if let Some(b) = rng.pick(&blobs) {
                    let _ = std::fs::remove_file(b);
                }
            }
            _ => {
                let c = &clients[i];
                let items = c.client.attention().unwrap_or_default();
                if let Some(item) = rng.pick(&items) {
                    let id = item.entry.mutation_id;
                    let _ = if rng.chance(0.5) { c.client.retry_attention(id).map(drop) } else { c.client.discard_attention(id) };
                }
            }
        }
    }

    // Heal: no faults; sync everyone to quiescence.
    server.set_body_limit(DEFAULT_BODY_LIMIT);
    for c in clients.iter_mut() {
        c.transport.set_faults(Faults::default());
        // Changes made while another account was signed in here wait for that account: it
        // signs in here once more and syncs them.
        for other in c.accounts.iter().filter(|a| **a != c.email) {
            c.token =
                c.engine.login(other, "password123", "again").await.expect("the other account signs in again").session.token;
            for _ in 0..3 {
                c.engine
                    .sync_once()
                    .await
                    .unwrap_or_else(|e| panic!("seed {seed}: {other} cannot sync on {}'s data dir: {e}", c.email));
            }
            c.signed_in_as = other.clone();
        }
        // A person signs in again after a switch, or when a restore lost their session.
        let lost_session = matches!(c.engine.sync_once().await, Err(e) if e.needs_sign_in());
        if c.signed_in_as != c.email || lost_session {
            let j = c.engine.login(&c.email, "password123", "again").await.expect("sign in again");
            c.signed_in_as = c.email.clone();
            c.token = j.session.token;
        }
    }
    let mut quiet = false;
    for _round in 0..12 {
        let mut activity = 0u32;
        for c in clients.iter_mut() {
            let r =
                c.engine.sync_once().await.unwrap_or_else(|e| panic!("seed {seed}: {} cannot sync after healing: {e}", c.email));
            activity += r.applied + r.merged + r.conflicts + r.rejected + r.records_pulled + r.pending;
            c.cursors = read_cursors(c.dir.path());
        }
        if activity == 0 {
            quiet = true;
            break;
        }
    }
    assert!(quiet, "seed {seed}: no quiescence after healing");
    owner_comments_seen.extend(synced_keys(clients[0].dir.path(), "comment"));

    let db = rusqlite::Connection::open(server.db_path()).expect("server db");
    for c in &clients {
        let who = &c.email;
        // Invariant 3: every entry ended applied, merged, or in the attention list with the
        // server's recorded answer; nothing pending.
        let status = c.client.status().expect("status");
        assert_eq!(status.pending, 0, "seed {seed}: {who} still has pending changes");
        for item in c.client.attention().expect("attention") {
            assert!(
                item.outcome.is_some(),
                "seed {seed}: {who}: attention entry {} has no recorded answer",
                item.entry.mutation_id
            );
        }
        // Invariant 2: every mutation id recorded exactly once, none skipped, under each client
        // id the data dir pushed as (one per account signed in).
        let last: u64 = store_meta(c.dir.path(), "last_mutation_id").and_then(|s| s.parse().ok()).unwrap_or(0);
        let ids = client_ids(c.dir.path());
        for (k, (cid, base)) in ids.iter().enumerate() {
            let end = ids.get(k + 1).map_or(last, |next| next.1);
            let (count, max): (i64, i64) = db
                .query_row(
                    "SELECT COUNT(*), COALESCE(MAX(mutation_id), 0) FROM mutation_outcomes WHERE client_id = ?1",
                    [cid],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .expect("outcomes");
            let (count, max, made) = (count as u64, max as u64, end - base);
            assert_eq!(
                (count, max),
                (made, made),
                "seed {seed}: {who}: under client id {cid} the server recorded {count} outcomes up to {max}, the client made {made} (client ids {ids:?}, last {last})"
            );
        }
        // Invariant 7: the synced state equals the server's view for this user.
        let snap = c.client.snapshot().expect("snapshot");
        let fresh_dir = tempfile::tempdir().expect("fresh");
        let (fresh, _) = open_client(fresh_dir.path(), &server.time, 0);
        let fresh_engine = SyncEngine::new(fresh.clone(), Arc::new(SimTransport::new(server.clone(), 0)), url);
        fresh_engine.login(who, "password123", "verifier").await.expect("verifier login");
        fresh_engine.sync_once().await.expect("verifier sync");
        let expected = fresh.snapshot().expect("fresh snapshot");
        if snap != expected {
            panic!(
                "seed {seed}: {who} ({:?}) diverged from the server's view\n--- client ---\n{}\n--- server view ---\n{}",
                c.role,
                serde_json::to_string_pretty(&snap).unwrap_or_default(),
                serde_json::to_string_pretty(&expected).unwrap_or_default()
            );
        }
        assert_dense_revisions(&snap, who, seed);
        assert_reviews_whole(&snap, who, seed);
        assert_search_index_current(c.dir.path(), who, seed);
        let text = snap.to_string();
        assert!(!text.contains("<<<<<<<") && !text.contains(">>>>>>>"), "seed {seed}: {who}: conflict markers in stored text");
    }
    if std::env::var_os("HANDOFF_SIM_VERBOSE").is_some() {
        let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap_or(-1);
        let faults: Vec<_> = clients.iter().map(|c| c.transport.stats()).collect();
        eprintln!(
            "seed {seed}: {n} clients; outcomes {} (applied {}, merged {}, conflict {}, rejected {}); records {} (specs {}, revisions {}, comments {}); faults {:?}",
            count("SELECT COUNT(*) FROM mutation_outcomes"),
            count("SELECT COUNT(*) FROM mutation_outcomes WHERE outcome LIKE '%\"applied\"%'"),
            count("SELECT COUNT(*) FROM mutation_outcomes WHERE outcome LIKE '%\"merged\"%'"),
            count("SELECT COUNT(*) FROM mutation_outcomes WHERE outcome LIKE '%\"conflict\"%'"),
            count("SELECT COUNT(*) FROM mutation_outcomes WHERE outcome LIKE '%\"rejected\"%'"),
            synced_keys(clients[0].dir.path(), "spec").len() + synced_keys(clients[0].dir.path(), "comment").len(),
            synced_keys(clients[0].dir.path(), "spec").len(),
            synced_keys(clients[0].dir.path(), "revision").len(),
            synced_keys(clients[0].dir.path(), "comment").len(),
            faults.iter().fold((0, 0, 0, 0, 0), |a, f| (
                a.0 + f.requests,
                a.1 + f.dropped_requests,
                a.2 + f.dropped_responses,
                a.3 + f.duplicates,
                a.4 + f.replays
            )),
        );
        for c in &clients {
            eprintln!(
                "  {} {:?}: attention {:?}",
                c.email,
                c.role,
                c.client
                    .attention()
                    .unwrap_or_default()
                    .iter()
                    .map(|i| (i.entry.kind.clone(), i.entry.last_error.clone()))
                    .collect::<Vec<_>>()
            );
        }
    }
    // No comment vanished: everything the owner ever synced is still there (redacted or not).
    let now = synced_keys(clients[0].dir.path(), "comment");
    let vanished: Vec<_> = owner_comments_seen.difference(&now).collect();
    assert!(vanished.is_empty(), "seed {seed}: comments vanished: {vanished:?}");
}

/// The data dir's client ids with their bases, oldest first.
fn client_ids(dir: &Path) -> Vec<(String, u64)> {
    let conn = rusqlite::Connection::open(dir.join("store.db")).expect("store");
    let mut stmt = conn.prepare("SELECT client_id, base FROM client_ids ORDER BY base, rowid").expect("client ids");
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// The ids of the server's records of one kind.
fn server_keys(db: &Path, kind: &str) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(db).expect("server db");
    let mut stmt = conn.prepare("SELECT id FROM records WHERE kind = ?1").expect("records");
    stmt.query_map([kind], |r| r.get::<_, String>(0)).expect("query").collect::<Result<_, _>>().expect("rows")
}

fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn read_cursors(dir: &Path) -> BTreeMap<Scope, u64> {
    let Ok(conn) = rusqlite::Connection::open(dir.join("store.db")) else { return BTreeMap::new() };
    let Ok(mut stmt) = conn.prepare("SELECT scope, version FROM sync_cursors") else { return BTreeMap::new() };
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map(|rows| rows.flatten().filter_map(|(s, v)| s.parse().ok().map(|s| (s, v as u64))).collect())
        .unwrap_or_default()
}

fn env_u64(key: &str) -> Option<u64> {
    std::env::var(key).ok().and_then(|v| v.trim().parse().ok())
}

/// The entry point: one seed (`HANDOFF_SIM_SEED`) or many (`HANDOFF_SIM_SEEDS`, from
/// `HANDOFF_SIM_START`), spread over the machine's cores. Failing seeds are printed with the
/// command that replays them.
#[test]
fn sim() {
    let steps = env_u64("HANDOFF_SIM_STEPS").unwrap_or(150) as u32;
    let seeds: Vec<u64> = match env_u64("HANDOFF_SIM_SEED") {
        Some(s) => vec![s],
        None => {
            let start = env_u64("HANDOFF_SIM_START").unwrap_or(0);
            let count = env_u64("HANDOFF_SIM_SEEDS").unwrap_or(200);
            (start..start + count).collect()
        }
    };
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).min(seeds.len().max(1));
    let queue = Arc::new(std::sync::Mutex::new(seeds.clone()));
    let failed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..workers)
        .map(|_| {
            let queue = queue.clone();
            let failed = failed.clone();
            std::thread::spawn(move || {
                loop {
                    let Some(seed) = queue.lock().map(|mut q| q.pop()).ok().flatten() else { return };
                    if std::panic::catch_unwind(|| run_seed(seed, steps)).is_err() {
                        eprintln!("sim seed {seed} FAILED; replay: HANDOFF_SIM_SEED={seed} cargo test -p handoff-tests --test sync sim -- --nocapture");
                        if let Ok(mut f) = failed.lock() {
                            f.push(seed);
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    let mut failed = failed.lock().map(|f| f.clone()).unwrap_or_default();
    failed.sort_unstable();
    assert!(failed.is_empty(), "{} of {} seeds failed: {failed:?}", failed.len(), seeds.len());
    eprintln!("sim: {} seeds × {steps} steps passed", seeds.len());
}
