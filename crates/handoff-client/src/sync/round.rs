//! One sync round: upload the blobs pending revisions need, push the outbox in batches,
//! pull until the server has nothing more; and rounds retried with backoff.

use std::collections::BTreeSet;

use rusqlite::TransactionBehavior;

use handoff_core::protocol::*;
use handoff_core::*;

use crate::code::Code;
use crate::error::ClientError;
use crate::outbox::{self, meta_set};

use super::{
    Method, Progress, PullTally, PushTally, Step, SyncEngine, SyncError, SyncReport, SyncResult, jitter_seed, json_body, local,
    planner,
};

impl SyncEngine {
    /// One sync round: upload the blobs pending revisions need, push the outbox in order and
    /// in batches, then pull until the server has nothing more. Every answer is recorded in
    /// one transaction as it arrives, so a failure or a crash at any point loses nothing and
    /// the next round continues where this one stopped.
    pub async fn sync_once(&self) -> SyncResult<SyncReport> {
        let _round = self.round.lock().await;
        let token = self.token()?;
        let mut report = SyncReport::default();
        let mut round = planner::RoundState::default();
        let mut checked: BTreeSet<String> = BTreeSet::new();
        let total_pending = local::pending_ids(&self.client.conn())?.len() as u64;
        let mut blob_retries = 0u32;
        loop {
            let (local_state, batch_envs) = {
                let conn = self.client.conn();
                let pending = local::pending_ids(&conn)?;
                let batch = planner::next_batch(&pending, self.options.push_batch);
                let envs = local::envelopes(&conn, &batch)?;
                let unchecked = local::blob_hashes(&envs).into_iter().filter(|h| !checked.contains(h)).collect();
                (planner::LocalState { pending, unchecked_blobs: unchecked }, envs)
            };
            match planner::next_step(&local_state, &round, self.options.push_batch) {
                Step::UploadBlobs(hashes) => {
                    let sizes = batch_envs
                        .iter()
                        .flat_map(|e| match &e.mutation {
                            Mutation::CreateRevision { files, .. } => files.clone(),
                            _ => Vec::new(),
                        })
                        .map(|f| (f.sha256, f.size))
                        .collect::<std::collections::BTreeMap<_, _>>();
                    let (n, bytes) = self.upload_blobs(&token, &hashes, &sizes).await?;
                    report.blobs_uploaded += n;
                    report.bytes_uploaded += bytes;
                    checked.extend(hashes);
                }
                Step::Push(batch) => {
                    round.last_push_first = batch.first().copied();
                    match self.push(&token, batch_envs).await {
                        Ok(tally) => {
                            report.applied += tally.applied;
                            report.merged += tally.merged;
                            report.conflicts += tally.conflicts;
                            report.rejected += tally.rejected;
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
                        Err(e) => {
                            let conn = self.client.conn();
                            local::note_push_failure(&conn, &batch, &e.to_string())?;
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
            meta_set(&tx, "last_sync", &self.client.now().as_millis().to_string())?;
            crate::store::commit(tx)?;
            let count = |sql: &str| -> SyncResult<u32> {
                Ok(conn.query_row(sql, [], |r| r.get::<_, u32>(0)).map_err(ClientError::from)?)
            };
            report.pending = count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")?;
            report.attention = count("SELECT COUNT(*) FROM outbox WHERE state = 'attention'")?;
        }
        Ok(report)
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

    async fn push(&self, token: &str, envs: Vec<MutationEnvelope>) -> SyncResult<PushTally> {
        let client_id = outbox::client_id(&self.client.conn())?;
        let req = PushRequest { client_id, mutations: envs };
        let resp: PushResponse = self.call(Method::Post, "/v1/push", Some(token), json_body(&req)?).await?;
        let mut conn = self.client.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
        let tally = local::record_push_results(&tx, &resp.results, resp.server_hlc, self.client.now())?;
        crate::store::commit(tx)?;
        Ok(tally)
    }

    async fn pull_page(&self, token: &str) -> SyncResult<(PullTally, bool)> {
        let cursors = local::cursors(&self.client.conn())?;
        let req = PullRequest { cursors, limit: self.options.pull_limit };
        let resp: PullResponse<local::Pulled> = self.call(Method::Post, "/v1/pull", Some(token), json_body(&req)?).await?;
        let mut conn = self.client.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(ClientError::from)?;
        let tally = local::apply_pull(&tx, &resp, self.client.now())?;
        if !resp.more {
            local::rebuild_dirty(&tx)?;
        }
        crate::store::commit(tx)?;
        Ok((tally, resp.more))
    }
}
