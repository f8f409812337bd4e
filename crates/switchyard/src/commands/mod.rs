//! One module per subcommand.

pub mod chat;
pub mod config;
pub mod local;
pub mod models;
pub mod pull;
pub mod serve;
