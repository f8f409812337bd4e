//! One module per subcommand.

pub mod chat;
pub mod config;
pub mod models;
pub mod serve;
