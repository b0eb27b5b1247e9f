//! The Handoff sync server.
