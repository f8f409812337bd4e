//! Integration tests: the real app on a loopback port, in front of wire-faithful mock
//! upstreams, driven over HTTP.

mod anthropic;
mod billing;
mod catalog;
mod chat;
mod completions;
mod errors;
mod governance;
mod harness;
mod hedging;
mod matrix;
mod messages;
mod open_server;
mod ops;
mod responses;
mod routing;
mod stream;
mod task_routing;
