//! Sentence embeddings on candle: a BERT encoder (all-MiniLM-L6-v2) from safetensors,
//! mean-pooled over real tokens and L2-normalised, as sentence-transformers does.

use std::path::Path;

mod bert;
mod gelu;
mod static_vectors;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use switchyard_types::{ErrorKind, ProviderError};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// sentence-transformers' `max_seq_length` for MiniLM; longer inputs are truncated.
const MAX_TOKENS: usize = 256;
/// Sentences encoded in one forward pass.
const BATCH: usize = 64;

pub use bert::{BertConfig, BertEncoder};
pub use static_vectors::StaticEncoder;

/// What a local embedding deployment embeds with: the encoder itself, or static
/// vectors distilled from it.
#[derive(Clone)]
pub enum TextEncoder {
    Full(std::sync::Arc<SentenceEncoder>),
    Static(std::sync::Arc<StaticEncoder>),
}

impl TextEncoder {
    pub fn dimensions(&self) -> usize {
        match self {
            TextEncoder::Full(encoder) => encoder.dimensions(),
            TextEncoder::Static(encoder) => encoder.dimensions(),
        }
    }

    /// One unit vector per text, in order, and the number of tokens read.
    pub fn encode(&self, texts: &[String]) -> Result<(Vec<Vec<f32>>, u64), ProviderError> {
        match self {
            TextEncoder::Full(encoder) => encoder.encode(texts),
            TextEncoder::Static(encoder) => encoder.encode(texts),
        }
    }
}

pub struct SentenceEncoder {
    model: BertEncoder,
    tokenizer: Tokenizer,
    dimensions: usize,
}

fn engine_error(what: &str, error: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(ErrorKind::Internal, format!("{what}: {error}"))
}

impl SentenceEncoder {
    /// Loads `model.safetensors`, `config.json` and `tokenizer.json` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ProviderError> {
        let config: BertConfig = serde_json::from_slice(
            &std::fs::read(dir.join("config.json"))
                .map_err(|error| engine_error("cannot read config.json", error))?,
        )
        .map_err(|error| engine_error("config.json is not a BERT config", error))?;
        let weights = dir.join("model.safetensors");
        #[allow(unsafe_code)]
        // SAFETY: the weights file is memory-mapped read-only; it belongs to the model
        // store and is not modified while the server runs (a pull replaces the whole
        // directory by rename, leaving the mapped inode intact).
        let builder =
            unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, &Device::Cpu) }
                .map_err(|error| engine_error("cannot map model.safetensors", error))?;
        let model = BertEncoder::load(builder, &config)
            .map_err(|error| engine_error("cannot build the encoder", error))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|error| engine_error("cannot read tokenizer.json", error))?;
        // The file pads every input to 128 tokens; padding to the longest in the batch
        // does the same work on far fewer tokens.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|error| engine_error("cannot set truncation", error))?;
        Ok(SentenceEncoder {
            model,
            tokenizer,
            dimensions: config.hidden_size,
        })
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// One unit vector per text, in order, and the number of tokens encoded.
    pub fn encode(&self, texts: &[String]) -> Result<(Vec<Vec<f32>>, u64), ProviderError> {
        // Similar lengths share a batch, so padding stays short.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&index| texts[index].len());
        let mut vectors = vec![Vec::new(); texts.len()];
        let mut tokens = 0;
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&index| texts[index].as_str()).collect();
            let (embedded, counted) = self.encode_batch(&batch)?;
            tokens += counted;
            for (&index, vector) in chunk.iter().zip(embedded) {
                vectors[index] = vector;
            }
        }
        Ok((vectors, tokens))
    }

    fn encode_batch(&self, texts: &[&str]) -> Result<(Vec<Vec<f32>>, u64), ProviderError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|error| engine_error("cannot tokenize", error))?;
        let rows = |field: fn(&tokenizers::Encoding) -> &[u32]| {
            let data: Vec<Vec<u32>> = encodings.iter().map(|e| field(e).to_vec()).collect();
            Tensor::new(data, &Device::Cpu)
        };
        let tensor_error = |error| engine_error("tensor", error);
        let ids = rows(tokenizers::Encoding::get_ids).map_err(tensor_error)?;
        let types = rows(tokenizers::Encoding::get_type_ids).map_err(tensor_error)?;
        let mask = rows(tokenizers::Encoding::get_attention_mask).map_err(tensor_error)?;
        let tokens: u64 = encodings
            .iter()
            .map(|e| {
                e.get_attention_mask()
                    .iter()
                    .map(|&m| u64::from(m))
                    .sum::<u64>()
            })
            .sum();
        let pooled = (|| {
            let hidden = self.model.forward(&ids, &types, &mask)?;
            let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&weights)?.sum(1)?;
            let mean = summed.broadcast_div(&weights.sum(1)?)?;
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        })()
        .map_err(|error| engine_error("the encoder failed", error))?;
        Ok((pooled, tokens))
    }
}
