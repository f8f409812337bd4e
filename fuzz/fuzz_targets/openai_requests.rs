//! A caller's body to the OpenAI routes: Chat Completions, text completions and the
//! Responses API (the first byte picks which), then encoded for every upstream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_protocols::openai;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let request = match which % 3 {
        0 => openai::decode_chat_request(body),
        1 => openai::completions::decode_completion_request(body),
        _ => openai::responses::decode_response_request(body).map(|request| request.chat),
    };
    if let Ok(request) = request {
        common::encode_everywhere(&request);
    }
});
