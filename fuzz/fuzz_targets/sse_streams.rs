//! An upstream's event stream: the bytes, cut into chunks where the input says, through
//! the SSE parser the adapters use, each event's data into the OpenAI, Anthropic and
//! Gemini stream decoders (as the same stream would reach any of them).
#![no_main]

use eventsource_stream::Eventsource;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;
use switchyard_protocols::{anthropic, gemini, openai};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let size = usize::from(cut).max(1);
    let chunks: Vec<Result<Vec<u8>, std::convert::Infallible>> =
        body.chunks(size).map(|chunk| Ok(chunk.to_vec())).collect();
    let mut events = futures::stream::iter(chunks).eventsource();
    let mut openai = openai::ChunkDecoder::new();
    let mut anthropic = anthropic::EventDecoder::new();
    let mut gemini = gemini::EventDecoder::new("m");
    futures::executor::block_on(async {
        while let Some(event) = events.next().await {
            let Ok(event) = event else { break };
            let data = event.data.as_bytes();
            let _ = openai.decode_data(data);
            let _ = anthropic.decode_data(data);
            let _ = gemini.decode_data(data);
        }
    });
    let _ = gemini.end();
});
