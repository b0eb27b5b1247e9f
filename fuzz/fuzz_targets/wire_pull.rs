//! `PullResponse` as the client decodes a pull page: never panics; round trips.
#![no_main]

use handoff_core::protocol::PullResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = handoff_fuzz::round_trips::<PullResponse>(data);
});
