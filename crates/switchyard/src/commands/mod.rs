//! One module per subcommand.

/// `println!` that returns a write error (a closed pipe) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout().lock(), $($arg)*)?
    };
}

mod admin_client;
pub mod chat;
pub mod config;
pub mod keys;
pub mod local;
pub mod models;
pub mod pull;
pub mod serve;
mod table;
pub mod usage;
