//! Sync end to end: the engine over real HTTP, the seeded fault simulation against the real
//! router in-process, and real processes killed mid-sync.
//!
//! Replay a simulation seed: `HANDOFF_SIM_SEED=123 cargo test -p handoff-tests --test sync sim`.
//! More seeds: `HANDOFF_SIM_SEEDS=10000 cargo test -p handoff-tests --test sync sim -- --nocapture`.

mod clocks;
mod cluster;
mod durability;
mod export;
mod files;
mod hours;
mod http_e2e;
mod inbox;
mod members;
mod net_errors;
mod objectstore;
mod process;
mod procs;
mod readiness;
mod restore;
mod reviewing;
mod sim;
mod support;
mod upgrade;
mod wedge;
