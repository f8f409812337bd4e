//! The engine as a [`Provider`]: routing, metering and every ingress dialect treat a
//! local model exactly like a hosted one.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use llama_cpp_2::token::LlamaToken;
use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, Choice, ContentBlock, DeploymentId,
    DeploymentInfo, ErrorKind, EventStream, FinishReason, Message, Prompt, Provider, ProviderError,
    Role, StreamEvent, UpstreamModel, Usage,
};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::llama::{GenEvent, Job, SamplingParams, TextModel};
use crate::structured::{
    CallSplitter, OutputShape, TOOL_CALL_OPEN, output_shape, parse_tagged_calls, parse_tool_call,
    tool_instructions,
};

/// The provider name local models report (`x-switchyard-provider`, metrics).
pub const PROVIDER_NAME: &str = "local";

/// A loaded generation model, served as a deployment.
pub struct LocalTextProvider {
    info: DeploymentInfo,
    model: Arc<TextModel>,
}

impl std::fmt::Debug for LocalTextProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTextProvider")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl LocalTextProvider {
    pub fn new(deployment: &str, model: Arc<TextModel>) -> Self {
        let info = Self::info_for(deployment, model.name());
        LocalTextProvider { info, model }
    }

    /// What a local text deployment is and can do, before or after its model is loaded.
    pub fn info_for(deployment: &str, model: &str) -> DeploymentInfo {
        DeploymentInfo {
            id: DeploymentId::new(deployment),
            provider: Arc::from(PROVIDER_NAME),
            upstream_model: Arc::from(model),
            capabilities: Capabilities {
                chat: true,
                streaming: true,
                tools: true,
                vision: false,
                json_schema: true,
                embeddings: false,
                completions: true,
            },
        }
    }

    pub fn model(&self) -> &TextModel {
        &self.model
    }

    /// The request's output shape and its prompt tokens, tool instructions included.
    fn prompt(
        &self,
        request: &ChatRequest,
    ) -> Result<(OutputShape, Vec<LlamaToken>), ProviderError> {
        check_supported(request)?;
        let shape = output_shape(request)?;
        let prompt = match &shape {
            OutputShape::ToolCall { .. } => self.model.chat_prompt(&with_system_note(
                request,
                &tool_instructions(&request.tools),
            ))?,
            OutputShape::TextOrToolCalls { instructions, .. } => self
                .model
                .chat_prompt(&with_system_note(request, instructions))?,
            _ => self.model.chat_prompt(request)?,
        };
        Ok((shape, prompt))
    }

    /// What `request` asks the engine to run: a chat rendered by the template, or a
    /// text completion's prompts as written.
    fn plan(&self, request: &ChatRequest) -> Result<Plan, ProviderError> {
        let Some(completion) = &request.completion else {
            let (shape, prompt) = self.prompt(request)?;
            return Ok(Plan {
                shape,
                prompts: vec![prompt],
                echoes: None,
                default_max_tokens: None,
            });
        };
        check_completion_supported(request)?;
        let prompts: Vec<Vec<LlamaToken>> = match &completion.prompt {
            Prompt::Texts(texts) => texts.iter().map(|text| self.model.tokenize(text)).collect(),
            Prompt::Tokens(lists) => lists
                .iter()
                .enumerate()
                .map(|(index, ids)| self.token_prompt(ids, index))
                .collect::<Result<_, _>>()?,
        };
        if let Some(index) = prompts.iter().position(Vec::is_empty) {
            return Err(ProviderError::new(
                ErrorKind::InvalidRequest,
                "a prompt must have at least one token",
            )
            .with_param(Some(format!("prompt[{index}]"))));
        }
        let echoes = completion.echo.then(|| match &completion.prompt {
            Prompt::Texts(texts) => texts.clone(),
            Prompt::Tokens(_) => prompts
                .iter()
                .map(|prompt| self.model.detokenize(prompt))
                .collect(),
        });
        Ok(Plan {
            shape: output_shape(request)?,
            prompts,
            echoes,
            default_max_tokens: Some(COMPLETION_MAX_TOKENS),
        })
    }

    /// A prompt given as token ids, which must be this model's.
    fn token_prompt(&self, ids: &[u32], index: usize) -> Result<Vec<LlamaToken>, ProviderError> {
        let vocabulary = self.model.model().n_vocab();
        ids.iter()
            .map(|&id| {
                i32::try_from(id)
                    .ok()
                    .filter(|id| *id < vocabulary)
                    .map(LlamaToken)
                    .ok_or_else(|| {
                        ProviderError::new(
                            ErrorKind::InvalidRequest,
                            format!(
                                "token id {id} is not in this model's vocabulary of {vocabulary}"
                            ),
                        )
                        .with_param(Some(format!("prompt[{index}]")))
                    })
            })
            .collect()
    }

    /// Turns a request into one job per answer (`n` per prompt); each job reports on
    /// its own channel.
    fn start(&self, request: &ChatRequest) -> Result<Started, ProviderError> {
        let plan = self.plan(request)?;
        let limit = self.model.context_limit();
        let field = if request.completion.is_some() {
            "prompt"
        } else {
            "messages"
        };
        if let Some(longest) = plan.prompts.iter().map(Vec::len).max()
            && longest >= limit
        {
            return Err(ProviderError::new(
                ErrorKind::ContextLengthExceeded,
                format!(
                    "this model's context is {limit} tokens, but the {field} take {longest} tokens"
                ),
            )
            .with_param(Some(field.to_owned()))
            .with_code(Some("context_length_exceeded".to_owned())));
        }
        let stop: Vec<String> = request
            .sampling
            .stop
            .as_ref()
            .map(|stop| stop.as_slice().to_vec())
            .unwrap_or_default();
        let logprobs = request
            .sampling
            .logprobs
            .unwrap_or(false)
            .then(|| request.sampling.top_logprobs.unwrap_or(0));
        let prompt_logprobs = logprobs.filter(|_| plan.echoes.is_some());
        let mut sampling = sampling_params(request, &self.model)?;
        sampling.grammar = match plan.shape {
            OutputShape::Text => None,
            OutputShape::Json { ref grammar }
            | OutputShape::ToolCall { ref grammar }
            | OutputShape::TextOrToolCalls { ref grammar, .. } => Some(grammar.clone()),
        };
        if matches!(plan.shape, OutputShape::TextOrToolCalls { .. }) {
            sampling.grammar_trigger = Some(TOOL_CALL_OPEN.to_owned());
        }
        let per_prompt = request.sampling.n.unwrap_or(1).max(1);
        // Checked before anything is sized from the caller's numbers: the ingress
        // bounds `n` and prompts × `n`, and this engine cannot hold more answers at once
        // than it has sequences and queue places.
        let capacity = self.model.generator().capacity();
        let answers = (plan.prompts.len() as u64).saturating_mul(u64::from(per_prompt));
        if answers > capacity as u64 {
            return Err(ProviderError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "this request asks for {answers} answers (prompts × n); the local model runs at most {capacity} at once"
                ),
            )
            .with_param(Some("n".to_owned())));
        }
        let mut receivers = Vec::with_capacity(answers as usize);
        let mut echoes = Vec::new();
        for (index, prompt) in plan.prompts.iter().enumerate() {
            let room = (limit - prompt.len()) as u32;
            let max_tokens = request
                .sampling
                .max_tokens
                .or(plan.default_max_tokens)
                .unwrap_or(room)
                .min(room);
            for _ in 0..per_prompt {
                let choice = receivers.len() as u32;
                let (events, receiver) = unbounded_channel();
                let mut sampling = sampling.clone();
                // Alternatives from one seeded request must differ from each other and
                // still be reproducible.
                sampling.seed = sampling.seed.map(|seed| seed.wrapping_add(choice));
                let sampler = sampling
                    .sampler(self.model.model())
                    .map_err(|message| ProviderError::new(ErrorKind::InvalidRequest, message))?;
                self.model.generator().submit(Job {
                    prompt: prompt.clone(),
                    sampler,
                    max_tokens,
                    stop: stop.clone(),
                    logprobs,
                    prompt_logprobs,
                    isolated: request.sampling.seed.is_some(),
                    events,
                })?;
                receivers.push(receiver);
                if let Some(texts) = &plan.echoes {
                    echoes.push(texts[index].clone());
                }
            }
        }
        Ok(Started {
            receivers,
            prompt_tokens: plan.prompts.iter().map(Vec::len).sum::<usize>() as u32,
            answer: match plan.shape {
                OutputShape::ToolCall { .. } => AnswerForm::ToolCall,
                OutputShape::TextOrToolCalls { .. } => AnswerForm::TextOrToolCalls,
                OutputShape::Text | OutputShape::Json { .. } => AnswerForm::Text,
            },
            echoes,
        })
    }
}

/// OpenAI's output limit for a text completion that sets none.
const COMPLETION_MAX_TOKENS: u32 = 16;

/// What one request runs: its prompts and how answers are shaped.
struct Plan {
    shape: OutputShape,
    prompts: Vec<Vec<LlamaToken>>,
    /// With `echo`: each prompt's text, which starts its answers.
    echoes: Option<Vec<String>>,
    /// The output limit when the request sets none; `None`: the rest of the context.
    default_max_tokens: Option<u32>,
}

/// The jobs of one request, under way.
struct Started {
    receivers: Vec<UnboundedReceiver<GenEvent>>,
    prompt_tokens: u32,
    answer: AnswerForm,
    /// Per choice, the prompt text its answer starts with (empty without `echo`).
    echoes: Vec<String>,
}

/// How the generated text becomes the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnswerForm {
    /// Text, streamed as it comes.
    Text,
    /// One constrained call, reported when complete.
    ToolCall,
    /// Text streamed up to the first `<tool_call>` tag; the tagged calls after it are
    /// reported when complete.
    TextOrToolCalls,
}

/// The request with `note` added to its system prompt (or as one, if it has none).
fn with_system_note(request: &ChatRequest, note: &str) -> ChatRequest {
    let mut noted = request.clone();
    match noted.messages.first_mut() {
        Some(first) if matches!(first.role, Role::System | Role::Developer) => {
            first
                .content
                .push(ContentBlock::text(format!("\n\n{note}")));
        }
        _ => noted
            .messages
            .insert(0, Message::text(Role::System, note.to_owned())),
    }
    noted
}

/// A text completion's options the engine cannot honour, refused by name.
fn check_completion_supported(request: &ChatRequest) -> Result<(), ProviderError> {
    let refuse = |param: &str, what: &str| {
        Err(ProviderError::new(
            ErrorKind::InvalidRequest,
            format!("the local model does not support {what}"),
        )
        .with_param(Some(param.to_owned())))
    };
    if request
        .extra
        .get("suffix")
        .is_some_and(|suffix| !suffix.is_null())
    {
        return refuse("suffix", "filling in the middle (`suffix`)");
    }
    let best_of = request
        .extra
        .get("best_of")
        .and_then(|value| value.as_u64());
    if best_of.is_some_and(|best_of| best_of != u64::from(request.sampling.n.unwrap_or(1))) {
        return refuse("best_of", "ranking candidates (`best_of` other than `n`)");
    }
    if !request.tools.is_empty() {
        return refuse(
            "tools",
            "tools in a text completion: send chat messages instead",
        );
    }
    Ok(())
}

/// What the engine cannot do yet is refused by name, not silently ignored.
fn check_supported(request: &ChatRequest) -> Result<(), ProviderError> {
    for message in &request.messages {
        for block in &message.content {
            let unsupported = match block {
                ContentBlock::Image { .. } => Some("image input"),
                ContentBlock::Opaque { .. } => Some("content parts of this type"),
                _ => None,
            };
            if let Some(what) = unsupported {
                return Err(ProviderError::new(
                    ErrorKind::InvalidRequest,
                    format!("the local model does not accept {what}"),
                ));
            }
        }
    }
    Ok(())
}

fn sampling_params(
    request: &ChatRequest,
    model: &TextModel,
) -> Result<SamplingParams, ProviderError> {
    let sampling = &request.sampling;
    let extra_f32 = |key: &str| {
        request
            .extra
            .get(key)
            .and_then(|value| value.as_f64())
            .map(|v| v as f32)
    };
    let mut params = SamplingParams {
        temperature: sampling.temperature.map_or(1.0, |t| t as f32),
        top_p: sampling.top_p.map_or(1.0, |p| p as f32),
        top_k: request
            .extra
            .get("top_k")
            .and_then(|value| value.as_i64())
            .unwrap_or(0) as i32,
        min_p: extra_f32("min_p").unwrap_or(0.0),
        repetition_penalty: extra_f32("repetition_penalty").unwrap_or(1.0),
        presence_penalty: sampling.presence_penalty.unwrap_or(0.0) as f32,
        frequency_penalty: sampling.frequency_penalty.unwrap_or(0.0) as f32,
        seed: sampling.seed.map(|seed| seed as u32),
        ..SamplingParams::default()
    };
    if let Some(biases) = request
        .extra
        .get("logit_bias")
        .and_then(|value| value.as_object())
    {
        let vocabulary = model.model().n_vocab();
        for (token, bias) in biases {
            let id = token
                .parse::<i32>()
                .ok()
                .filter(|id| (0..vocabulary).contains(id));
            let (Some(id), Some(bias)) = (id, bias.as_f64()) else {
                return Err(ProviderError::new(
                    ErrorKind::InvalidRequest,
                    format!(
                        "logit_bias: `{token}` is not a token id of this model with a numeric bias"
                    ),
                )
                .with_param(Some("logit_bias".to_owned())));
            };
            params.logit_bias.push((LlamaToken(id), bias as f32));
        }
    }
    Ok(params)
}

fn completion_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("chatcmpl-local-{nanos:x}")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Merges the choices' event channels into frames: `Start`, then text and logprobs as
/// they come, a `Finish` per choice, and `Usage` once every choice is done. A tool-call
/// answer is held until complete and sent as one call.
fn frames(started: Started, model: String) -> EventStream {
    let Started {
        receivers,
        prompt_tokens,
        answer,
        echoes,
    } = started;
    let mut start = vec![StreamEvent::Start {
        id: completion_id(),
        model,
        created: unix_now(),
        extra: Default::default(),
    }];
    for (choice, text) in echoes.into_iter().enumerate() {
        start.push(StreamEvent::TextDelta {
            choice: choice as u32,
            text,
        });
    }
    let choices = receivers.len();
    let tagged = receivers.into_iter().enumerate().map(|(choice, receiver)| {
        tokio_stream::wrappers::UnboundedReceiverStream::new(receiver)
            .map(move |event| (choice as u32, event))
    });
    let merged = futures::stream::select_all(tagged);
    let mut remaining = choices;
    let mut completion_tokens = 0u64;
    let mut held: Vec<String> = vec![String::new(); choices];
    let mut splitters: Vec<CallSplitter> = (0..choices).map(|_| CallSplitter::default()).collect();
    let body = merged
        .filter_map(move |(choice, event)| {
            let frame = match event {
                GenEvent::PromptLogprobs(tokens) => {
                    Some(Ok(vec![StreamEvent::Logprobs { choice, tokens }]))
                }
                GenEvent::Text { text, .. } if answer == AnswerForm::ToolCall => {
                    held[choice as usize].push_str(&text);
                    None
                }
                GenEvent::Text { text, logprob } => {
                    let text = match answer {
                        AnswerForm::TextOrToolCalls => splitters[choice as usize].push(&text),
                        _ => text,
                    };
                    let mut frame = Vec::new();
                    if !text.is_empty() {
                        frame.push(StreamEvent::TextDelta { choice, text });
                    }
                    if let Some(logprob) = logprob {
                        frame.push(StreamEvent::Logprobs {
                            choice,
                            tokens: vec![logprob],
                        });
                    }
                    (!frame.is_empty()).then_some(Ok(frame))
                }
                GenEvent::Done {
                    finish,
                    completion_tokens: generated,
                    ..
                } => {
                    completion_tokens += u64::from(generated);
                    remaining -= 1;
                    let mut frame = Vec::new();
                    let mut reason = finish;
                    let calls = match answer {
                        AnswerForm::Text => None,
                        AnswerForm::ToolCall => {
                            let text = std::mem::take(&mut held[choice as usize]);
                            let call = parse_tool_call(&text).map(|call| vec![call]);
                            Some((text, call))
                        }
                        AnswerForm::TextOrToolCalls => {
                            let (rest, tagged) = splitters[choice as usize].finish();
                            if !rest.is_empty() {
                                frame.push(StreamEvent::TextDelta { choice, text: rest });
                            }
                            tagged.map(|text| {
                                let calls = parse_tagged_calls(&text).map(|(_, calls)| calls);
                                (text, calls)
                            })
                        }
                    };
                    match calls {
                        Some((_, Some(calls)))
                            if reason == FinishReason::Stop && !calls.is_empty() =>
                        {
                            let id = completion_id();
                            for (index, (name, arguments)) in calls.into_iter().enumerate() {
                                frame.push(StreamEvent::ToolCallDelta {
                                    choice,
                                    index: index as u32,
                                    id: Some(format!("call_{id}_{index}")),
                                    name: Some(name),
                                    arguments,
                                });
                            }
                            reason = FinishReason::ToolCalls;
                        }
                        // Cut short by max_tokens: what there is, as text.
                        Some((text, _)) => frame.push(StreamEvent::TextDelta { choice, text }),
                        None => {}
                    }
                    frame.push(StreamEvent::Finish { choice, reason });
                    if remaining == 0 {
                        frame.push(StreamEvent::Usage(Usage {
                            input_tokens: u64::from(prompt_tokens),
                            output_tokens: completion_tokens,
                            ..Usage::default()
                        }));
                    }
                    Some(Ok(frame))
                }
                GenEvent::Failed(error) => Some(Err(error)),
            };
            futures::future::ready(frame)
        })
        // Nothing follows a failure.
        .scan(false, |failed, item| {
            if *failed {
                return futures::future::ready(None);
            }
            *failed = item.is_err();
            futures::future::ready(Some(item))
        });
    futures::stream::once(futures::future::ready(Ok(start)))
        .chain(body)
        .boxed()
}

/// One choice of a complete answer, put together from its events.
#[derive(Default)]
struct ChoiceParts {
    text: String,
    tool_calls: Vec<ContentBlock>,
    logprobs: Option<Vec<switchyard_types::TokenLogprob>>,
    finish: Option<FinishReason>,
}

impl ChoiceParts {
    /// The parts of `choice`, created on first mention.
    fn of(parts: &mut Vec<ChoiceParts>, choice: u32) -> &mut ChoiceParts {
        let index = choice as usize;
        if parts.len() <= index {
            parts.resize_with(index + 1, ChoiceParts::default);
        }
        &mut parts[index]
    }

    fn into_choice(self, index: usize) -> Choice {
        let mut content = Vec::new();
        // Whitespace a model wrote before its calls is no answer.
        if !self.text.trim().is_empty() || self.tool_calls.is_empty() {
            content.push(ContentBlock::text(self.text));
        }
        content.extend(self.tool_calls);
        let content_is_text = content.len() == 1 && matches!(content[0], ContentBlock::Text { .. });
        Choice {
            index: index as u32,
            message: Message {
                role: Role::Assistant,
                content,
                name: None,
                content_is_text,
                extra: Default::default(),
            },
            finish_reason: self.finish,
            logprobs: self.logprobs,
            extra: Default::default(),
        }
    }
}

#[async_trait::async_trait]
impl Provider for LocalTextProvider {
    fn info(&self) -> &DeploymentInfo {
        &self.info
    }

    fn context_window(&self) -> Option<u64> {
        Some(self.model.context_limit() as u64)
    }

    async fn chat(
        &self,
        request: ChatRequest,
        _: &CallContext,
    ) -> Result<ChatResponse, ProviderError> {
        let started = self.start(&request)?;
        let mut stream = frames(started, self.model.name().to_owned());
        let mut response = ChatResponse {
            id: String::new(),
            model: String::new(),
            created: 0,
            choices: Vec::new(),
            usage: None,
            extra: Default::default(),
        };
        let mut parts: Vec<ChoiceParts> = Vec::new();
        while let Some(frame) = stream.next().await {
            for event in frame? {
                match event {
                    StreamEvent::Start {
                        id, model, created, ..
                    } => {
                        (response.id, response.model, response.created) = (id, model, created);
                    }
                    StreamEvent::TextDelta { choice, text } => {
                        ChoiceParts::of(&mut parts, choice).text.push_str(&text);
                    }
                    StreamEvent::ToolCallDelta {
                        choice,
                        id,
                        name,
                        arguments,
                        ..
                    } => {
                        ChoiceParts::of(&mut parts, choice).tool_calls.push(
                            ContentBlock::ToolCall {
                                id: id.unwrap_or_default(),
                                name: name.unwrap_or_default(),
                                arguments,
                            },
                        );
                    }
                    StreamEvent::Logprobs { choice, tokens } => {
                        ChoiceParts::of(&mut parts, choice)
                            .logprobs
                            .get_or_insert_with(Vec::new)
                            .extend(tokens);
                    }
                    StreamEvent::Finish { choice, reason } => {
                        ChoiceParts::of(&mut parts, choice).finish = Some(reason);
                    }
                    StreamEvent::Usage(usage) => response.usage = Some(usage),
                    _ => {}
                }
            }
        }
        response.choices = parts
            .into_iter()
            .enumerate()
            .map(|(index, parts)| parts.into_choice(index))
            .collect();
        Ok(response)
    }

    async fn chat_stream(
        &self,
        request: ChatRequest,
        _: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        let started = self.start(&request)?;
        Ok(frames(started, self.model.name().to_owned()))
    }

    async fn count_tokens(
        &self,
        request: ChatRequest,
        _: &CallContext,
    ) -> Result<u64, ProviderError> {
        let plan = self.plan(&request)?;
        Ok(plan.prompts.iter().map(Vec::len).sum::<usize>() as u64)
    }

    async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        Ok(vec![UpstreamModel {
            id: self.model.name().to_owned(),
            owned_by: Some(PROVIDER_NAME.to_owned()),
            created: None,
        }])
    }
}
