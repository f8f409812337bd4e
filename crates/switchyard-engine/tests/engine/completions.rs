//! Text completions on the base model: raw prompts, OpenAI's defaults, prompts scored
//! for `echo` with `logprobs`, several prompts at once, token-id prompts.

use switchyard_engine::LocalTextProvider;
use switchyard_engine::llama::{GeneratorLimits, TextModelOptions};
use switchyard_types::{
    CallContext, ChatRequest, ErrorKind, FinishReason, Prompt, Provider, Sampling, TextCompletion,
};

use crate::{answer, greedy, load, text_of};

/// A text completion of `prompts`, greedy.
fn complete(prompts: Prompt, echo: bool, sampling: Sampling) -> ChatRequest {
    ChatRequest {
        completion: Some(TextCompletion {
            prompt: prompts,
            echo,
        }),
        sampling,
        ..ChatRequest::default()
    }
}

fn texts(texts: &[&str]) -> Prompt {
    Prompt::Texts(texts.iter().map(|text| text.to_string()).collect())
}

#[tokio::test]
async fn a_base_model_continues_a_raw_prompt_without_a_template() {
    let provider = load("gemma-3-270m", None);
    let prompt = "The capital of France is";
    let request = complete(texts(&[prompt]), false, greedy(8));
    let counted = provider
        .count_tokens(request.clone(), &CallContext::default())
        .await
        .expect("a count");
    assert_eq!(counted as usize, provider.model().tokenize(prompt).len());
    let response = provider
        .chat(request, &CallContext::default())
        .await
        .expect("an answer");
    let text = text_of(&response.choices[0].message);
    assert!(!text.is_empty() && !text.starts_with(prompt), "{text:?}");
    let usage = response.usage.expect("usage");
    assert_eq!(usage.input_tokens, counted);
    assert!(usage.output_tokens <= 8);
}

#[tokio::test]
async fn without_max_tokens_a_completion_stops_at_sixteen_tokens_as_openai_does() {
    let provider = load("gemma-3-270m", None);
    let sampling = Sampling {
        temperature: Some(0.0),
        ..Sampling::default()
    };
    // Counting goes on well past sixteen tokens.
    let request = complete(texts(&["1, 2, 3, 4, 5, 6,"]), false, sampling);
    let (text, finish, generated) = answer(&provider, request).await;
    assert_eq!((finish, generated), (FinishReason::Length, 16), "{text:?}");
}

#[tokio::test]
async fn echo_with_logprobs_and_no_tokens_scores_the_prompt() {
    let provider = load("gemma-3-270m", None);
    let prompt = "The capital of France is";
    // The model's own next token, and how likely it found it.
    let mut probe = complete(texts(&[prompt]), false, greedy(1));
    probe.sampling.logprobs = Some(true);
    probe.sampling.top_logprobs = Some(1);
    let probe = provider
        .chat(probe, &CallContext::default())
        .await
        .expect("an answer");
    let next = probe.choices[0].logprobs.as_ref().expect("logprobs")[0].clone();

    let scored_text = format!("{prompt}{}", next.token);
    let mut request = complete(texts(&[&scored_text]), true, greedy(0));
    request.sampling.logprobs = Some(true);
    request.sampling.top_logprobs = Some(2);
    let response = provider
        .chat(request, &CallContext::default())
        .await
        .expect("an answer");
    let choice = &response.choices[0];
    assert_eq!(text_of(&choice.message), scored_text);
    assert_eq!(choice.finish_reason, Some(FinishReason::Length));
    let usage = response.usage.expect("usage");
    assert_eq!(usage.output_tokens, 0);
    let scores = choice.logprobs.as_ref().expect("prompt logprobs");
    assert_eq!(scores.len() as u64, usage.input_tokens);
    assert_eq!(scores[0].logprob, None, "nothing predicts the first token");
    let joined: String = scores.iter().map(|token| token.token.as_str()).collect();
    assert_eq!(joined, scored_text);
    for token in &scores[1..] {
        assert!(token.logprob.is_some_and(|logprob| logprob <= 0.0));
        assert_eq!(token.top_logprobs.len(), 2);
    }
    // Scoring the prompt computes what generating after it computed.
    let last = scores.last().expect("a token");
    assert_eq!(last.token, next.token);
    let (scored, generated) = (
        last.logprob.expect("scored"),
        next.logprob.expect("generated"),
    );
    assert!((scored - generated).abs() < 1e-3, "{scored} vs {generated}");
}

#[tokio::test]
async fn a_prompt_scored_over_several_batches_scores_the_same() {
    let whole = load("gemma-3-270m", None);
    let chunked = load(
        "gemma-3-270m",
        Some(GeneratorLimits {
            // Two batches for the prompt below; llama.cpp wants room in a batch for
            // one output per sequence.
            batch_tokens: 8,
            max_sequences: 2,
            ..TextModelOptions::default().limits
        }),
    );
    let prompt = "Rust is a systems programming language focused on safety and speed.";
    let scores = |provider: LocalTextProvider| async move {
        let mut request = complete(texts(&[prompt]), true, greedy(0));
        request.sampling.logprobs = Some(true);
        let response = provider
            .chat(request, &CallContext::default())
            .await
            .expect("an answer");
        response.choices[0].logprobs.clone().expect("logprobs")
    };
    let (whole, chunked) = (scores(whole).await, scores(chunked).await);
    assert_eq!(whole.len(), chunked.len());
    for (a, b) in whole.iter().zip(&chunked) {
        assert_eq!(a.token, b.token);
        let (a, b) = (a.logprob.unwrap_or(0.0), b.logprob.unwrap_or(0.0));
        // llama.cpp's kernels differ with the batch size, and so do the sums, by up to
        // a few tenths of a nat on unlikely tokens (measured: 0.19 at most); a score
        // read at a neighbouring position is off by several nats.
        assert!((a - b).abs() < 0.5, "{a} vs {b}");
    }
}

#[tokio::test]
async fn each_prompt_gets_n_answers_numbered_prompt_by_prompt() {
    let provider = load("gemma-3-270m", None);
    let sampling = Sampling {
        temperature: Some(0.0),
        max_tokens: Some(4),
        n: Some(2),
        ..Sampling::default()
    };
    let prompts = ["One, two, three,", "Monday, Tuesday,"];
    let request = complete(texts(&prompts), true, sampling);
    let response = provider
        .chat(request, &CallContext::default())
        .await
        .expect("an answer");
    assert_eq!(response.choices.len(), 4);
    for (position, choice) in response.choices.iter().enumerate() {
        assert_eq!(choice.index as usize, position);
        let text = text_of(&choice.message);
        assert!(
            text.starts_with(prompts[position / 2]),
            "{position}: {text:?}"
        );
    }
    let prompt_tokens: usize = prompts
        .iter()
        .map(|prompt| provider.model().tokenize(prompt).len())
        .sum();
    assert_eq!(
        response.usage.expect("usage").input_tokens,
        prompt_tokens as u64
    );
}

#[tokio::test]
async fn a_token_prompt_answers_as_its_text_does_and_foreign_ids_are_refused() {
    let provider = load("gemma-3-270m", None);
    let prompt = "Water boils at";
    let ids = provider
        .model()
        .tokenize(prompt)
        .into_iter()
        .map(|token| token.0 as u32)
        .collect::<Vec<_>>();
    let by_text = answer(&provider, complete(texts(&[prompt]), true, greedy(6))).await;
    let by_ids = answer(
        &provider,
        complete(Prompt::Tokens(vec![ids]), true, greedy(6)),
    )
    .await;
    assert_eq!(by_text.0, by_ids.0);

    let foreign = complete(Prompt::Tokens(vec![vec![1, u32::MAX]]), false, greedy(1));
    let error = provider
        .chat(foreign, &CallContext::default())
        .await
        .expect_err("not this model's token");
    assert_eq!(error.kind, ErrorKind::InvalidRequest);
    assert_eq!(error.param.as_deref(), Some("prompt[0]"));
}

#[tokio::test]
async fn fill_in_the_middle_is_refused_by_name() {
    let provider = load("gemma-3-270m", None);
    let mut request = complete(texts(&["def add(a, b):"]), false, greedy(4));
    request
        .extra
        .insert("suffix".into(), serde_json::json!("return c"));
    let error = provider
        .chat(request, &CallContext::default())
        .await
        .expect_err("no suffix");
    assert_eq!(error.param.as_deref(), Some("suffix"));
}
