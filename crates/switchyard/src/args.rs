//! Command-line arguments. Server scalars follow one precedence: a flag beats its
//! `SWITCHYARD_*` variable, which beats the config file, which beats the default.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "switchyard",
    version,
    about = "One endpoint, many models: a self-hosted multi-model AI gateway",
    long_about = "One endpoint, many models. Switchyard speaks the OpenAI API to your \
applications and routes each request to the deployment that should serve it: \
OpenAI-compatible upstreams (OpenAI, xAI, DeepSeek, Groq, vLLM, llama.cpp, Ollama...) or \
small open-weight models it runs itself on the CPU."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway server.
    Serve(ServeArgs),
    /// Chat with a model: streams the answer to the terminal.
    Chat(ChatArgs),
    /// List models: the installed local ones, a config file's, or a running server's.
    Models(ModelsArgs),
    /// Download a local model (built in, or from the Hugging Face hub) and verify it.
    Pull(PullArgs),
    /// Work with configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The config file (switchyard.toml). Without one, the server offers the built-in
    /// local models, pulling them first if they are missing.
    #[arg(long, short, env = "SWITCHYARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Never download: serve only the local models already installed.
    #[arg(long, env = "SWITCHYARD_OFFLINE")]
    pub offline: bool,
    /// Where models are stored [default: $SWITCHYARD_HOME, else the XDG data dir].
    #[arg(long, env = "SWITCHYARD_HOME")]
    pub home: Option<PathBuf>,
    /// The address to listen on [default: 127.0.0.1:8080, or `server.listen` in the file].
    #[arg(long, short, env = "SWITCHYARD_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Log format [default: pretty, or `server.log_format` in the file].
    #[arg(long, env = "SWITCHYARD_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The model to chat with.
    #[arg(long, short)]
    pub model: String,
    /// The prompt. Without one, reads standard input when it is piped, or starts an
    /// interactive session.
    pub prompt: Option<String>,
    /// A system prompt.
    #[arg(long, short)]
    pub system: Option<String>,
    /// The running server to talk to.
    #[arg(long, env = "SWITCHYARD_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The API key for the server, if it requires one.
    #[arg(long, env = "SWITCHYARD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Serve this config in-process instead of talking to a running server.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Sampling temperature.
    #[arg(long)]
    pub temperature: Option<f64>,
    /// The most tokens to generate per answer.
    #[arg(long)]
    pub max_tokens: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// The config file whose models to list.
    #[arg(long, short, env = "SWITCHYARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// List the models of this running server instead (e.g. http://127.0.0.1:8080).
    #[arg(long)]
    pub url: Option<String>,
    /// The API key for `--url`.
    #[arg(long, env = "SWITCHYARD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Where local models are stored, listed when neither --config nor --url is given
    /// [default: $SWITCHYARD_HOME, else the XDG data dir].
    #[arg(long, env = "SWITCHYARD_HOME")]
    pub home: Option<PathBuf>,
    /// List the built-in catalog of hosted models (context, prices, capabilities,
    /// jurisdiction) instead of configured or installed ones.
    #[arg(long, conflicts_with_all = ["config", "url"])]
    pub catalog: bool,
    /// With --catalog: only this platform (openai, anthropic, gemini, bedrock, azure,
    /// mistral, xai, deepseek, groq, together, fireworks).
    #[arg(long, requires = "catalog")]
    pub provider: Option<String>,
    /// With --catalog: only models whose vendor is based in, or that are hosted in a
    /// region of, this country code or EU.
    #[arg(long, requires = "catalog")]
    pub jurisdiction: Option<String>,
    /// With --catalog: only models with these capabilities (chat, tools, json_schema,
    /// vision, audio, reasoning, embeddings); repeat or separate with commas.
    #[arg(long, requires = "catalog")]
    pub capability: Vec<String>,
    /// With --catalog: print the rows as JSON, as `GET /v1/catalog` serves them.
    #[arg(long, requires = "catalog")]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Models to pull: built in (smollm2-135m-instruct, gemma-3-270m, all-minilm-l6-v2,
    /// or an alias such as smollm2), or from the Hugging Face hub into its cache
    /// (hf:OWNER/REPO/FILE.gguf, hf:OWNER/REPO for a BERT sentence encoder; HF_ENDPOINT,
    /// HF_HOME and HF_TOKEN apply).
    pub models: Vec<String>,
    /// Pull every built-in model.
    #[arg(long, conflicts_with = "models")]
    pub all: bool,
    /// Pull again even if installed.
    #[arg(long)]
    pub force: bool,
    /// Where models are stored [default: $SWITCHYARD_HOME, else the XDG data dir].
    #[arg(long, env = "SWITCHYARD_HOME")]
    pub home: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a config file and report every problem at once.
    Check(ConfigCheckArgs),
}

#[derive(Debug, Args)]
pub struct ConfigCheckArgs {
    /// The file to check.
    pub file: PathBuf,
}
