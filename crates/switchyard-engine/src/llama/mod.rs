//! Text generation on llama.cpp (through `llama-cpp-2`): a loaded GGUF model, its chat
//! template, and the actor thread that generates for every request at once.

mod generator;
mod logprobs;
mod sampling;
pub mod template;
mod text;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;
use switchyard_types::{ChatRequest, ErrorKind, ProviderError};

pub use generator::{GenEvent, Generator, GeneratorLimits, GeneratorStats, Job};
pub use sampling::SamplingParams;
pub use template::ChatTemplate;

use crate::catalog::ModelKind;

/// llama.cpp's process-wide backend, started on first use. Its log output goes to
/// `tracing` at debug level rather than to stderr.
pub fn backend() -> Result<&'static LlamaBackend, ProviderError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|error| {
            ProviderError::new(
                ErrorKind::Internal,
                format!("cannot start llama.cpp: {error}"),
            )
        })
}

/// A generation model, loaded and ready.
pub struct TextModel {
    name: String,
    kind: ModelKind,
    model: Arc<LlamaModel>,
    template: ChatTemplate,
    bos_text: String,
    generator: Generator,
    architecture: String,
}

/// How a model is run.
#[derive(Debug, Clone, Copy)]
pub struct TextModelOptions {
    pub limits: GeneratorLimits,
}

impl Default for TextModelOptions {
    fn default() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
        TextModelOptions {
            limits: GeneratorLimits {
                context_tokens: 4096,
                max_sequences: 8,
                queue_limit: 64,
                batch_tokens: 512,
                threads,
                // Measured on SmolLM2 F16, 2 threads: auto (on for CPU) prompt-processes
                // ~1.3x faster than disabled.
                flash_attention: llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
            },
        }
    }
}

impl TextModel {
    /// Loads a GGUF file and starts its generator.
    pub fn load(
        name: &str,
        kind: ModelKind,
        path: &Path,
        options: TextModelOptions,
    ) -> Result<Self, ProviderError> {
        let backend = backend()?;
        let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
            .map_err(|error| {
                ProviderError::new(
                    ErrorKind::Internal,
                    format!("cannot load {}: {error}", path.display()),
                )
            })?;
        let architecture = model
            .meta_val_str("general.architecture")
            .unwrap_or_default();
        let vocab = model.vocab();
        let special = |token: LlamaToken| {
            String::from_utf8_lossy(&vocab.token_to_piece(token, true, None)).into_owned()
        };
        let (bos_text, eos_text) = (special(vocab.bos()), special(vocab.eos()));
        let template_source = match model.chat_template(None) {
            Ok(template) => template.to_string().map_err(|_| {
                ProviderError::new(ErrorKind::Internal, "chat template is not UTF-8")
            })?,
            // Gemma base models ship without a template; they get Google's turn format.
            Err(_) if architecture.starts_with("gemma") => template::GEMMA_TURNS.to_owned(),
            Err(_) => template::PLAIN_TURNS.to_owned(),
        };
        let template = ChatTemplate::new(&template_source, &bos_text, &eos_text)
            .map_err(|error| ProviderError::new(ErrorKind::Internal, error.to_string()))?;
        // Turn-end markers that are not the GGUF's end-of-generation token (Gemma's
        // `<end_of_turn>`) must stop generation too.
        let extra_stop_tokens = ["<end_of_turn>", "<|im_end|>", "<|eot_id|>"]
            .iter()
            .filter_map(
                |marker| match vocab.tokenize(marker.as_bytes(), false, true).as_slice() {
                    [token] if !vocab.is_eog(*token) => Some(*token),
                    _ => None,
                },
            )
            .collect();
        let model = Arc::new(model);
        let generator = Generator::start(name, model.clone(), extra_stop_tokens, options.limits)?;
        Ok(TextModel {
            name: name.to_owned(),
            kind,
            model,
            template,
            bos_text,
            generator,
            architecture,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> ModelKind {
        self.kind
    }

    pub fn architecture(&self) -> &str {
        &self.architecture
    }

    /// The longest a sequence may be, prompt and answer together.
    pub fn context_limit(&self) -> usize {
        self.generator.sequence_limit()
    }

    pub fn generator(&self) -> &Generator {
        &self.generator
    }

    pub fn model(&self) -> &LlamaModel {
        &self.model
    }

    /// The prompt tokens for a chat request: its conversation rendered by the chat
    /// template, then tokenized with special tokens parsed.
    pub fn chat_prompt(&self, request: &ChatRequest) -> Result<Vec<LlamaToken>, ProviderError> {
        let text = self
            .template
            .render(request)
            .map_err(|error| ProviderError::new(ErrorKind::InvalidRequest, error.to_string()))?;
        Ok(self.tokenize(&text))
    }

    /// The text of `tokens`, as the model writes them.
    pub fn detokenize(&self, tokens: &[LlamaToken]) -> String {
        let vocab = self.model.vocab();
        let bytes: Vec<u8> = tokens
            .iter()
            .flat_map(|&token| vocab.token_to_piece(token, false, None))
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Tokens of `text`, with the BOS token prepended when the model wants one and the
    /// text does not already start with it (templates often write it themselves).
    pub fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        let add_bos = vocab.should_add_bos()
            && !(self.bos_text.is_empty() || text.starts_with(&self.bos_text));
        vocab.tokenize(text.as_bytes(), add_bos, true)
    }
}
