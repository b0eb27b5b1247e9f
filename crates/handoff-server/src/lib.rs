//! The Handoff sync server: accounts, workspaces, and push/pull/blobs/events over SQLite
//! (default) or PostgreSQL, applying `handoff-core`'s rules and protocol.
//!
//! Library first: [`router`] builds the axum router over an [`AppState`], [`serve`] runs it on a
//! listener until a shutdown future resolves, finishing in-flight requests. The binary
//! (`handoff-server`) is a thin command line over these.
//!
//! Module map: [`config`] settings; [`state`] shared state; [`routes`] HTTP handlers;
//! [`auth`] tokens and passwords; [`accounts`] invites, joins, members; [`push`] applying
//! mutations (conflict rules documented there); [`pull`] paging changes and visibility;
//! [`blobs`] the blob store (a folder or an S3 bucket, behind one trait); [`events`] scope change pokes; [`storage`] the storage trait and its
//! SQLite and PostgreSQL implementations; [`limits`] rate limits and sign-in throttling;
//! [`metrics`] what `/metrics` reports; [`passwords`] the password threads; [`openapi`] the API document, built from the limits the
//! server enforces; [`error`] the error type.
//!
//! Every error answer is `handoff-core`'s `ApiError` with an `ApiErrorCode`; a push that needs
//! blobs the server lacks is refused whole with HTTP 409 and
//! [`ApiErrorCode::BlobsMissing`](handoff_core::protocol::ApiErrorCode::BlobsMissing), whose
//! body also lists the hashes to upload (`missing: [sha256…]`).

pub mod accounts;
pub mod auth;
pub mod blobs;
pub mod clock;
pub mod config;
pub mod error;
pub mod events;
pub mod limits;
pub mod merge;
pub mod metrics;
pub mod openapi;
pub mod passwords;
pub mod pull;
pub mod push;
pub mod routes;
pub mod state;
pub mod storage;
#[cfg(feature = "tls")]
pub mod tls;

use std::future::Future;

pub use error::{Result, ServerError};
pub use routes::router;
pub use state::AppState;

/// Serves `state` on `listener` until `shutdown` resolves; then answers `/readyz` 503 for the
/// configured `shutdown_grace`, stops accepting, ends event streams, and waits for in-flight
/// requests to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve_on(listener, state, shutdown).await
}

/// Serves over TLS (see [`tls`]).
#[cfg(feature = "tls")]
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: std::sync::Arc<tokio_rustls::rustls::ServerConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve_on(tls::TlsListener::new(listener, config)?, state, shutdown).await
}

async fn serve_on<L>(listener: L, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
    for<'a> limits::Peer: axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    // The peer's address reaches handlers (sign-in throttling counts attempts per address).
    let app = router(state.clone()).into_make_service_with_connect_info::<limits::Peer>();
    let graceful = async move {
        shutdown.await;
        // Not ready first, serving on, so a load balancer moves new requests (and the event
        // streams about to end) to other processes before this one stops accepting.
        state.begin_draining();
        let grace = state.config.shutdown_grace;
        if !grace.is_zero() {
            tracing::info!(seconds = grace.as_secs_f64(), "stopping: /readyz answers 503 while requests move elsewhere");
            tokio::time::sleep(grace).await;
        }
        tracing::info!("shutting down: finishing in-flight requests");
        state.begin_shutdown();
    };
    axum::serve(listener, app).with_graceful_shutdown(graceful).await?;
    Ok(())
}
