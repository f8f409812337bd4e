//! The sampler for one request, from its canonical sampling parameters.

use llama_cpp_2::context::LlamaContext;
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
    /// Makes the grammar lazy: free text until this word, the grammar from it on (the
    /// grammar's text starts with the word).
    pub grammar_trigger: Option<String>,
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
            grammar_trigger: None,
        }
    }
}

/// Picks each next token of one sequence.
pub enum TokenSampler {
    /// Greedy decoding with nothing but logit biases: the highest biased logit, read
    /// straight from the logits. llama.cpp's chain would first copy every logit into a
    /// candidate array, which on Gemma 3's 262k-token vocabulary cost ~5 % of a decode
    /// step (measured with `perf` on `examples/decode_speed`).
    Greedy { biases: Vec<(LlamaToken, f32)> },
    /// Everything else, on llama.cpp's sampler chain.
    Chain(LlamaSampler),
}

impl TokenSampler {
    /// The next token, from the logits at batch position `at`.
    pub fn sample(&mut self, context: &LlamaContext, at: i32) -> LlamaToken {
        match self {
            TokenSampler::Chain(chain) => chain.sample(context, at),
            TokenSampler::Greedy { biases } => greedy(context.get_logits_ith(at), biases),
        }
    }
}

/// The first token with the highest biased logit, as llama.cpp's greedy sampler picks it.
fn greedy(logits: &[f32], biases: &[(LlamaToken, f32)]) -> LlamaToken {
    let in_vocabulary =
        |token: LlamaToken| usize::try_from(token.0).ok().filter(|&i| i < logits.len());
    let mut biased: Vec<usize> = biases
        .iter()
        .filter_map(|&(token, _)| in_vocabulary(token))
        .collect();
    biased.sort_unstable();
    biased.dedup();
    // The best unbiased token, stepping over the biased ones in the same pass.
    let mut skip = biased.iter().peekable();
    let mut best = (0, f32::NEG_INFINITY);
    for (index, &logit) in logits.iter().enumerate() {
        if skip.next_if_eq(&&index).is_some() {
            continue;
        }
        if logit > best.1 {
            best = (index, logit);
        }
    }
    // Then each biased token, its bias added; on equal scores the lower id wins.
    for &(token, bias) in biases {
        let Some(index) = in_vocabulary(token) else {
            continue;
        };
        let score = logits[index] + bias;
        if score > best.1 || (score == best.1 && index < best.0) {
            best = (index, score);
        }
    }
    LlamaToken(best.0 as i32)
}

impl SamplingParams {
    /// The sampler for these settings: the greedy fast path where it computes the same
    /// thing, llama.cpp's chain otherwise.
    pub fn sampler(&self, model: &LlamaModel) -> Result<TokenSampler, String> {
        let penalties = self.repetition_penalty != 1.0
            || self.presence_penalty != 0.0
            || self.frequency_penalty != 0.0;
        if self.temperature <= 0.0 && self.grammar.is_none() && !penalties {
            return Ok(TokenSampler::Greedy {
                biases: self.logit_bias.clone(),
            });
        }
        self.chain(model).map(TokenSampler::Chain)
    }

    /// The chain llama.cpp runs over the logits of each step, in llama.cpp's own order:
    /// biases and penalties first, then the truncations, then temperature and the draw.
    ///
    /// A grammar comes first: it removes every token that would break it, so whatever
    /// the later stages pick is valid.
    pub fn chain(&self, model: &LlamaModel) -> Result<LlamaSampler, String> {
        let mut stages = Vec::new();
        if let Some(grammar) = &self.grammar {
            let sampler = match &self.grammar_trigger {
                Some(trigger) => LlamaSampler::grammar_lazy(model, grammar, "root", [trigger], &[]),
                None => LlamaSampler::grammar(model, grammar, "root"),
            };
            stages.push(
                sampler.map_err(|error| format!("the output grammar is not valid: {error}"))?,
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The fast path picks what llama.cpp's logit-bias + greedy chain picks: the
        /// first maximum of the biased logits.
        #[test]
        fn greedy_matches_biasing_then_taking_the_first_maximum(
            logits in proptest::collection::vec(-4i8..4, 1..64),
            biases in proptest::collection::btree_map(0i32..70, -3i8..3, 0..6),
        ) {
            let logits: Vec<f32> = logits.into_iter().map(f32::from).collect();
            let biases: Vec<(LlamaToken, f32)> =
                biases.into_iter().map(|(token, bias)| (LlamaToken(token), f32::from(bias))).collect();
            let mut biased = logits.clone();
            for &(token, bias) in &biases {
                if let Some(logit) = biased.get_mut(token.0 as usize) {
                    *logit += bias;
                }
            }
            let mut first_max = 0;
            for (index, &logit) in biased.iter().enumerate() {
                if logit > biased[first_max] {
                    first_max = index;
                }
            }
            proptest::prop_assert_eq!(greedy(&logits, &biases), LlamaToken(first_max as i32));
        }
    }

    #[test]
    fn greedy_takes_the_first_highest_logit() {
        assert_eq!(greedy(&[0.1, 3.0, -1.0, 3.0], &[]), LlamaToken(1));
        assert_eq!(greedy(&[2.0], &[]), LlamaToken(0));
    }

    #[test]
    fn greedy_applies_biases_both_ways() {
        let logits = [0.5, 3.0, 2.9, 1.0];
        // The winner banned: the next best unbiased token.
        assert_eq!(greedy(&logits, &[(LlamaToken(1), -100.0)]), LlamaToken(2));
        // Another token raised above the winner.
        assert_eq!(greedy(&logits, &[(LlamaToken(3), 5.0)]), LlamaToken(3));
        // Both at once, and a bias on a token outside the vocabulary ignored.
        let biases = [
            (LlamaToken(1), -100.0),
            (LlamaToken(0), 2.3),
            (LlamaToken(99), 50.0),
        ];
        assert_eq!(greedy(&logits, &biases), LlamaToken(2));
        // A tie between a biased token and the best unbiased one: the lower id wins.
        assert_eq!(greedy(&logits, &[(LlamaToken(0), 2.5)]), LlamaToken(0));
        assert_eq!(greedy(&logits, &[(LlamaToken(3), 2.0)]), LlamaToken(1));
        assert_eq!(
            greedy(&[1.0, 2.0, 3.0], &[(LlamaToken(0), 2.0)]),
            LlamaToken(0)
        );
    }
}
