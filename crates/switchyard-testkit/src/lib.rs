//! switchyard-testkit: dev-only mock upstreams and fixtures for testing the gateway.
//!
//! It owns wire-faithful stand-ins for the providers Switchyard talks to, built on
//! `serde_json::Value` from the providers' public API references. It deliberately does not
//! depend on the project's own wire types: it is the independent reference that the code under
//! test is checked against.
//!
//! # Layout
//!
//! * [`mock::openai`]: [`MockOpenAi`], a real axum server on a loopback port that records requests
//!   and answers from scripts or with deterministic defaults. Start reading here.
//! * [`mock::script`]: [`Script`], the per-test behaviours (reply, error + `Retry-After`, streams
//!   that stall, truncate or break, stalls, delays), serializable so other processes can push them
//!   over HTTP.
//! * [`fixtures`]: builders for OpenAI response objects, chunks and error bodies.
//! * [`services`]: PostgreSQL and Redis servers for the distributed backend's tests.
//!
//! The `switchyard-mock-openai` binary serves the same mock for end-to-end tests in other
//! languages.
//!
//! ```no_run
//! use switchyard_testkit::{MockOpenAi, Route, Script, fixtures};
//!
//! # async fn example() {
//! let mock = MockOpenAi::start().await;
//! mock.push(
//!     Route::ChatCompletions,
//!     Script::reply(fixtures::chat_completion("gpt-4o", "Hello!")),
//! );
//! // Point the gateway at `mock.base_url()`, send a request, then inspect `mock.requests()`.
//! # }
//! ```

pub mod fixtures;
pub mod mock;
pub mod services;

pub use mock::anthropic::{AnthropicRequest, AnthropicScript, MockAnthropic};
pub use mock::bedrock::{BedrockScript, MockBedrock};
pub use mock::gemini::{GeminiScript, MockGemini};
pub use mock::hangup::HangUps;
pub use mock::hub::{HubRepo, MockHub};
pub use mock::openai::{MockOpenAi, RecordedRequest};
pub use mock::script::{Route, Script, StreamEnd};
