//! Errors from a provider call, classified so that callers decide by data, not text.
//!
//! After pingora's `Error`: each error says which side caused it
//! ([`SourceSide`]) and whether trying again can help ([`RetryAdvice`]). The router
//! reads these fields to retry or fall back; the server maps [`ErrorKind`] to a status
//! code and an error body in the caller's protocol.

use std::fmt;
use std::time::Duration;

/// What went wrong, independent of any protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request is malformed or asks for something the upstream rejects (400).
    InvalidRequest,
    /// The request does not fit the model's context window.
    ContextLengthExceeded,
    /// The upstream refused our credentials (401).
    Authentication,
    /// The credentials are valid but lack permission (403).
    PermissionDenied,
    /// The upstream does not know the model or route (404).
    NotFound,
    /// The upstream or a local limit says slow down (429).
    RateLimited,
    /// The upstream is temporarily over capacity (503, Anthropic 529).
    Overloaded,
    /// The output was blocked by the upstream's safety filter.
    ContentFilter,
    /// A feature the deployment cannot honour (e.g. embeddings on a chat-only model).
    Unsupported,
    /// A deadline passed: connect, first byte, idle gap or total.
    Timeout,
    /// The connection could not be made or broke.
    Connection,
    /// The upstream failed (5xx) or answered something we could not understand.
    Upstream,
    /// A bug or resource failure inside Switchyard.
    Internal,
}

impl ErrorKind {
    /// A short stable name, for metrics labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::ContextLengthExceeded => "context_length_exceeded",
            ErrorKind::Authentication => "authentication",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::ContentFilter => "content_filter",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::Upstream => "upstream",
            ErrorKind::Internal => "internal",
        }
    }
}

/// Who caused an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceSide {
    /// The upstream service or the network to it.
    Upstream,
    /// The caller's request.
    Downstream,
    /// Switchyard itself.
    Internal,
}

/// Whether the same request may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAdvice {
    No,
    Yes,
    /// The upstream asked us to wait this long first (`Retry-After`).
    After(Duration),
}

impl RetryAdvice {
    pub fn is_retryable(self) -> bool {
        !matches!(self, RetryAdvice::No)
    }
}

/// An error from a [`crate::Provider`] call.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ProviderError {
    pub kind: ErrorKind,
    pub source_side: SourceSide,
    pub retry: RetryAdvice,
    /// The HTTP status the upstream answered with, if it answered.
    pub status: Option<u16>,
    /// A human-readable message, already scrubbed of secrets.
    pub message: String,
    /// The wire field the error is about, when the upstream named one (OpenAI `param`).
    pub param: Option<String>,
    /// The upstream's own error code, when it gave one (OpenAI `code`).
    pub code: Option<String>,
    #[source]
    pub cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ProviderError {
    /// An error with the side and retry advice that `kind` implies.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let (source_side, retry) = match kind {
            ErrorKind::InvalidRequest
            | ErrorKind::ContextLengthExceeded
            | ErrorKind::ContentFilter
            | ErrorKind::Unsupported => (SourceSide::Downstream, RetryAdvice::No),
            ErrorKind::Authentication | ErrorKind::PermissionDenied | ErrorKind::NotFound => {
                (SourceSide::Upstream, RetryAdvice::No)
            }
            ErrorKind::RateLimited
            | ErrorKind::Overloaded
            | ErrorKind::Timeout
            | ErrorKind::Connection
            | ErrorKind::Upstream => (SourceSide::Upstream, RetryAdvice::Yes),
            ErrorKind::Internal => (SourceSide::Internal, RetryAdvice::No),
        };
        ProviderError {
            kind,
            source_side,
            retry,
            status: None,
            message: message.into(),
            param: None,
            code: None,
            cause: None,
        }
    }

    /// The deployment cannot do what was asked, e.g. embeddings on a chat model.
    pub fn unsupported(what: &str) -> Self {
        ProviderError::new(
            ErrorKind::Unsupported,
            format!("this deployment does not support {what}"),
        )
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    pub fn with_retry(mut self, retry: RetryAdvice) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_param(mut self, param: Option<String>) -> Self {
        self.param = param;
        self
    }

    pub fn with_code(mut self, code: Option<String>) -> Self {
        self.code = code;
        self
    }

    pub fn with_cause(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }
}

impl fmt::Display for SourceSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceSide::Upstream => "upstream",
            SourceSide::Downstream => "downstream",
            SourceSide::Internal => "internal",
        })
    }
}
