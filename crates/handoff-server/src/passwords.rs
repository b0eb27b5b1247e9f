//! Password hashing on its own few threads. argon2 spends tens of milliseconds of CPU and
//! 19 MiB per check by design; on the shared blocking pool a burst of sign-ins would crowd out
//! SQLite's work. Here at most `threads` checks run at once, at most `queue` wait, and the rest
//! are answered `rate_limited` at once.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use crate::error::{Result, ServerError};

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of threads that only check passwords.
#[derive(Debug)]
pub struct PasswordPool {
    tx: SyncSender<Job>,
}

impl PasswordPool {
    /// Starts `threads` threads (at least one) with room for `queue` waiting checks. The
    /// threads end when the pool is dropped.
    pub fn new(threads: usize, queue: usize) -> Result<Self> {
        let (tx, rx) = sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new().name(format!("handoff-password-{i}")).spawn(move || work(&rx))?;
        }
        Ok(Self { tx })
    }

    /// Queues `f` for one of the pool's threads now (refused at once when the queue is full);
    /// the future answers its result.
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> impl std::future::Future<Output = Result<T>> + Send + 'static {
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done_tx.send(f());
        });
        let queued = match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(ServerError::RateLimited { retry_after_secs: 1 }),
            Err(TrySendError::Disconnected(_)) => Err(ServerError::Internal("the password threads ended".into())),
        };
        async move {
            queued?;
            done_rx.await.map_err(|_| ServerError::Internal("a password check ended without an answer".into()))
        }
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checks_run_on_their_own_threads_and_a_full_queue_is_refused() {
        let pool = PasswordPool::new(1, 1).expect("pool");
        let name = pool.run(|| std::thread::current().name().map(str::to_owned)).await.expect("ran");
        assert_eq!(name.as_deref(), Some("handoff-password-0"), "not the runtime's blocking pool");
        // Occupy the one thread, then the one queue place: the next check is refused at once.
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let busy = pool.run(move || {
            let _ = started_tx.send(());
            let _ = release_rx.recv();
        });
        let busy = tokio::spawn(busy);
        let _ = tokio::task::spawn_blocking(move || started_rx.recv()).await;
        let queued = pool.run(|| 2);
        let refused = pool.run(|| 3).await;
        assert!(matches!(refused, Err(ServerError::RateLimited { .. })), "{refused:?}");
        let _ = release_tx.send(());
        assert_eq!(queued.await.expect("queued check ran"), 2);
        busy.await.expect("task").expect("busy check ran");
    }
}
