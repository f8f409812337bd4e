//! The sampler chain for one request, from its canonical sampling parameters.

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::logit_bias::LlamaLogitBias;

/// Sampling settings, as the engine applies them.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// 0 means greedy.
    pub temperature: f32,
    pub top_p: f32,
    pub top_k: i32,
    pub min_p: f32,
    pub repetition_penalty: f32,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    /// How many recent tokens the penalties look at.
    pub penalty_window: i32,
    pub logit_bias: Vec<(LlamaToken, f32)>,
    /// Same seed, same output; `None` draws one.
    pub seed: Option<u32>,
    /// A GBNF grammar (root rule `root`) every answer must match: structured output.
    pub grammar: Option<String>,
}

impl Default for SamplingParams {
    /// OpenAI's defaults: temperature 1, no nucleus cut, no penalties.
    fn default() -> Self {
        SamplingParams {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            penalty_window: 64,
            logit_bias: Vec::new(),
            seed: None,
            grammar: None,
        }
    }
}

impl SamplingParams {
    /// The chain llama.cpp runs over the logits of each step, in llama.cpp's own order:
    /// biases and penalties first, then the truncations, then temperature and the draw.
    ///
    /// A grammar comes first: it removes every token that would break it, so whatever
    /// the later stages pick is valid.
    pub fn chain(&self, model: &LlamaModel) -> Result<LlamaSampler, String> {
        let mut stages = Vec::new();
        if let Some(grammar) = &self.grammar {
            stages.push(
                LlamaSampler::grammar(model, grammar, "root")
                    .map_err(|error| format!("the output grammar is not valid: {error}"))?,
            );
        }
        if !self.logit_bias.is_empty() {
            let biases: Vec<LlamaLogitBias> = self
                .logit_bias
                .iter()
                .map(|&(token, bias)| LlamaLogitBias::new(token, bias))
                .collect();
            stages.push(LlamaSampler::logit_bias(model.n_vocab(), &biases));
        }
        if self.repetition_penalty != 1.0
            || self.presence_penalty != 0.0
            || self.frequency_penalty != 0.0
        {
            stages.push(LlamaSampler::penalties(
                model.n_vocab(),
                self.penalty_window,
                self.repetition_penalty,
                self.frequency_penalty,
                self.presence_penalty,
            ));
        }
        if self.temperature <= 0.0 {
            stages.push(LlamaSampler::greedy());
            return Ok(LlamaSampler::chain_simple(stages));
        }
        if self.top_k > 0 {
            stages.push(LlamaSampler::top_k(self.top_k));
        }
        if self.top_p < 1.0 {
            stages.push(LlamaSampler::top_p(self.top_p, 1));
        }
        if self.min_p > 0.0 {
            stages.push(LlamaSampler::min_p(self.min_p, 1));
        }
        stages.push(LlamaSampler::temp(self.temperature));
        stages.push(LlamaSampler::dist(self.seed.unwrap_or_else(rand_seed)));
        Ok(LlamaSampler::chain_simple(stages))
    }
}

/// A seed for callers who gave none: different per request, no global RNG needed.
fn rand_seed() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos()),
    );
    hasher.finish() as u32
}
