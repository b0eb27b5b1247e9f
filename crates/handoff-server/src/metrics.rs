//! The server's metrics, served at `/metrics` in the Prometheus text format (0.0.4): requests
//! and their latency per route, push outcomes, pulled records, blob bytes, open event streams
//! and the database's connections. One registry per [`crate::AppState`], so several servers in
//! one test process count apart. Counters are bumped where things happen; gauges of state
//! (streams, connections) are read when scraped.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::{Result, ServerError};

/// A request by method, route (the router's pattern, `/v1/blobs/{sha256}`) and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// A route by method and pattern.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// One label with a fixed set of values (`outcome`, `direction`, `state`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Direction {
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolState {
    state: &'static str,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Latency buckets from 1 ms to about 33 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// What a database's connections are doing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections running a transaction.
    pub in_use: usize,
    /// Open connections waiting for work.
    pub idle: usize,
    /// Most connections the pool opens (SQLite: the one writer and the pooled readers).
    pub max: usize,
}

/// Every metric of one server state.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    push_mutations: Family<Outcome, Counter>,
    pull_records: Counter,
    blob_bytes: Family<Direction, Counter>,
    event_streams: Gauge,
    db_connections: Family<PoolState, Gauge>,
    db_connections_max: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Self {
        let m = Self {
            registry: Mutex::new(Registry::with_prefix("handoff")),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            push_mutations: Family::default(),
            pull_records: Counter::default(),
            blob_bytes: Family::default(),
            event_streams: Gauge::default(),
            db_connections: Family::default(),
            db_connections_max: Gauge::default(),
        };
        {
            let mut r = m.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            r.register("http_requests", "HTTP requests answered, by method, route and status", m.requests.clone());
            r.register(
                "http_request_duration_seconds",
                "Time to answer a request (until its headers; a streamed body is not counted), by method and route",
                m.latency.clone(),
            );
            r.register(
                "push_mutations",
                "Pushed mutations by outcome: applied, merged, conflict, rejected",
                m.push_mutations.clone(),
            );
            r.register("pull_records", "Records sent in pull pages", m.pull_records.clone());
            r.register(
                "blob_bytes",
                "Blob bytes stored (direction=in, verified) and served (direction=out)",
                m.blob_bytes.clone(),
            );
            r.register("event_streams_open", "Open /v1/events streams in this process", m.event_streams.clone());
            r.register("db_connections", "Database connections by state: in_use, idle", m.db_connections.clone());
            r.register("db_connections_max", "Most database connections this process opens", m.db_connections_max.clone());
        }
        m
    }

    /// Counts an answered request and how long it took.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.latency.get_or_create(&RouteLabels { method: method.clone(), route: route.clone() }).observe(took.as_secs_f64());
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
    }

    /// Counts one pushed mutation's outcome (`applied`, `merged`, `conflict`, `rejected`).
    pub fn push_outcome(&self, outcome: &'static str) {
        self.push_mutations.get_or_create(&Outcome { outcome }).inc();
    }

    /// Counts records sent in a pull.
    pub fn pulled(&self, records: usize) {
        self.pull_records.inc_by(records as u64);
    }

    /// The counter of verified blob bytes stored.
    pub fn blob_bytes_in(&self) -> Counter {
        self.blob_bytes.get_or_create(&Direction { direction: "in" }).clone()
    }

    /// The counter of blob bytes served.
    pub fn blob_bytes_out(&self) -> Counter {
        self.blob_bytes.get_or_create(&Direction { direction: "out" }).clone()
    }

    /// The text a scrape gets, with the state gauges set to `streams` and `pool` first.
    pub fn render(&self, streams: usize, pool: PoolStatus) -> Result<String> {
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.event_streams.set(gauge(streams));
        self.db_connections.get_or_create(&PoolState { state: "in_use" }).set(gauge(pool.in_use));
        self.db_connections.get_or_create(&PoolState { state: "idle" }).set(gauge(pool.idle));
        self.db_connections_max.set(gauge(pool.max));
        let registry = self.registry.lock().map_err(|_| ServerError::Internal("metrics registry poisoned".into()))?;
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry)
            .map_err(|e| ServerError::Internal(format!("encoding metrics: {e}")))?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_is_prometheus_text_with_every_family() {
        let m = Metrics::new();
        m.request("POST", "/v1/push", 200, Duration::from_millis(3));
        m.push_outcome("applied");
        m.pulled(7);
        m.blob_bytes_in().inc_by(5);
        let text = m.render(2, PoolStatus { in_use: 1, idle: 3, max: 16 }).expect("render");
        for line in [
            "handoff_http_requests_total{method=\"POST\",route=\"/v1/push\",status=\"200\"} 1",
            "handoff_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/push\"} 1",
            "handoff_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/push\",le=\"0.004\"} 1",
            "handoff_push_mutations_total{outcome=\"applied\"} 1",
            "handoff_pull_records_total 7",
            "handoff_blob_bytes_total{direction=\"in\"} 5",
            "handoff_event_streams_open 2",
            "handoff_db_connections{state=\"idle\"} 3",
            "handoff_db_connections_max 16",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
        }
    }
}
