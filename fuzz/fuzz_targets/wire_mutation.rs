//! Every `Mutation` kind (and its envelope) as it crosses the wire: decoding never panics,
//! round trips, and validation of whatever decodes never panics.
#![no_main]

use handoff_core::{Mutation, MutationEnvelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(m) = handoff_fuzz::round_trips::<Mutation>(data) {
        let _ = m.validated();
    }
    let _ = handoff_fuzz::round_trips::<MutationEnvelope>(data);
});
