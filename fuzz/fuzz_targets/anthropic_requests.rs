//! A caller's body to Anthropic's routes (`/v1/messages` and its `count_tokens`), then
//! encoded for every upstream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_protocols::anthropic::ingress;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = ingress::decode_request(data) {
        common::encode_everywhere(&request);
    }
    let _ = ingress::decode_count_request(data);
});
