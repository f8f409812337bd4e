//! Bedrock's binary event stream (`application/vnd.amazon.eventstream`): frames cut into
//! chunks where the input says, their CRCs and lengths checked, each frame decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_protocols::bedrock;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let size = usize::from(cut).max(1);
    let mut frames = bedrock::FrameDecoder::new();
    let mut events = bedrock::EventDecoder::new("id", "m");
    for chunk in body.chunks(size) {
        frames.push(chunk);
        loop {
            match frames.next_frame() {
                Ok(Some(frame)) => {
                    let _ = events.decode_frame(&frame);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = frames.finish();
});
