//! Prompt-processing speed of the engine alone, without HTTP, for a few context
//! layouts: `cargo run --release -p switchyard-engine --example prompt_speed -- MODEL.gguf`.

use std::sync::Arc;
use std::time::Instant;

use switchyard_engine::LocalTextProvider;
use switchyard_engine::catalog::ModelKind;
use switchyard_engine::llama::{GeneratorLimits, TextModel, TextModelOptions};
use switchyard_types::{CallContext, ChatRequest, Message, Provider, Role, Sampling};

#[tokio::main]
async fn main() {
    let path = std::env::args().nth(1).expect("a GGUF path");
    let _ = switchyard_engine::llama::backend();
    #[allow(unsafe_code)]
    // SAFETY: returns a static C string.
    let info = unsafe { std::ffi::CStr::from_ptr(llama_cpp_sys_2::llama_print_system_info()) };
    println!("ctx system: {}", info.to_string_lossy());
    let flash = [
        ("auto", llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO),
        ("off", llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED),
    ];
    let layouts = [(4096, 8), (4096, 1), (1024, 1)];
    for ((context_tokens, max_sequences), (flash_name, flash_attention)) in layouts
        .into_iter()
        .flat_map(|layout| flash.map(|flash| (layout, flash)))
    {
        println!("flash attention {flash_name}:");
        let limits = GeneratorLimits {
            context_tokens,
            max_sequences,
            flash_attention,
            ..TextModelOptions::default().limits
        };
        let model = TextModel::load(
            "m",
            ModelKind::Chat,
            path.as_ref(),
            TextModelOptions { limits },
        )
        .expect("loads");
        let provider = LocalTextProvider::new("m", Arc::new(model));
        for round in 0..3 {
            let words = format!("Session {round}. ") + &"river mountain quiet lantern ".repeat(40);
            let request = ChatRequest {
                messages: vec![Message::text(Role::User, words)],
                sampling: Sampling {
                    temperature: Some(0.0),
                    max_tokens: Some(1),
                    ..Sampling::default()
                },
                ..ChatRequest::default()
            };
            let started = Instant::now();
            let response = provider
                .chat(request, &CallContext::default())
                .await
                .expect("answer");
            let elapsed = started.elapsed().as_secs_f64();
            let prompt = response.usage.expect("usage").input_tokens;
            println!(
                "ctx {context_tokens} seqs {max_sequences} round {round}: {prompt} tokens, {:.1} tok/s",
                prompt as f64 / elapsed
            );
        }
    }
}
