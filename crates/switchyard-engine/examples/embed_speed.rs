//! Sentence-embedding throughput of the encoder alone, without HTTP, on the benchmark's
//! 64 short sentences: `cargo run --release -p switchyard-engine --example embed_speed --
//! MODEL_DIR [ROUNDS]` (MODEL_DIR holds model.safetensors, config.json, tokenizer.json).

use std::time::Instant;

use switchyard_engine::embed::SentenceEncoder;

const WORDS: [&str; 8] = [
    "ocean", "mountain", "city", "forest", "river", "desert", "island", "valley",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("a model directory");
    let rounds: usize = args
        .next()
        .map_or(20, |n| n.parse().expect("a round count"));
    let encoder = SentenceEncoder::load(dir.as_ref()).expect("loads");
    let sentences: Vec<String> = (0..64)
        .map(|i| {
            format!(
                "A short sentence number {i} about the {}.",
                WORDS[i % WORDS.len()]
            )
        })
        .collect();
    encoder.encode(&sentences).expect("warm-up");
    let started = Instant::now();
    let mut tokens = 0;
    for _ in 0..rounds {
        tokens += encoder.encode(&sentences).expect("encodes").1;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{:.1} sentences/s, {:.0} tokens/s, {:.1} ms per batch of 64",
        (rounds * sentences.len()) as f64 / seconds,
        tokens as f64 / seconds,
        seconds * 1000.0 / rounds as f64
    );
}
