//! What a mock upstream does with one request: [`Script`] and [`StreamEnd`].
//!
//! Scripts are queued per [`Route`] and consumed FIFO, one per request. They are plain data
//! (serde, internally tagged by `kind`, snake_case) so that other processes can push them over
//! HTTP as JSON, for example:
//!
//! ```json
//! {"kind": "error", "status": 429, "body": {"error": {"message": "slow down",
//!   "type": "rate_limit_error", "param": null, "code": "rate_limit_exceeded"}},
//!   "retry_after": "1"}
//! ```
//!
//! This module only describes behaviour; `mock::openai` carries it out.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A mocked endpoint; scripts are queued per route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// `POST /v1/chat/completions`.
    ChatCompletions,
    /// `POST /v1/completions`, legacy text completions.
    Completions,
    /// `POST /v1/embeddings`.
    Embeddings,
    /// `GET /v1/models` and `GET /v1/models/{id}`.
    Models,
}

impl Route {
    /// Every route, in a stable order.
    pub const ALL: [Route; 4] = [
        Route::ChatCompletions,
        Route::Completions,
        Route::Embeddings,
        Route::Models,
    ];

    /// The name used in control URLs and JSON: `chat_completions`, `completions`,
    /// `embeddings`, `models`.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::ChatCompletions => "chat_completions",
            Route::Completions => "completions",
            Route::Embeddings => "embeddings",
            Route::Models => "models",
        }
    }

    /// The request path, including the `/v1` prefix.
    pub fn path(self) -> &'static str {
        match self {
            Route::ChatCompletions => "/v1/chat/completions",
            Route::Completions => "/v1/completions",
            Route::Embeddings => "/v1/embeddings",
            Route::Models => "/v1/models",
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Route {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Route::ALL
            .into_iter()
            .find(|route| route.as_str() == s)
            .ok_or_else(|| {
                format!("unknown route {s:?}; expected chat_completions, completions, embeddings or models")
            })
    }
}

/// One scripted response, consumed by the next request to its route.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Script {
    /// A JSON reply: `content-type: application/json` unless `headers` sets another.
    Reply {
        #[serde(default = "ok_status")]
        status: u16,
        body: Value,
        /// Extra response headers, appended in order.
        #[serde(default)]
        headers: Vec<(String, String)>,
    },
    /// A `200 text/event-stream` response.
    ///
    /// 1. Headers are sent at once.
    /// 2. Each chunk is sent as `data: {json}\n\n`, with `delay_ms` before every event but the
    ///    first (the terminating event included).
    /// 3. The stream then ends as `end` says.
    Stream {
        chunks: Vec<Value>,
        #[serde(default)]
        delay_ms: u64,
        #[serde(default)]
        end: StreamEnd,
    },
    /// An error status with a JSON body and an optional `Retry-After` header.
    Error {
        status: u16,
        body: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
    },
    /// Accept the request and never send response headers.
    Stall,
    /// Wait `ms` milliseconds, then act as `then`.
    Delay { ms: u64, then: Box<Script> },
    /// Any status, content type and body, for non-JSON or garbage responses.
    RawBody {
        status: u16,
        content_type: String,
        body: String,
    },
}

/// How a [`Script::Stream`] ends after its chunks.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamEnd {
    /// Send `data: [DONE]\n\n` and end the body cleanly.
    #[default]
    Done,
    /// Send nothing more and keep the connection open until the client goes away.
    Stall,
    /// End the body cleanly (terminating HTTP chunk) without `[DONE]`: the upstream hung up early.
    Truncate,
    /// Abort the connection mid-body, so the client sees a transport error rather than a clean
    /// end of body.
    Reset,
    /// Send `data: {not json\n\n`, then end the body cleanly.
    Malformed,
    /// Send `data: <body>\n\n` (normally `{"error": {...}}`, as OpenAI does mid-stream), then end
    /// the body cleanly without `[DONE]`.
    ErrorEvent { body: Value },
}

fn ok_status() -> u16 {
    200
}

// === impl Script ===

impl Script {
    /// A `200` JSON reply with no extra headers.
    pub fn reply(body: Value) -> Script {
        Script::Reply {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }

    /// A stream of `chunks` with no delay, ending with `[DONE]`.
    pub fn stream(chunks: Vec<Value>) -> Script {
        Script::Stream {
            chunks,
            delay_ms: 0,
            end: StreamEnd::Done,
        }
    }

    /// An error status with a JSON body and no `Retry-After`.
    pub fn error(status: u16, body: Value) -> Script {
        Script::Error {
            status,
            body,
            retry_after: None,
        }
    }

    /// Wait `ms` milliseconds, then act as `self`.
    pub fn delayed(self, ms: u64) -> Script {
        Script::Delay {
            ms,
            then: Box::new(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn scripts_round_trip_through_json() {
        let scripts = [
            Script::reply(json!({"a": 1})),
            Script::Stream {
                chunks: vec![json!({"x": 1})],
                delay_ms: 5,
                end: StreamEnd::ErrorEvent {
                    body: json!({"error": {}}),
                },
            },
            Script::Error {
                status: 429,
                body: json!({}),
                retry_after: Some("2".into()),
            },
            Script::Stall,
            Script::Stall.delayed(10),
            Script::RawBody {
                status: 502,
                content_type: "text/html".into(),
                body: "<html>".into(),
            },
        ];
        for script in scripts {
            let text = serde_json::to_string(&script).expect("scripts serialize");
            let back: Script = serde_json::from_str(&text).expect("scripts deserialize");
            assert_eq!(back, script, "{text}");
        }
    }

    #[test]
    fn defaults_apply_when_fields_are_missing() {
        let reply: Script =
            serde_json::from_value(json!({"kind": "reply", "body": {}})).expect("valid reply");
        assert_eq!(reply, Script::reply(json!({})));
        let stream: Script =
            serde_json::from_value(json!({"kind": "stream", "chunks": []})).expect("valid stream");
        assert_eq!(stream, Script::stream(Vec::new()));
        let end: StreamEnd =
            serde_json::from_value(json!({"kind": "truncate"})).expect("valid end");
        assert_eq!(end, StreamEnd::Truncate);
    }

    #[test]
    fn routes_parse_from_their_names() {
        for route in Route::ALL {
            assert_eq!(route.as_str().parse::<Route>(), Ok(route));
        }
        assert!("chat".parse::<Route>().is_err());
    }
}
