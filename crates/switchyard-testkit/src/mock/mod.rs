//! Mock upstreams: real HTTP servers on `127.0.0.1:0` that speak a provider's wire format.
//!
//! Each mock records every request and answers either from a per-test [`Script`] queue or with a
//! deterministic default derived from the request, never from magic model names.
//!
//! * [`anthropic`]: Anthropic's Messages API ([`MockAnthropic`]).
//! * [`bedrock`]: AWS Bedrock's Converse, ConverseStream (binary event stream) and
//!   InvokeModel, checking SigV4 signatures ([`MockBedrock`]).
//! * [`gemini`]: Google's Gemini API ([`MockGemini`]).
//! * [`hangup`]: noticing clients that leave in the middle of a stream ([`HangUps`]).
//! * [`hub`]: the Hugging Face hub's file-resolution endpoint ([`MockHub`]).
//! * [`openai`]: OpenAI Chat Completions, Embeddings and Models ([`MockOpenAi`]).
//! * [`script`]: the scripted behaviours ([`Script`], [`StreamEnd`]) and [`Route`]s.

pub mod anthropic;
pub mod bedrock;
pub mod gemini;
pub mod hangup;
pub mod hub;
pub mod openai;
pub mod script;

/// Serves `router` on a free loopback port in a background task; aborting the task
/// stops the server.
pub(crate) async fn serve_on_loopback(
    router: axum::Router,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("a free loopback port");
    let addr = listener.local_addr().expect("bound address");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (addr, task)
}

pub use anthropic::{AnthropicRequest, AnthropicScript, MockAnthropic};
pub use bedrock::{BedrockScript, MockBedrock};
pub use gemini::{GeminiScript, MockGemini};
pub use hangup::HangUps;
pub use hub::{HubRepo, HubRequest, MockHub};
pub use openai::{MockOpenAi, RecordedRequest};
pub use script::{Route, Script, StreamEnd};
