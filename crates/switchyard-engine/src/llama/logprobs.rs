//! Log-probabilities from raw logits, as OpenAI reports them: of the model's own
//! distribution, before any sampling transformation.

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use switchyard_types::{TokenLogprob, TopLogprob};

/// A token nothing before it predicts: an echoed prompt's first.
pub fn unscored(model: &LlamaModel, token: LlamaToken) -> TokenLogprob {
    let (text, bytes) = piece(model, token);
    TokenLogprob {
        token: text,
        logprob: None,
        bytes: Some(bytes),
        top_logprobs: Vec::new(),
    }
}

/// A token's text as the model writes it, and its bytes (a piece may end inside a
/// character, so the text alone can lose them).
fn piece(model: &LlamaModel, token: LlamaToken) -> (String, Vec<u8>) {
    let bytes = model.vocab().token_to_piece(token, false, None);
    (String::from_utf8_lossy(&bytes).into_owned(), bytes)
}

/// The logprob of `token` and the `top` most likely tokens at this step.
pub fn token_logprob(
    model: &LlamaModel,
    logits: &[f32],
    token: LlamaToken,
    top: u32,
) -> TokenLogprob {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let log_sum = logits
        .iter()
        .map(|&logit| (logit - max).exp())
        .sum::<f32>()
        .ln()
        + max;
    let logprob_of = |index: usize| f64::from(logits[index] - log_sum);
    let mut best: Vec<usize> = (0..logits.len()).collect();
    let top = (top as usize).min(best.len());
    if top > 0 {
        best.select_nth_unstable_by(top - 1, |&a, &b| logits[b].total_cmp(&logits[a]));
        best.truncate(top);
        best.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    } else {
        best.clear();
    }
    let piece = |token: LlamaToken| piece(model, token);
    let (text, bytes) = piece(token);
    TokenLogprob {
        token: text,
        logprob: Some(logprob_of(token.0 as usize)),
        bytes: Some(bytes),
        top_logprobs: best
            .into_iter()
            .map(|index| {
                let (text, bytes) = piece(LlamaToken(index as i32));
                TopLogprob {
                    token: text,
                    logprob: logprob_of(index),
                    bytes: Some(bytes),
                }
            })
            .collect(),
    }
}
