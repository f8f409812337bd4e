//! What every request fuzzer does with a request that decoded: encode it for every
//! upstream protocol. A decoder may refuse anything; nothing may panic, and nothing may
//! allocate from a caller's number (libFuzzer's `-rss_limit_mb` and
//! `-malloc_limit_mb` catch that).

use switchyard_protocols::{anthropic, bedrock, gemini, openai};
use switchyard_types::ChatRequest;

pub fn encode_everywhere(request: &ChatRequest) {
    if request.completion.is_some() {
        let _ = openai::completions::from_canonical_completion_request(request, "m");
        return;
    }
    let _ = openai::from_canonical_request(request, "m");
    let _ = anthropic::from_canonical_request(request, "m", anthropic::EncodeOptions::default());
    let _ = gemini::from_canonical_request(request, "m", gemini::EncodeOptions::default());
    let _ = bedrock::from_canonical_request(
        request,
        "anthropic.claude-3-haiku",
        bedrock::EncodeOptions::default(),
    );
}
