//! The pure half of the sync engine: given what the local store holds and what the last
//! request answered, decide what to do next. No IO, no clock, no randomness of its own, so
//! every decision is unit-testable; the executor in [`super::SyncEngine`] does the IO.

use std::time::Duration;

/// What the local store looks like to the planner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalState {
    /// Pending outbox entries (mutation ids in order) still to push.
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

/// The longest run of consecutive ids from the first, capped at `max`.
pub fn next_batch(pending: &[u64], max: usize) -> Vec<u64> {
    let mut out: Vec<u64> = Vec::new();
    for id in pending.iter().copied() {
        if out.len() >= max || out.last().is_some_and(|last| id != last + 1) {
            break;
        }
        out.push(id);
    }
    out
}

/// Decides the next step: upload blobs the next batch needs, push pending mutations in
/// order and in batches, then pull until the server says nothing more waits.
pub fn next_step(local: &LocalState, round: &RoundState, max_batch: usize) -> Step {
    if !local.pending.is_empty() {
        if !local.unchecked_blobs.is_empty() {
            return Step::UploadBlobs(local.unchecked_blobs.clone());
        }
        let batch = next_batch(&local.pending, max_batch);
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

    #[test]
    fn pushes_first_in_consecutive_batches_then_pulls_until_done() {
        let local = LocalState { pending: vec![3, 4, 5, 7], unchecked_blobs: vec![] };
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
