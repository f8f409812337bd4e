//! A complete answer from an upstream, in each vendor's protocol (the first byte picks
//! which), and an error body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_protocols::{anthropic, bedrock, gemini, openai};

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 5 {
        0 => {
            if let Ok(wire) = serde_json::from_slice::<openai::ChatCompletionResponse>(body) {
                let _ = openai::to_canonical_response(wire);
            }
        }
        1 => {
            let _ = openai::completions::decode_completion_response(body);
        }
        2 => {
            let _ = anthropic::decode_response(body);
        }
        3 => {
            let _ = gemini::decode_response(body, "m");
        }
        _ => {
            let _ = bedrock::decode_response(body, "m", "id");
            let _ = bedrock::read_error(None, body);
        }
    }
});
