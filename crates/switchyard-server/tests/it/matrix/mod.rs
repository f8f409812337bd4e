//! The ingress × egress conformance matrix: every client dialect (Chat Completions,
//! Messages, Responses, legacy Completions) against every vendor mock (OpenAI,
//! Anthropic, Gemini, Bedrock), as JSON and streamed, for a text answer, a tool call, a
//! tool result across turns, JSON output and an upstream error. One test per cell
//! (ingress × egress), each running every scenario in both modes, so a failure names
//! its cell. The local engine's column runs in the end-to-end suite
//! (`tests/e2e/test_dialect_matrix.py`), on the built binary and its bundled models.

mod dialects;
mod upstreams;

use serde_json::Value;

use crate::harness::{Running, serve_config};
use dialects::{Ask, Got, Ingress, error_of, from_json, from_stream, parse_sse, request};
use upstreams::{CALL_ID, Egress, TOOL, Upstreams, arguments, check_json_output, check_tool_turns};

struct Matrix {
    client: reqwest::Client,
    upstreams: Upstreams,
    server: Running,
}

impl Matrix {
    async fn start() -> Matrix {
        let upstreams = Upstreams::start().await;
        let server = serve_config(&upstreams.config(), Upstreams::secret).await;
        Matrix {
            client: reqwest::Client::new(),
            upstreams,
            server,
        }
    }

    /// Sends `body` in `ingress`'s dialect: the answer in common terms, or the error's
    /// status and type.
    async fn call(&self, ingress: Ingress, body: &Value) -> Result<Got, (u16, String)> {
        let stream = body["stream"] == true;
        let response = self
            .client
            .post(format!("{}{}", self.server.url, ingress.path()))
            .header("x-api-key", "unused")
            .json(body)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        if status != 200 {
            let body: Value = serde_json::from_str(&text).expect("an error body in JSON");
            return Err(error_of(ingress, status, &body));
        }
        if stream {
            if std::env::var_os("MATRIX_DEBUG").is_some() {
                eprintln!("{text}");
            }
            Ok(from_stream(ingress, &parse_sse(&text)))
        } else {
            Ok(from_json(
                ingress,
                &serde_json::from_str(&text).expect("a JSON answer"),
            ))
        }
    }
}

/// Every scenario of one cell, in both modes.
async fn cell(ingress: Ingress, egress: Egress) {
    let matrix = Matrix::start().await;
    let model = egress.model();
    let (natural, with_tools) = ingress.finishes();
    for stream in [false, true] {
        let mode = if stream { "stream" } else { "json" };
        let at = |scenario: &str| format!("{ingress:?} × {egress:?}, {mode}, {scenario}");

        // Legacy completions: only an OpenAI-compatible upstream serves them; the
        // others are refused by name before any upstream is called.
        if ingress == Ingress::Completions {
            let before = matrix.upstreams.received(egress);
            let result = matrix
                .call(ingress, &request(ingress, model, Ask::Text, stream))
                .await;
            if egress == Egress::OpenAi {
                let got = result.unwrap_or_else(|error| panic!("{}: {error:?}", at("text")));
                assert!(
                    got.text.contains(dialects::QUESTION),
                    "{}: {got:?}",
                    at("text")
                );
                assert_eq!(got.finish, natural, "{}", at("text"));
                assert!(
                    got.usage.is_some_and(|(input, _)| input > 0),
                    "{}",
                    at("text")
                );
            } else {
                assert_eq!(
                    result,
                    Err((400, "invalid_request_error".to_owned())),
                    "{}",
                    at("refused")
                );
                assert_eq!(
                    matrix.upstreams.received(egress),
                    before,
                    "{}",
                    at("refused")
                );
            }
            continue;
        }

        // A text answer: every mock echoes the last user text.
        let got = matrix
            .call(ingress, &request(ingress, model, Ask::Text, stream))
            .await
            .unwrap_or_else(|error| panic!("{}: {error:?}", at("text")));
        assert_eq!(
            got.text,
            format!("echo: {}", dialects::QUESTION),
            "{}",
            at("text")
        );
        assert_eq!(got.finish, natural, "{}", at("text"));
        assert!(
            got.usage
                .is_some_and(|(input, output)| input > 0 && output > 0),
            "{}: {got:?}",
            at("text")
        );

        // The model calls a tool.
        matrix.upstreams.answer_with_tool_call(egress, stream);
        let got = matrix
            .call(ingress, &request(ingress, model, Ask::Tool, stream))
            .await
            .unwrap_or_else(|error| panic!("{}: {error:?}", at("tool call")));
        assert_eq!(got.calls.len(), 1, "{}: {got:?}", at("tool call"));
        let (id, name, called_with) = &got.calls[0];
        assert_eq!(id, CALL_ID, "{}", at("tool call"));
        assert_eq!(
            (name.as_str(), called_with),
            (TOOL, &arguments()),
            "{}",
            at("tool call")
        );
        assert_eq!(got.finish, with_tools, "{}", at("tool call"));

        // The call and its result, sent back: the upstream gets both in its own terms.
        let got = matrix
            .call(ingress, &request(ingress, model, Ask::ToolResult, stream))
            .await
            .unwrap_or_else(|error| panic!("{}: {error:?}", at("tool result")));
        assert!(!got.text.is_empty(), "{}: {got:?}", at("tool result"));
        check_tool_turns(egress, &matrix.upstreams.last_body(egress));

        // JSON output reaches the upstream as its structured-output setting.
        matrix
            .call(ingress, &request(ingress, model, Ask::Json, stream))
            .await
            .unwrap_or_else(|error| panic!("{}: {error:?}", at("json output")));
        check_json_output(egress, &matrix.upstreams.last_body(egress));

        // The upstream's rate limit reaches the caller as its dialect's 429.
        matrix.upstreams.answer_rate_limited(egress);
        let result = matrix
            .call(ingress, &request(ingress, model, Ask::Text, stream))
            .await;
        // Both OpenAI's and Anthropic's bodies call it `rate_limit_error`.
        assert_eq!(
            result,
            Err((429, "rate_limit_error".to_owned())),
            "{}",
            at("upstream error")
        );
    }
}

macro_rules! cells {
    ($($name:ident: $ingress:ident on $egress:ident;)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                cell(Ingress::$ingress, Egress::$egress).await;
            }
        )*
    };
}

cells! {
    chat_completions_on_openai: ChatCompletions on OpenAi;
    chat_completions_on_anthropic: ChatCompletions on Anthropic;
    chat_completions_on_gemini: ChatCompletions on Gemini;
    chat_completions_on_bedrock: ChatCompletions on Bedrock;
    messages_on_openai: Messages on OpenAi;
    messages_on_anthropic: Messages on Anthropic;
    messages_on_gemini: Messages on Gemini;
    messages_on_bedrock: Messages on Bedrock;
    responses_on_openai: Responses on OpenAi;
    responses_on_anthropic: Responses on Anthropic;
    responses_on_gemini: Responses on Gemini;
    responses_on_bedrock: Responses on Bedrock;
    completions_on_openai: Completions on OpenAi;
    completions_on_anthropic: Completions on Anthropic;
    completions_on_gemini: Completions on Gemini;
    completions_on_bedrock: Completions on Bedrock;
}
