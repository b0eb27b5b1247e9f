//! The pure half of the sync engine: given what the local store holds and what the last
//! request answered, decide what to do next. No IO, no clock, no randomness of its own, so
//! every decision is unit-testable; the executor in [`super::SyncEngine`] does the IO.

use std::time::Duration;

use crate::code::Code;

/// What the local store looks like to the planner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalState {
    /// The next batch's local outbox ids (see [`next_batch`]); empty when nothing is pending.
    pub pending: Vec<u64>,
    /// Blob hashes the next batch references that the server has not been asked about yet
    /// (or that it reported missing).
    pub unchecked_blobs: Vec<String>,
}

/// What happened in this sync round so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoundState {
    /// Pushes done this round.
    pub pushes: u32,
    /// Pulls done this round.
    pub pulls: u32,
    /// The last pull said more changes wait.
    pub more: bool,
    /// Pending entries at the start of the last push (to notice a push that made no progress).
    pub last_push_first: Option<u64>,
    /// The server refused a push in a way no retry in this round fixes: stop pushing, but
    /// still pull, so a refusal never keeps others' changes from arriving.
    pub push_blocked: bool,
}

/// The next step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Ask `/v1/blobs/missing` about these hashes and upload what is missing.
    UploadBlobs(Vec<String>),
    /// Push the pending entries with these ids (consecutive, at most `MAX_PUSH_BATCH`).
    Push(Vec<u64>),
    /// Pull the next page(s).
    Pull,
    /// Nothing left to do this round.
    Done,
    /// The server keeps answering a push without consuming it: stop with an error rather
    /// than loop.
    Stuck(u64),
}

/// One outbox entry the planner may put in a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sendable {
    /// Its local outbox id.
    pub id: u64,
    /// Which client id it goes out under (an index; a batch never mixes two).
    pub client: usize,
    /// Its envelope's size in bytes.
    pub bytes: usize,
}

/// The longest run of consecutive ids from the first, under one client id, at most `max`
/// entries and `max_bytes` bytes, but always the first entry (a single entry over the
/// budget goes alone, and the server's answer decides).
pub fn next_batch(pending: &[Sendable], max: usize, max_bytes: usize) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    let mut bytes = 0usize;
    let Some(first) = pending.first() else { return out };
    for e in pending {
        let follows = out.last().is_none_or(|last| e.id == last + 1);
        if out.len() >= max || !follows || e.client != first.client || (!out.is_empty() && bytes + e.bytes > max_bytes) {
            break;
        }
        bytes += e.bytes;
        out.push(e.id);
    }
    out
}

/// Decides the next step: upload blobs the next batch needs, push pending mutations in
/// order and in batches (unless pushing is blocked for this round), then pull until the
/// server says nothing more waits.
pub fn next_step(local: &LocalState, round: &RoundState, max_batch: usize) -> Step {
    if !local.pending.is_empty() && !round.push_blocked {
        if !local.unchecked_blobs.is_empty() {
            return Step::UploadBlobs(local.unchecked_blobs.clone());
        }
        let batch: Vec<u64> = local.pending.iter().copied().take(max_batch).collect();
        if let (Some(first), Some(last_first)) = (batch.first(), round.last_push_first)
            && *first == last_first
        {
            return Step::Stuck(*first);
        }
        return Step::Push(batch);
    }
    if round.pulls == 0 || round.more {
        return Step::Pull;
    }
    Step::Done
}

/// What to do when the server refuses a whole push request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Send fewer mutations per push (the body was over the server's limit).
    Shrink,
    /// The first mutation alone cannot be sent: withdraw it (it goes to the attention list)
    /// so everything behind it still syncs.
    Withdraw,
    /// Stop pushing for this round; still pull; report the refusal.
    Block,
}

/// Decides how to go on after the server refused a push of `batch_len` mutations with `code`.
pub fn on_refusal(code: Code, batch_len: usize) -> Refusal {
    match code {
        Code::TooLarge if batch_len > 1 => Refusal::Shrink,
        Code::TooLarge => Refusal::Withdraw,
        _ => Refusal::Block,
    }
}

/// Exponential backoff with jitter: `base · 2^attempt`, capped, then scaled by a factor in
/// `[0.5, 1.0)` drawn from `random` (the caller supplies randomness so this stays pure).
pub fn backoff(attempt: u32, base: Duration, cap: Duration, random: u64) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(20)).min(cap);
    let frac = 0.5 + (random % 1000) as f64 / 2000.0;
    exp.mul_f64(frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sendable(ids: &[u64], client: usize, bytes: usize) -> Vec<Sendable> {
        ids.iter().map(|&id| Sendable { id, client, bytes }).collect()
    }

    #[test]
    fn batches_are_consecutive_under_one_client_and_capped_by_count_and_bytes() {
        let pending = sendable(&[3, 4, 5, 7], 0, 10);
        assert_eq!(next_batch(&pending, 2, 1000), vec![3, 4]);
        assert_eq!(next_batch(&pending, 10, 1000), vec![3, 4, 5]);
        assert_eq!(next_batch(&pending, 10, 25), vec![3, 4], "a third entry would pass 25 bytes");
        assert_eq!(next_batch(&sendable(&[3, 4], 0, 100), 10, 25), vec![3], "one entry over the budget still goes alone");
        let mut mixed = sendable(&[1, 2], 0, 10);
        mixed.extend(sendable(&[3, 4], 1, 10));
        assert_eq!(next_batch(&mixed, 10, 1000), vec![1, 2], "a batch never mixes client ids");
        assert_eq!(next_batch(&[], 10, 1000), Vec::<u64>::new());
    }

    #[test]
    fn pushes_first_then_pulls_until_done_and_pulls_while_pushing_is_blocked() {
        let local = LocalState { pending: vec![3, 4, 5], unchecked_blobs: vec![] };
        assert_eq!(next_step(&local, &RoundState::default(), 2), Step::Push(vec![3, 4]));
        assert_eq!(next_step(&local, &RoundState::default(), 10), Step::Push(vec![3, 4, 5]));
        let blobs = LocalState { pending: vec![1], unchecked_blobs: vec!["ab".into()] };
        assert_eq!(next_step(&blobs, &RoundState::default(), 10), Step::UploadBlobs(vec!["ab".into()]));
        let idle = LocalState::default();
        assert_eq!(next_step(&idle, &RoundState::default(), 10), Step::Pull);
        assert_eq!(next_step(&idle, &RoundState { pulls: 1, more: true, ..Default::default() }, 10), Step::Pull);
        assert_eq!(next_step(&idle, &RoundState { pulls: 1, ..Default::default() }, 10), Step::Done);
        let stuck = RoundState { pushes: 1, last_push_first: Some(3), ..Default::default() };
        assert_eq!(next_step(&local, &stuck, 10), Step::Stuck(3));
        let blocked = RoundState { push_blocked: true, ..Default::default() };
        assert_eq!(next_step(&local, &blocked, 10), Step::Pull, "a refused push never stops the pull");
        assert_eq!(next_step(&local, &RoundState { pulls: 1, ..blocked }, 10), Step::Done);
    }

    #[test]
    fn a_body_over_the_limit_shrinks_the_batch_then_withdraws_the_one_mutation() {
        assert_eq!(on_refusal(Code::TooLarge, 40), Refusal::Shrink);
        assert_eq!(on_refusal(Code::TooLarge, 1), Refusal::Withdraw);
        for code in [Code::Forbidden, Code::MutationGap, Code::Invalid, Code::MalformedRequest, Code::Unauthorized] {
            assert_eq!(on_refusal(code, 1), Refusal::Block, "{code:?}");
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(60);
        assert!(backoff(0, base, cap, 0) >= Duration::from_millis(50));
        assert!(backoff(0, base, cap, 999) < Duration::from_millis(100));
        assert!(backoff(3, base, cap, 0) >= Duration::from_millis(400));
        assert!(backoff(30, base, cap, 999) < cap);
        assert!(backoff(30, base, cap, 0) >= cap / 2);
    }
}
