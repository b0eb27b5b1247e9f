//! handoff-client
