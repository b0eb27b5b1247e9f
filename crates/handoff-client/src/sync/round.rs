//! One sync round: upload the blobs pending revisions need, push the outbox in batches,
//! pull until the server has nothing more; and rounds retried with backoff.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use rusqlite::TransactionBehavior;

use handoff_core::protocol::*;
use handoff_core::*;

use crate::code::Code;
use crate::error::ClientError;
use crate::outbox::meta_set;

use super::{
    Method, Progress, PullTally, PushTally, Step, SyncEngine, SyncError, SyncReport, SyncResult, jitter_seed, json_body, local,
    planner,
};

impl SyncEngine {
    /// One sync round: upload the blobs pending revisions need, push the outbox in order and
    /// in batches, then pull until the server has nothing more. Every answer is recorded in
    /// one transaction as it arrives, so a failure or a crash at any point loses nothing and
    /// the next round continues where this one stopped.
    ///
    /// No answer wedges the outbox: a body over the server's limit shrinks the batches (by
    /// bytes as well as count) down to one mutation, which is then withdrawn to the attention
    /// list; so is a revision whose files are gone from this machine; any other refusal of a
    /// push stops pushing for this round but still pulls, and is returned after the pull.
    pub async fn sync_once(&self) -> SyncResult<SyncReport> {
        let _round = self.round.lock().await;
        let token = self.token()?;
        // First, so this round's pull brings the member records back as they are now.
        self.send_profile(&token).await?;
        let mut report = SyncReport::default();
        let mut round = planner::RoundState::default();
        let mut checked: BTreeSet<String> = BTreeSet::new();
        // Blobs the server lacks that are no longer on this machine either.
        let mut gone: BTreeSet<String> = BTreeSet::new();
        let mut refused: Option<SyncError> = None;
        let total_pending = local::pending(&self.client.conn())?.entries.len() as u64;
        let mut blob_retries = 0u32;
        // The smallest push body the server refused as too large this round. The byte budget
        // grows back (doubling) after each accepted push but stays under it; a new round
        // forgets it, so a limit the operator raised is found again at the cost of at most
        // one refused push per round while it stays low.
        let mut refused_bytes = usize::MAX;
        loop {
            // Any answer (a pull page or a push) may reveal a server restored from a backup.
            self.probe_restored(&token).await?;
            let (local_state, batch_envs, client, room) = {
                let conn = self.client.conn();
                let pending = local::pending(&conn)?;
                // What fits in one request under the limit the server announced, if it has.
                let room = local::request_limit(&conn)?.map(|limit| limit.saturating_sub(PUSH_REQUEST_OVERHEAD));
                let budget = self.push_bytes.load(Ordering::Relaxed).min(room.unwrap_or(usize::MAX));
                let batch = planner::next_batch(&pending.entries, self.options.push_batch, budget);
                let client = pending.entries.first().map(|e| pending.clients[e.client]);
                let mut envs = local::envelopes(&conn, &batch)?;
                // A revision whose files are gone cannot be sent: the batch stops before it,
                // and when it comes first it is withdrawn below.
                if let Some(k) = envs.iter().position(|e| references_any(e, &gone)) {
                    envs.truncate(k.max(1));
                }
                let ids = envs.iter().map(|e| e.mutation_id + client.map_or(0, |c| c.1)).collect();
                let unchecked = local::blob_hashes(&envs).into_iter().filter(|h| !checked.contains(h)).collect();
                (planner::LocalState { pending: ids, unchecked_blobs: unchecked }, envs, client, room)
            };
            // A change bigger than the server ever accepts is set aside without sending it: a
            // body over the limit is refused, and that answer can be lost when the server
            // closes the connection while the client is still sending.
            if !round.push_blocked
                && let (Some(first), Some(client), Some(room)) = (batch_envs.first(), client, room)
                && envelope_bytes(first) > room
            {
                let message = format!(
                    "it is {} bytes, over what the server accepts in one request ({} bytes)",
                    envelope_bytes(first),
                    room + PUSH_REQUEST_OVERHEAD
                );
                self.withdraw_into(&token, client, first, ApiErrorCode::TooLarge, message, &mut report).await?;
                continue;
            }
            if !round.push_blocked
                && let (Some(first), Some(client)) = (batch_envs.first(), client)
                && references_any(first, &gone)
            {
                let message = format!(
                    "its files are no longer on this machine and the server does not have them ({} missing); deliver the folder again",
                    files_of(first).filter(|h| gone.contains(*h)).count()
                );
                self.withdraw_into(&token, client, first, ApiErrorCode::BlobsMissing, message, &mut report).await?;
                continue;
            }
            match planner::next_step(&local_state, &round, self.options.push_batch) {
                Step::UploadBlobs(hashes) => {
                    let sizes = batch_envs
                        .iter()
                        .flat_map(|e| revision_files(e).iter().map(|f| (f.sha256.clone(), f.size)))
                        .collect::<std::collections::BTreeMap<_, _>>();
                    let (n, bytes, lost) = self.upload_blobs(&token, &hashes, &sizes).await?;
                    report.blobs_uploaded += n;
                    report.bytes_uploaded += bytes;
                    gone.extend(lost);
                    checked.extend(hashes);
                }
                Step::Push(batch) => {
                    let Some(client) = client else { break };
                    round.last_push_first = batch.first().copied();
                    let batch_bytes: usize = batch_envs.iter().map(envelope_bytes).sum();
                    match self.push(&token, client, PushRequest::new(client.0, batch_envs.clone())).await {
                        Ok(tally) => {
                            let budget = self.push_bytes.load(Ordering::Relaxed);
                            let grown = budget.saturating_mul(2).min(PUSH_BATCH_BYTES).min(refused_bytes.saturating_sub(1));
                            self.push_bytes.store(grown.max(budget), Ordering::Relaxed);
                            add_tally(&mut report, &tally);
                            report.pushes += 1;
                            round.pushes += 1;
                            let done = (report.applied + report.merged + report.conflicts + report.rejected) as u64;
                            self.report(Progress::Pushed { done, total: total_pending.max(done) });
                        }
                        Err(SyncError::Server { code: Code::BlobsMissing, .. }) if blob_retries < 3 => {
                            // Someone (a server restore, a cleanup) lost blobs we had uploaded: ask again.
                            blob_retries += 1;
                            round.last_push_first = None;
                            checked.clear();
                        }
                        Err(e @ (SyncError::Server { .. } | SyncError::ServerBehind { .. })) => {
                            match planner::on_refusal(e.code(), batch.len()) {
                                planner::Refusal::Shrink => {
                                    refused_bytes = refused_bytes.min(batch_bytes);
                                    self.push_bytes.store((batch_bytes / 2).max(1), Ordering::Relaxed);
                                    round.last_push_first = None;
                                }
                                planner::Refusal::Withdraw => {
                                    let Some(first) = batch_envs.first() else { break };
                                    let message =
                                        format!("it is {batch_bytes} bytes, over what the server accepts in one request ({e})");
                                    self.withdraw_into(&token, client, first, ApiErrorCode::TooLarge, message, &mut report)
                                        .await?;
                                    round.last_push_first = None;
                                }
                                planner::Refusal::Block => {
                                    local::note_push_failure(&self.client.conn(), &batch, &e.to_string())?;
                                    round.push_blocked = true;
                                    refused = Some(e);
                                }
                            }
                        }
                        Err(e) => {
                            local::note_push_failure(&self.client.conn(), &batch, &e.to_string())?;
                            return Err(e);
                        }
                    }
                }
                Step::Pull => {
                    let (tally, more) = self.pull_page(&token).await?;
                    report.pulls += 1;
                    report.records_pulled += tally.records;
                    report.lost_scopes += tally.lost_scopes;
                    round.pulls += 1;
                    round.more = more;
                    self.report(Progress::Pulled { records: report.records_pulled as u64 });
                }
                Step::Stuck(id) => return Err(SyncError::Stuck(id)),
                Step::Done => break,
            }
        }
        {
            let mut conn = self.client.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
            local::rebuild_dirty(&tx)?;
            local::prune_sent(&tx)?;
            meta_set(&tx, "last_sync", &self.client.now().as_millis().to_string())?;
            crate::store::commit(tx)?;
            let count = |sql: &str| -> SyncResult<u32> {
                Ok(conn.query_row(sql, [], |r| r.get::<_, u32>(0)).map_err(ClientError::from)?)
            };
            report.pending = count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")?;
            report.attention = count("SELECT COUNT(*) FROM outbox WHERE state = 'attention'")?;
        }
        match refused {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// After the server started a new history (restored from a backup), asks it, per client
    /// id of this account, whether it still has the newest answered mutation, by sending that
    /// one again: a server that has it answers its stored outcome; one that lost more answers
    /// `mutation_gap` with what it has, and everything after that is sent again.
    async fn probe_restored(&self, token: &str) -> SyncResult<()> {
        let probes = local::to_probe(&self.client.conn())?;
        for (client, newest) in probes {
            if let Some(env) = newest {
                let newest = env.mutation_id;
                match self.resend(token, client, newest, newest + 1).await {
                    Ok(()) => {}
                    Err(SyncError::ServerBehind { recorded, .. }) => {
                        self.resend(token, client, recorded + 1, newest + 1).await?;
                    }
                    Err(e) => return Err(e),
                }
            }
            local::probed(&self.client.conn(), &client.0)?;
        }
        Ok(())
    }

    /// Sends wire ids `from..to` of `client` again to a server restored from a backup: what is
    /// still kept here as sent, else a withdrawal (so the ids stay gap-free). The server's
    /// answers to them are not recorded again: they left the outbox when first answered.
    async fn resend(&self, token: &str, client: (ClientId, u64), from: u64, to: u64) -> SyncResult<()> {
        let kept = local::resend(&self.client.conn(), client, from, to)?;
        // The restore may have lost their files too: upload what is here, withdraw the rest.
        let envs: Vec<MutationEnvelope> = kept.iter().filter_map(|(_, e)| e.clone()).collect();
        let sizes = envs.iter().flat_map(|e| revision_files(e).iter().map(|f| (f.sha256.clone(), f.size))).collect();
        let (_, _, gone) = self.upload_blobs(token, &local::blob_hashes(&envs), &sizes).await?;
        let gone: BTreeSet<String> = gone.into_iter().collect();
        let budget = self.push_bytes.load(Ordering::Relaxed);
        let mut req = PushRequest::new(client.0, Vec::new());
        let mut bytes = 0;
        for (wire, env) in kept {
            let withdraw = env.as_ref().is_none_or(|e| references_any(e, &gone));
            let size = if withdraw { 0 } else { env.as_ref().map_or(0, envelope_bytes) };
            let full = req.mutations.len() + req.withdrawn.len() >= self.options.push_batch || bytes + size > budget;
            // Withdrawals must come before the mutations in one request.
            if (full || withdraw && !req.mutations.is_empty()) && !(req.mutations.is_empty() && req.withdrawn.is_empty()) {
                self.push_once(token, client, &std::mem::replace(&mut req, PushRequest::new(client.0, Vec::new()))).await?;
                bytes = 0;
            }
            match env {
                Some(env) if !references_any(&env, &gone) => {
                    bytes += size;
                    req.mutations.push(env);
                }
                Some(env) => req.withdrawn.push(Withdrawal {
                    mutation_id: wire,
                    kind: env.mutation.kind().to_owned(),
                    spec_id: env.mutation.spec_id(),
                    code: ApiErrorCode::BlobsMissing,
                    message:
                        "lost when the server was restored from a backup, and its files are no longer on the device that made it"
                            .into(),
                }),
                None => req.withdrawn.push(Withdrawal {
                    mutation_id: wire,
                    kind: "unknown".into(),
                    spec_id: SpecId::from(uuid::Uuid::nil()),
                    code: ApiErrorCode::NotFound,
                    message: "lost when the server was restored from a backup, and no longer kept on the device that made it"
                        .into(),
                }),
            }
        }
        if !(req.mutations.is_empty() && req.withdrawn.is_empty()) {
            self.push_once(token, client, &req).await?;
        }
        Ok(())
    }

    /// Withdraws `env` (it cannot be sent): the server records it as refused with `message`,
    /// and it moves to the attention list like any refusal.
    async fn withdraw_into(
        &self,
        token: &str,
        client: (ClientId, u64),
        env: &MutationEnvelope,
        code: ApiErrorCode,
        message: String,
        report: &mut SyncReport,
    ) -> SyncResult<()> {
        let withdrawal = Withdrawal {
            mutation_id: env.mutation_id,
            kind: env.mutation.kind().to_owned(),
            spec_id: env.mutation.spec_id(),
            code,
            message,
        };
        let req = PushRequest { client_id: client.0, withdrawn: vec![withdrawal], mutations: Vec::new() };
        let tally = self.push(token, client, req).await?;
        add_tally(report, &tally);
        report.pushes += 1;
        Ok(())
    }

    /// [`SyncEngine::sync_once`], retried with exponential backoff and jitter while the
    /// failure is transient, at most `attempts` times.
    pub async fn sync_with_retry(&self, attempts: u32) -> SyncResult<SyncReport> {
        let mut attempt = 0;
        loop {
            match self.sync_once().await {
                Ok(r) => return Ok(r),
                Err(e) if e.is_transient() && attempt + 1 < attempts => {
                    let delay = planner::backoff(attempt, self.options.backoff_base, self.options.backoff_cap, jitter_seed());
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Pushes `req` under `client`. A server that answers it has recorded less than the
    /// request assumes (restored from a backup) first gets the ids it lost sent again, then
    /// the request once more; and every scope is fetched again.
    async fn push(&self, token: &str, client: (ClientId, u64), req: PushRequest) -> SyncResult<PushTally> {
        let first = req.withdrawn.first().map(|w| w.mutation_id).or(req.mutations.first().map(|e| e.mutation_id));
        match self.push_once(token, client, &req).await {
            Err(SyncError::ServerBehind { recorded, .. }) if first.is_some_and(|f| f > recorded + 1) => {
                self.resend(token, client, recorded + 1, first.unwrap_or(recorded + 1)).await?;
                local::refetch_everything(&self.client.conn())?;
                self.push_once(token, client, &req).await
            }
            answer => answer,
        }
    }

    async fn push_once(&self, token: &str, client: (ClientId, u64), req: &PushRequest) -> SyncResult<PushTally> {
        let resp: PushResponse = self.call(Method::Post, "/v1/push", Some(token), json_body(req)?).await?;
        let mut conn = self.client.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
        local::note_history(&tx, resp.history.as_deref())?;
        local::note_request_limit(&tx, resp.max_request_bytes)?;
        let tally = local::record_push_results(&tx, client, &resp.results, resp.server_hlc, self.client.now())?;
        crate::store::commit(tx)?;
        Ok(tally)
    }

    async fn pull_page(&self, token: &str) -> SyncResult<(PullTally, bool)> {
        let cursors = local::cursors(&self.client.conn())?;
        let req = PullRequest { cursors, limit: self.options.pull_limit };
        let resp: PullResponse<local::Pulled> = self.call(Method::Post, "/v1/pull", Some(token), json_body(&req)?).await?;
        let mut conn = self.client.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
        local::note_request_limit(&tx, resp.max_request_bytes)?;
        if local::note_history(&tx, resp.history.as_deref())? {
            // What this page answered was asked with cursors of the old history: ask again.
            crate::store::commit(tx)?;
            return Ok((PullTally::default(), true));
        }
        let tally = local::apply_pull(&tx, &resp, self.client.now())?;
        if !resp.more {
            local::rebuild_dirty(&tx)?;
        }
        crate::store::commit(tx)?;
        Ok((tally, resp.more))
    }
}

fn add_tally(report: &mut SyncReport, tally: &PushTally) {
    report.applied += tally.applied;
    report.merged += tally.merged;
    report.conflicts += tally.conflicts;
    report.rejected += tally.rejected;
}

/// A revision's files (nothing for other kinds).
fn revision_files(env: &MutationEnvelope) -> &[ManifestEntry] {
    match &env.mutation {
        Mutation::CreateRevision { files, .. } => files,
        _ => &[],
    }
}

/// The blob hashes a revision's files name.
fn files_of(env: &MutationEnvelope) -> impl Iterator<Item = &String> {
    revision_files(env).iter().map(|f| &f.sha256)
}

fn references_any(env: &MutationEnvelope, hashes: &BTreeSet<String>) -> bool {
    !hashes.is_empty() && files_of(env).any(|h| hashes.contains(h))
}

/// An envelope's size on the wire, near enough to budget a batch.
/// Room kept in a push body for what surrounds the mutations (the client id, the lists, a
/// comma between mutations).
const PUSH_REQUEST_OVERHEAD: usize = 8 * 1024;

fn envelope_bytes(env: &MutationEnvelope) -> usize {
    serde_json::to_vec(env).map_or(0, |v| v.len())
}
