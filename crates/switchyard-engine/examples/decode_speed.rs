//! Aggregate decode speed of the engine alone, without HTTP, with 1, 4 and 8 concurrent
//! greedy streams: `cargo run --release -p switchyard-engine --example decode_speed --
//! MODEL.gguf [TOKENS_EACH] [BANNED_TOKEN_ID…]`. Rates count the tokens produced while
//! every stream was decoding (from the last stream's first token to the first stream's
//! end), so prompt processing does not blur them.

use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use switchyard_engine::LocalTextProvider;
use switchyard_engine::catalog::ModelKind;
use switchyard_engine::llama::{TextModel, TextModelOptions};
use switchyard_types::{CallContext, ChatRequest, Message, Provider, Role, Sampling};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("a GGUF path");
    let tokens_each: u32 = args
        .next()
        .map_or(64, |n| n.parse().expect("a token count"));
    let banned: serde_json::Map<String, serde_json::Value> =
        args.map(|token| (token, serde_json::json!(-100))).collect();
    let mut options = TextModelOptions::default();
    if std::env::var("FLASH_ATTENTION").as_deref() == Ok("off") {
        options.limits.flash_attention = llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED;
    }
    let model = TextModel::load("m", ModelKind::Chat, path.as_ref(), options).expect("loads");
    let provider = Arc::new(LocalTextProvider::new("m", Arc::new(model)));
    let mut single = None;
    for streams in [1, 4, 8] {
        let started = Instant::now();
        let runs = (0..streams).map(|index| {
            let provider = provider.clone();
            let banned = banned.clone();
            async move {
                let mut request = ChatRequest {
                    messages: vec![Message::text(
                        Role::User,
                        format!("Story {index}-{streams}: tell me about rivers and mountains."),
                    )],
                    sampling: Sampling {
                        temperature: Some(0.0),
                        max_tokens: Some(tokens_each),
                        ..Sampling::default()
                    },
                    stream: true,
                    ..ChatRequest::default()
                };
                request
                    .extra
                    .insert("logit_bias".into(), serde_json::Value::Object(banned));
                let mut stream = provider
                    .chat_stream(request, &CallContext::default())
                    .await
                    .expect("stream");
                let mut times = Vec::new();
                while let Some(frame) = stream.next().await {
                    frame.expect("frame");
                    times.push(started.elapsed().as_secs_f64());
                }
                times
            }
        });
        let all: Vec<Vec<f64>> = futures::future::join_all(runs).await;
        // Frames before the first token and after the last (role, usage) are few and
        // equal for every stream; the window trims them.
        let from = all.iter().map(|t| t[1]).fold(0.0, f64::max);
        let to = all.iter().map(|t| t[t.len() - 2]).fold(f64::MAX, f64::min);
        let inside: usize = all
            .iter()
            .map(|t| t.iter().filter(|&&x| x > from && x <= to).count())
            .sum();
        let rate = inside as f64 / (to - from);
        let ratio = single.get_or_insert(rate);
        println!(
            "{streams} streams: {rate:.1} tok/s aggregate ({:.2}x one stream), {:.2} s in all",
            rate / *ratio,
            started.elapsed().as_secs_f64()
        );
    }
}
