//! Static sentence vectors distilled from a sentence encoder, for decisions that must
//! cost microseconds (task routing) rather than a transformer pass (~10 ms for MiniLM
//! on two cores, bound by reading its weights).
//!
//! Distillation follows Model2Vec: every vocabulary token is passed through the
//! encoder alone (`[CLS] token [SEP]`) and its mean output kept; the vocabulary's mean
//! vector, which every token shares and which would make all texts look alike, is
//! removed, and each vector scaled to length 1. A text is then the normalised sum of
//! its tokens' vectors: a tokenizer pass and a few hundred additions.
//!
//! The vectors are coarser than the encoder's: on the routing benchmark
//! (`bench/routing/semantic.json`) they find the right task for 16 of 22 prompts where
//! MiniLM finds 20. Distilling MiniLM's 30,522 tokens takes ~20 s on two cores, once:
//! the vectors are saved beside the model's files.

use std::path::Path;

use candle_core::{Device, Tensor};
use switchyard_types::ProviderError;
use tokenizers::Tokenizer;

use super::{SentenceEncoder, engine_error};

/// `[CLS]` and `[SEP]` in BERT vocabularies.
const CLS: u32 = 101;
const SEP: u32 = 102;
/// Tokens distilled in one forward pass.
const BATCH: usize = 512;
/// The tensor's name in the saved file.
const TENSOR: &str = "static_vectors";

/// One unit vector per vocabulary token.
pub struct StaticEncoder {
    tokenizer: Tokenizer,
    /// `vocabulary × dimensions`, row-major.
    vectors: Vec<f32>,
    dimensions: usize,
}

impl StaticEncoder {
    /// Distills `encoder`'s vocabulary, calling `progress(done, total)` after each
    /// batch.
    pub fn distill(
        encoder: &SentenceEncoder,
        progress: &dyn Fn(usize, usize),
    ) -> Result<StaticEncoder, ProviderError> {
        let vocabulary = encoder.tokenizer.get_vocab_size(true) as u32;
        let ids: Vec<u32> = (0..vocabulary).collect();
        let mut vectors = Vec::with_capacity(ids.len() * encoder.dimensions);
        for (batch, chunk) in ids.chunks(BATCH).enumerate() {
            vectors.extend(token_vectors(encoder, chunk)?);
            progress((batch * BATCH + chunk.len()).min(ids.len()), ids.len());
        }
        Ok(StaticEncoder::from_raw(
            text_tokenizer(&encoder.tokenizer),
            vectors,
            encoder.dimensions,
        ))
    }

    /// The vectors saved at `path` by [`StaticEncoder::save`], with `encoder`'s
    /// tokenizer.
    pub fn load(encoder: &SentenceEncoder, path: &Path) -> Result<StaticEncoder, ProviderError> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)
            .map_err(|error| engine_error("cannot read the static vectors", error))?;
        let tensor = tensors
            .get(TENSOR)
            .ok_or_else(|| engine_error("the static vectors file", "has no vectors"))?;
        let (rows, dimensions) = tensor
            .dims2()
            .map_err(|error| engine_error("the static vectors", error))?;
        if rows != encoder.tokenizer.get_vocab_size(true) || dimensions != encoder.dimensions {
            return Err(engine_error(
                "the static vectors",
                format!(
                    "{rows}×{dimensions} do not match the encoder; delete the file to distill again"
                ),
            ));
        }
        let vectors = tensor
            .flatten_all()
            .and_then(|flat| flat.to_vec1::<f32>())
            .map_err(|error| engine_error("the static vectors", error))?;
        Ok(StaticEncoder {
            tokenizer: text_tokenizer(&encoder.tokenizer),
            vectors,
            dimensions,
        })
    }

    /// Writes the vectors to `path` (safetensors), through a temporary file renamed
    /// into place so a crash never leaves half a file.
    pub fn save(&self, path: &Path) -> Result<(), ProviderError> {
        let rows = self.vectors.len() / self.dimensions;
        let tensor = Tensor::from_slice(&self.vectors, (rows, self.dimensions), &Device::Cpu)
            .map_err(|error| engine_error("the static vectors", error))?;
        let partial = path.with_extension("partial");
        candle_core::safetensors::save(
            &std::collections::HashMap::from([(TENSOR, tensor)]),
            &partial,
        )
        .map_err(|error| engine_error("cannot write the static vectors", error))?;
        std::fs::rename(&partial, path)
            .map_err(|error| engine_error("cannot write the static vectors", error))
    }

    /// The vectors at `path`, or distilled from `encoder` and saved there when the
    /// file is missing or stale.
    pub fn load_or_distill(
        encoder: &SentenceEncoder,
        path: &Path,
        progress: &dyn Fn(usize, usize),
    ) -> Result<StaticEncoder, ProviderError> {
        if path.exists()
            && let Ok(loaded) = StaticEncoder::load(encoder, path)
        {
            return Ok(loaded);
        }
        let distilled = StaticEncoder::distill(encoder, progress)?;
        distilled.save(path)?;
        Ok(distilled)
    }

    fn from_raw(tokenizer: Tokenizer, mut vectors: Vec<f32>, dimensions: usize) -> StaticEncoder {
        let rows = vectors.len() / dimensions;
        let mut mean = vec![0.0f32; dimensions];
        for row in vectors.chunks_exact(dimensions) {
            for (sum, value) in mean.iter_mut().zip(row) {
                *sum += value / rows as f32;
            }
        }
        for row in vectors.chunks_exact_mut(dimensions) {
            for (value, shared) in row.iter_mut().zip(&mean) {
                *value -= shared;
            }
            normalise(row);
        }
        StaticEncoder {
            tokenizer,
            vectors,
            dimensions,
        }
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    /// One unit vector per text (zero for a text with no tokens), and the tokens read.
    pub fn encode(&self, texts: &[String]) -> Result<(Vec<Vec<f32>>, u64), ProviderError> {
        let mut tokens = 0;
        let mut embedded = Vec::with_capacity(texts.len());
        for text in texts {
            let encoding = self
                .tokenizer
                .encode(text.as_str(), false)
                .map_err(|error| engine_error("cannot tokenize", error))?;
            let mut sum = vec![0.0f32; self.dimensions];
            for &id in encoding.get_ids() {
                let start = id as usize * self.dimensions;
                if let Some(row) = self.vectors.get(start..start + self.dimensions) {
                    sum.iter_mut()
                        .zip(row)
                        .for_each(|(total, value)| *total += value);
                }
            }
            tokens += encoding.get_ids().len() as u64;
            normalise(&mut sum);
            embedded.push(sum);
        }
        Ok((embedded, tokens))
    }
}

/// The encoder's output for each of `ids` alone, mean-pooled: `ids.len() × dimensions`.
fn token_vectors(encoder: &SentenceEncoder, ids: &[u32]) -> Result<Vec<f32>, ProviderError> {
    let flat: Vec<u32> = ids.iter().flat_map(|&id| [CLS, id, SEP]).collect();
    let tensor_error = |error| engine_error("tensor", error);
    let input = Tensor::from_vec(flat, (ids.len(), 3), &Device::Cpu).map_err(tensor_error)?;
    let types = input.zeros_like().map_err(tensor_error)?;
    let mask = input.ones_like().map_err(tensor_error)?;
    encoder
        .model
        .forward(&input, &types, &mask)
        .and_then(|hidden| hidden.mean(1))
        .and_then(|pooled| pooled.flatten_all())
        .and_then(|flat| flat.to_vec1::<f32>())
        .map_err(|error| engine_error("the encoder failed", error))
}

/// The encoder's tokenizer without its padding, which would add the padding token's
/// vector to every text.
fn text_tokenizer(tokenizer: &Tokenizer) -> Tokenizer {
    let mut tokenizer = tokenizer.clone();
    tokenizer.with_padding(None);
    tokenizer
}

fn normalise(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}
