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
    /// Manage a running server's virtual keys (its admin API; needs a master key).
    Keys(KeysArgs),
    /// Report a running server's cost ledger: requests, tokens and dollars, grouped.
    Usage(UsageArgs),
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
    /// Serve without master keys on an address other computers can reach: anyone who
    /// reaches it spends your vendor keys. Same as `server.allow_unauthenticated`.
    #[arg(long)]
    pub insecure_open: bool,
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

/// Where a running server's admin API is, and the key to it.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// The running server.
    #[arg(
        long,
        env = "SWITCHYARD_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// One of the server's master keys (`server.master_keys`); better given as
    /// SWITCHYARD_MASTER_KEY, which no process list shows.
    #[arg(
        long,
        env = "SWITCHYARD_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    pub master_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key. Its secret is printed this once: the server keeps only a hash.
    Create(KeyCreateArgs),
    /// List keys, oldest first.
    List(KeyListArgs),
    /// Show a key, with what each of its budgets has spent.
    Show(KeyIdArgs),
    /// Revoke a key at once.
    Revoke(KeyIdArgs),
    /// Replace a key's secret: a new key with the same settings; the old one stops
    /// working (after --grace).
    Rotate(KeyRotateArgs),
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// The organisation (tenant) the key belongs to; created if new.
    #[arg(long, visible_alias = "org")]
    pub tenant: String,
    /// The team within the organisation; created if new.
    #[arg(long)]
    pub team: Option<String>,
    /// A name to recognise the key by.
    #[arg(long)]
    pub name: Option<String>,
    /// A budget in US dollars per day, week, month or in total, like `50usd/month`;
    /// repeat for several.
    #[arg(long = "budget")]
    pub budgets: Vec<String>,
    /// Requests per minute.
    #[arg(long)]
    pub rpm: Option<u64>,
    /// Tokens per minute (prompt and output).
    #[arg(long)]
    pub tpm: Option<u64>,
    /// Requests in flight at once.
    #[arg(long)]
    pub max_parallel: Option<u64>,
    /// The public models the key may call, comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// A routing-policy rule under every request of the key, `RULE=VALUE[,VALUE…]`, like
    /// `jurisdictions=EU`, `hosted_in=FR,DE`, `max_input_price=5`; repeat for several.
    #[arg(long = "policy", value_name = "RULE=VALUE")]
    pub policy: Vec<String>,
    /// The key stops working after this long, like `30d` or `12h`.
    #[arg(long)]
    pub expires_in: Option<humantime::Duration>,
    /// Metadata to keep with the key, `NAME=VALUE`; repeat for several.
    #[arg(long = "metadata", value_name = "NAME=VALUE")]
    pub metadata: Vec<String>,
    /// Print the server's JSON instead.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KeyListArgs {
    /// Only this organisation's keys.
    #[arg(long, visible_alias = "org")]
    pub tenant: Option<String>,
    /// Only this team's keys.
    #[arg(long)]
    pub team: Option<String>,
    /// Revoked keys too.
    #[arg(long)]
    pub revoked: bool,
    /// Print the server's JSON instead.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KeyIdArgs {
    /// The key's id (`key_…`).
    pub id: String,
    /// Print the server's JSON instead.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KeyRotateArgs {
    /// The key's id (`key_…`).
    pub id: String,
    /// How long the old secret keeps working, like `1h` [default: it stops at once].
    #[arg(long)]
    pub grace: Option<humantime::Duration>,
    /// Print the server's JSON instead.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UsageGroup {
    Key,
    Team,
    Org,
    Model,
    Deployment,
    Provider,
    Day,
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// What to total by [default: nothing: one line for everything].
    #[arg(long, value_enum)]
    pub group_by: Option<UsageGroup>,
    /// From this time: RFC 3339 (`2026-11-01T00:00:00Z`), a date (`2026-11-01`) or Unix
    /// milliseconds.
    #[arg(long)]
    pub from: Option<String>,
    /// Up to (not including) this time, in the same forms.
    #[arg(long)]
    pub to: Option<String>,
    /// Only this organisation.
    #[arg(long, visible_alias = "org")]
    pub tenant: Option<String>,
    /// Only this key.
    #[arg(long)]
    pub key: Option<String>,
    /// Print CSV, as `GET /admin/usage?format=csv` gives it.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Print the server's JSON instead.
    #[arg(long)]
    pub json: bool,
}
