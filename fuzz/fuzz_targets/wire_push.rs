//! `PushRequest` as the server decodes a push body: never panics; round trips; every
//! decoded mutation's validation never panics either.
#![no_main]

use handoff_core::protocol::PushRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(push) = handoff_fuzz::round_trips::<PushRequest>(data) {
        for envelope in push.mutations {
            let _ = envelope.mutation.validated();
        }
    }
});
