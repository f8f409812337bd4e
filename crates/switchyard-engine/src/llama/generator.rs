//! The generation actor: one thread owns the llama.cpp context and runs every active
//! sequence in one batch per step (continuous batching). Requests join at token
//! boundaries, leave when done or cancelled, and reuse the KV cache of whatever prompt
//! prefix their slot already holds (a long shared system prompt is computed once).

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use switchyard_types::{ErrorKind, FinishReason, ProviderError, RetryAdvice, TokenLogprob};
use tokio::sync::mpsc::UnboundedSender;

use super::logprobs::{token_logprob, unscored};
use super::sampling::TokenSampler;
use super::text::{Release, StopMatcher, Utf8Joiner};

/// How much the actor may hold at once.
#[derive(Debug, Clone, Copy)]
pub struct GeneratorLimits {
    /// KV cache capacity in tokens, shared by all sequences.
    pub context_tokens: u32,
    /// Sequences decoded together.
    pub max_sequences: u32,
    /// Requests waiting for a free sequence before new ones are refused (429).
    pub queue_limit: usize,
    /// Most tokens in one llama.cpp batch (prompt chunks and decode steps together).
    pub batch_tokens: u32,
    pub threads: i32,
    /// llama.cpp's flash-attention policy (`LLAMA_FLASH_ATTN_TYPE_*`).
    pub flash_attention: llama_cpp_sys_2::llama_flash_attn_type,
}

/// One generation to run.
pub struct Job {
    pub prompt: Vec<LlamaToken>,
    /// Built by the caller, so a bad grammar is refused before the job is queued.
    pub sampler: TokenSampler,
    pub max_tokens: u32,
    pub stop: Vec<String>,
    /// `Some(k)`: report each token's logprob and its `k` most likely alternatives.
    pub logprobs: Option<u32>,
    /// `Some(k)`: report the logprob of every prompt token given the ones before it,
    /// with `k` alternatives (an echoed prompt's scores). The prompt is then computed
    /// afresh, not taken from a cached prefix, which has no logits.
    pub prompt_logprobs: Option<u32>,
    /// Runs alone and computes its whole prompt afresh, so that it is computed the same
    /// way every time: a seeded request. llama.cpp's kernels round differently for a
    /// batch of other shapes (a cached prefix, other sequences beside it), and at a
    /// temperature above zero a last-digit difference changes a later token.
    pub isolated: bool,
    pub events: UnboundedSender<GenEvent>,
}

/// What the actor is sent.
enum Command {
    Run(Job),
    /// Panics on the actor's thread: how the tests prove that it recovers.
    Panic,
}

/// What a job reports, in order: tokens, then one `Done` or `Failed`.
#[derive(Debug)]
pub enum GenEvent {
    /// Scores of prompt tokens, in order, as they are computed; the first prompt token
    /// has no logprob.
    PromptLogprobs(Vec<TokenLogprob>),
    Text {
        text: String,
        logprob: Option<TokenLogprob>,
    },
    Done {
        finish: FinishReason,
        prompt_tokens: u32,
        completion_tokens: u32,
    },
    Failed(ProviderError),
}

/// Counters the actor keeps and anyone may read.
#[derive(Debug, Default)]
pub struct GeneratorStats {
    /// Jobs submitted and not yet finished.
    load: AtomicUsize,
    /// Prompt tokens run through the model.
    prompt_tokens_computed: AtomicU64,
    /// Prompt tokens whose cache was reused from an earlier request instead.
    prompt_tokens_reused: AtomicU64,
    /// Times the actor panicked and was restarted.
    restarts: AtomicU64,
}

impl GeneratorStats {
    /// Requests running or queued.
    pub fn load(&self) -> usize {
        self.load.load(Ordering::Acquire)
    }

    pub fn prompt_tokens_computed(&self) -> u64 {
        self.prompt_tokens_computed.load(Ordering::Relaxed)
    }

    pub fn prompt_tokens_reused(&self) -> u64 {
        self.prompt_tokens_reused.load(Ordering::Relaxed)
    }

    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    fn finished(&self, jobs: usize) {
        self.load.fetch_sub(jobs, Ordering::AcqRel);
    }
}

/// The handle requests are submitted through. Cheap to clone.
#[derive(Clone)]
pub struct Generator {
    // Declared before `actor`: the last handle's sender goes first, so an idle actor
    // sees the channel close while `actor` waits for it.
    jobs: mpsc::Sender<Command>,
    stats: Arc<GeneratorStats>,
    capacity: usize,
    sequence_limit: usize,
    /// Held for its `Drop`: the last handle stops and joins the thread.
    _actor: Arc<ActorThread>,
}

/// The actor's thread, stopped and joined when the last handle goes: llama.cpp's state
/// must be freed before the process tears down its globals, or exit races a decode
/// step (a crash at exit, seen in tests that end with a generation running).
struct ActorThread {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for ActorThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Generator {
    /// Starts the actor thread for `model`; returns once its context exists.
    pub fn start(
        name: &str,
        model: Arc<LlamaModel>,
        extra_stop_tokens: Vec<LlamaToken>,
        limits: GeneratorLimits,
    ) -> Result<Self, ProviderError> {
        // The longest a single sequence may grow, prompt included.
        let sequence_limit = (limits.context_tokens as usize).min(model.n_ctx_train() as usize);
        let (jobs, receiver) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let stats = Arc::new(GeneratorStats::default());
        let actor_stats = stats.clone();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let actor_stop = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("engine-{name}"))
            .spawn(move || {
                let backend = match super::backend() {
                    Ok(backend) => backend,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                let params = LlamaContextParams::default()
                    .with_n_ctx(NonZeroU32::new(limits.context_tokens))
                    .with_n_batch(limits.batch_tokens)
                    .with_n_ubatch(limits.batch_tokens.min(512))
                    .with_n_seq_max(limits.max_sequences)
                    // One KV stream for all sequences, so a prefix can be shared.
                    .with_kv_unified(true)
                    .with_flash_attention_policy(limits.flash_attention)
                    .with_n_threads(limits.threads)
                    .with_n_threads_batch(limits.threads);
                let context = match model.new_context(backend, params) {
                    Ok(context) => context,
                    Err(error) => {
                        let _ = ready_tx.send(Err(ProviderError::new(
                            ErrorKind::Internal,
                            format!("cannot create the model's context: {error}"),
                        )));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                let mut actor = Actor {
                    model: &model,
                    context,
                    extra_stop_tokens,
                    limits,
                    stats: actor_stats,
                    slots: Slot::all(limits.max_sequences),
                    waiting: VecDeque::new(),
                    sequence_limit,
                    clock: 1,
                    stop: actor_stop,
                };
                actor.supervise(&receiver);
            })
            .map_err(|error| {
                ProviderError::new(ErrorKind::Internal, "cannot start the engine thread")
                    .with_cause(error)
            })?;
        ready_rx.recv().map_err(|_| {
            ProviderError::new(ErrorKind::Internal, "the engine thread stopped at start")
        })??;
        Ok(Generator {
            jobs,
            stats,
            capacity: limits.max_sequences as usize + limits.queue_limit,
            sequence_limit,
            _actor: Arc::new(ActorThread {
                stop,
                thread: std::sync::Mutex::new(Some(thread)),
            }),
        })
    }

    /// The most jobs it runs and queues at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The most tokens one sequence may hold, prompt and answer together.
    pub fn sequence_limit(&self) -> usize {
        self.sequence_limit
    }

    pub fn stats(&self) -> &GeneratorStats {
        &self.stats
    }

    /// Makes the actor's thread panic at its next step, as a bug would. For tests of
    /// the recovery; nothing in the server calls it.
    #[doc(hidden)]
    pub fn panic_for_test(&self) {
        let _ = self.jobs.send(Command::Panic);
    }

    /// Queues a job, or refuses it when the engine is full.
    pub fn submit(&self, job: Job) -> Result<(), ProviderError> {
        let previous = self.stats.load.fetch_add(1, Ordering::AcqRel);
        if previous >= self.capacity {
            self.stats.finished(1);
            return Err(ProviderError::new(
                ErrorKind::RateLimited,
                format!(
                    "the local engine is busy: {} requests are running or queued",
                    previous
                ),
            )
            .with_retry(RetryAdvice::After(std::time::Duration::from_secs(1))));
        }
        self.jobs.send(Command::Run(job)).map_err(|_| {
            self.stats.finished(1);
            ProviderError::new(ErrorKind::Internal, "the local engine has stopped")
        })
    }
}

/// A KV-cache sequence and what it holds.
struct Slot {
    seq: i32,
    /// The tokens whose keys and values are in the cache for this sequence.
    cached: Vec<LlamaToken>,
    active: Option<Sequence>,
    /// When a request last took this slot, on the actor's admission clock.
    last_used: u64,
}

impl Slot {
    fn all(count: u32) -> Vec<Slot> {
        (0..count as i32)
            .map(|seq| Slot {
                seq,
                cached: Vec::new(),
                active: None,
                last_used: 0,
            })
            .collect()
    }
}

/// One running generation.
struct Sequence {
    job: Job,
    /// Prompt tokens not yet in the cache, starting at `slot.cached.len()`.
    next_prompt: usize,
    /// The token sampled last, to feed in the next step.
    pending: Option<LlamaToken>,
    generated: u32,
    joiner: Utf8Joiner,
    stops: StopMatcher,
    /// Where this sequence's logits are in the current batch.
    logits_at: Option<i32>,
    /// With `prompt_logprobs`: the prompt positions in the current batch, and where
    /// their logits are.
    scored: Vec<(usize, i32)>,
}

struct Actor<'model> {
    model: &'model LlamaModel,
    context: LlamaContext<'model>,
    extra_stop_tokens: Vec<LlamaToken>,
    limits: GeneratorLimits,
    stats: Arc<GeneratorStats>,
    slots: Vec<Slot>,
    waiting: VecDeque<Job>,
    /// The longest a single sequence may grow, prompt included.
    sequence_limit: usize,
    /// Counts admissions, to rank idle caches by recency.
    clock: u64,
    /// Set when the last handle is dropped: fail what runs and return.
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Actor<'_> {
    /// Runs the actor, and restarts it when a step panics: the requests it held fail
    /// with an error (their callers get a clean 5xx, never a hang), its cache is
    /// cleared, and the model goes on serving. The context is kept: a panic comes from
    /// the Rust side of a step (llama.cpp's C++ cannot unwind into Rust), so it holds
    /// nothing worse than stale cache cells, which are cleared.
    fn supervise(&mut self, jobs: &mpsc::Receiver<Command>) {
        loop {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run(jobs)));
            let Err(payload) = outcome else {
                return;
            };
            let what = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(
                panic = %what,
                running = self.slots.iter().filter(|slot| slot.active.is_some()).count(),
                waiting = self.waiting.len(),
                "The local engine's thread panicked; its requests fail and it restarts."
            );
            self.stats.restarts.fetch_add(1, Ordering::Relaxed);
            self.fail_all(
                ErrorKind::Internal,
                "the local engine failed while running this request and has restarted",
            );
        }
    }

    fn run(&mut self, jobs: &mpsc::Receiver<Command>) {
        let mut batch = LlamaBatch::new(self.limits.batch_tokens as usize, 1);
        loop {
            if self.stop.load(Ordering::Acquire) {
                self.shut_down();
                return;
            }
            let idle =
                self.slots.iter().all(|slot| slot.active.is_none()) && self.waiting.is_empty();
            if idle {
                match jobs.recv() {
                    Ok(command) => self.take(command),
                    Err(_) => return,
                }
            }
            while let Ok(command) = jobs.try_recv() {
                self.take(command);
            }
            self.drop_cancelled();
            self.admit();
            if !self.fill(&mut batch) {
                continue;
            }
            if let Err(error) = self.context.decode(&mut batch) {
                self.fail_batch(&format!("llama.cpp could not decode the batch: {error}"));
                continue;
            }
            self.sample();
        }
    }

    fn take(&mut self, command: Command) {
        match command {
            Command::Run(job) => self.waiting.push_back(job),
            Command::Panic => panic!("a panic asked for by a test"),
        }
    }

    /// Frees the slots of requests whose caller went away.
    fn drop_cancelled(&mut self) {
        let before = self.waiting.len();
        self.waiting.retain(|job| !job.events.is_closed());
        self.stats.finished(before - self.waiting.len());
        for slot in &mut self.slots {
            if slot
                .active
                .as_ref()
                .is_some_and(|sequence| sequence.job.events.is_closed())
            {
                slot.active = None;
                self.stats.finished(1);
            }
        }
    }

    /// Gives waiting jobs free slots. A job starts from the longest prefix of its prompt
    /// that any sequence already holds: in its own slot's leftover cache, or shared from
    /// another slot's cells (a metadata-only copy in the unified cache).
    fn admit(&mut self) {
        while let Some(job) = self.waiting.front() {
            // An isolated job runs alone: nothing joins it, and it waits (first in the
            // queue, so in order) until what runs has finished.
            let running = self.slots.iter().filter_map(|slot| slot.active.as_ref());
            let mut running = running.peekable();
            if running.peek().is_some()
                && (job.isolated || running.any(|sequence| sequence.job.isolated))
            {
                return;
            }
            let shared_with = |slot: &Slot| common_prefix(&slot.cached, &job.prompt);
            let Some((target, own)) = self
                .slots
                .iter()
                .enumerate()
                .filter(|(_, slot)| slot.active.is_none())
                .map(|(index, slot)| (index, shared_with(slot)))
                .max_by_key(|&(_, shared)| shared)
            else {
                return;
            };
            let (source, best) = self
                .slots
                .iter()
                .enumerate()
                .map(|(index, slot)| (index, shared_with(slot)))
                .max_by_key(|&(_, shared)| shared)
                .unwrap_or((target, own));
            let Some(job) = self.waiting.pop_front() else {
                return;
            };
            // The last prompt token is always fed again: its logits start the answer. A
            // scored prompt is computed whole: cached cells have no logits.
            let limit = if job.prompt_logprobs.is_some() || job.isolated {
                0
            } else {
                job.prompt.len().saturating_sub(1)
            };
            let keep = if best > own && source != target {
                self.share_prefix(source, target, best.min(limit))
            } else {
                self.truncate(target, own.min(limit))
            };
            self.stats
                .prompt_tokens_reused
                .fetch_add(keep as u64, Ordering::Relaxed);
            self.slots[target].last_used = self.clock;
            self.clock += 1;
            self.forget_cold_caches();
            let stops = StopMatcher::new(job.stop.iter().cloned());
            self.slots[target].active = Some(Sequence {
                job,
                next_prompt: keep,
                pending: None,
                generated: 0,
                joiner: Utf8Joiner::default(),
                stops,
                logits_at: None,
                scored: Vec::new(),
            });
        }
    }

    /// Keeps the first `keep` cached tokens of a slot; returns how many it kept.
    fn truncate(&mut self, index: usize, keep: usize) -> usize {
        let slot = &mut self.slots[index];
        let removed = self
            .context
            .clear_kv_cache_seq(Some(slot.seq as u32), Some(keep as u32), None)
            .unwrap_or(false);
        let keep = if removed {
            keep
        } else {
            // Some caches (sliding-window layers) cannot drop a tail: start over.
            let _ = self
                .context
                .clear_kv_cache_seq(Some(slot.seq as u32), None, None);
            0
        };
        slot.cached.truncate(keep);
        keep
    }

    /// Makes `target` hold the first `keep` tokens of `source`'s cache, sharing its
    /// cells; returns how many it holds.
    fn share_prefix(&mut self, source: usize, target: usize, keep: usize) -> usize {
        let (source_seq, target_seq) = (self.slots[source].seq, self.slots[target].seq);
        let _ = self
            .context
            .clear_kv_cache_seq(Some(target_seq as u32), None, None);
        if self
            .context
            .copy_kv_cache_seq(source_seq, target_seq, None, Some(keep as u32))
            .is_err()
        {
            self.slots[target].cached.clear();
            return 0;
        }
        self.slots[target].cached = self.slots[source].cached[..keep].to_vec();
        keep
    }

    /// Idle slots keep their cache for reuse, but every cached cell widens the attention
    /// of every step: beyond the most recent few, idle caches are dropped.
    fn forget_cold_caches(&mut self) {
        const WARM_IDLE_SLOTS: usize = 2;
        let mut idle: Vec<usize> = (0..self.slots.len())
            .filter(|&index| {
                self.slots[index].active.is_none() && !self.slots[index].cached.is_empty()
            })
            .collect();
        idle.sort_by_key(|&index| std::cmp::Reverse(self.slots[index].last_used));
        for &index in idle.iter().skip(WARM_IDLE_SLOTS) {
            let slot = &mut self.slots[index];
            let _ = self
                .context
                .clear_kv_cache_seq(Some(slot.seq as u32), None, None);
            slot.cached.clear();
        }
    }

    /// Puts one step's work in the batch: one token per decoding sequence, then prompt
    /// chunks while room is left. Returns whether there is anything to decode.
    fn fill(&mut self, batch: &mut LlamaBatch) -> bool {
        batch.clear();
        let budget = self.limits.batch_tokens as usize;
        let mut used = 0;
        for slot in &mut self.slots {
            let Some(sequence) = slot.active.as_mut() else {
                continue;
            };
            sequence.logits_at = None;
            if let Some(token) = sequence.pending.take() {
                let position = slot.cached.len() as i32;
                if batch.add(token, position, &[slot.seq], true).is_ok() {
                    sequence.logits_at = Some(used as i32);
                    slot.cached.push(token);
                    used += 1;
                }
            }
        }
        for slot in &mut self.slots {
            let Some(sequence) = slot.active.as_mut() else {
                continue;
            };
            let prompt = &sequence.job.prompt;
            let scoring = sequence.job.prompt_logprobs.is_some();
            while sequence.next_prompt < prompt.len() && used < budget {
                let token = prompt[sequence.next_prompt];
                let last = sequence.next_prompt + 1 == prompt.len();
                let position = slot.cached.len() as i32;
                if batch
                    .add(token, position, &[slot.seq], last || scoring)
                    .is_err()
                {
                    break;
                }
                if last {
                    sequence.logits_at = Some(used as i32);
                }
                if scoring {
                    sequence.scored.push((sequence.next_prompt, used as i32));
                }
                slot.cached.push(token);
                sequence.next_prompt += 1;
                used += 1;
                self.stats
                    .prompt_tokens_computed
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
        used > 0
    }

    /// Reports the scores of the prompt tokens computed in this batch: the logits at
    /// one position are the model's prediction of the token at the next.
    fn score_prompts(&mut self) {
        for slot in &mut self.slots {
            let Some(sequence) = slot.active.as_mut() else {
                continue;
            };
            let (Some(top), false) = (sequence.job.prompt_logprobs, sequence.scored.is_empty())
            else {
                continue;
            };
            let prompt = &sequence.job.prompt;
            let mut scores = Vec::with_capacity(sequence.scored.len());
            for (position, at) in sequence.scored.drain(..) {
                if position == 0 {
                    scores.push(unscored(self.model, prompt[0]));
                }
                if let Some(&next) = prompt.get(position + 1) {
                    let logits = self.context.get_logits_ith(at);
                    scores.push(token_logprob(self.model, logits, next, top));
                }
            }
            let _ = sequence.job.events.send(GenEvent::PromptLogprobs(scores));
        }
    }

    /// Samples the next token of every sequence that has logits in this batch.
    fn sample(&mut self) {
        self.score_prompts();
        let vocab = self.model.vocab();
        for index in 0..self.slots.len() {
            let slot = &mut self.slots[index];
            let Some(sequence) = slot.active.as_mut() else {
                continue;
            };
            let Some(at) = sequence.logits_at.take() else {
                continue;
            };
            let prompt_tokens = sequence.job.prompt.len() as u32;
            let mut finish = None;
            // `max_tokens: 0` asks for the prompt's scores alone.
            let token = if sequence.job.max_tokens == 0 {
                finish = Some(FinishReason::Length);
                None
            } else {
                Some(sequence.job.sampler.sample(&self.context, at))
            };
            if let Some(token) = token {
                let logprob = sequence.job.logprobs.map(|top| {
                    token_logprob(self.model, self.context.get_logits_ith(at), token, top)
                });
                sequence.generated += 1;
                let end_of_generation =
                    vocab.is_eog(token) || self.extra_stop_tokens.contains(&token);
                if end_of_generation {
                    finish = Some(FinishReason::Stop);
                } else {
                    let piece = vocab.token_to_piece(token, false, None);
                    let text = sequence.joiner.push(&piece);
                    let (text, stopped) = match sequence.stops.push(&text) {
                        Release::Text(text) => (text, false),
                        Release::Stopped(text) => (text, true),
                    };
                    let _ = sequence.job.events.send(GenEvent::Text { text, logprob });
                    if stopped {
                        finish = Some(FinishReason::Stop);
                    } else if sequence.generated >= sequence.job.max_tokens
                        || slot.cached.len() + 1 >= self.sequence_limit
                    {
                        finish = Some(FinishReason::Length);
                    } else {
                        sequence.pending = Some(token);
                    }
                }
            }
            if let Some(finish) = finish {
                let mut rest = sequence.joiner.finish();
                if finish == FinishReason::Length {
                    rest.push_str(&sequence.stops.finish());
                }
                if !rest.is_empty() {
                    let _ = sequence.job.events.send(GenEvent::Text {
                        text: rest,
                        logprob: None,
                    });
                }
                // An end-of-generation token is not counted in the answer's text but
                // was generated, as OpenAI counts it.
                let _ = sequence.job.events.send(GenEvent::Done {
                    finish,
                    prompt_tokens,
                    completion_tokens: sequence.generated,
                });
                slot.active = None;
                self.stats.finished(1);
            }
        }
    }

    /// Fails every request, running or waiting, as the engine stops.
    fn shut_down(&mut self) {
        self.fail_all(ErrorKind::Overloaded, "the local engine is shutting down");
    }

    /// Fails every request, running or waiting, and clears every cache.
    fn fail_all(&mut self, kind: ErrorKind, message: &str) {
        // Each job is counted out before its caller hears, so a caller that sees the
        // failure also sees the engine's load without it.
        for job in self.waiting.drain(..) {
            self.stats.finished(1);
            let _ = job.events.send(GenEvent::Failed(ProviderError::new(
                kind,
                message.to_owned(),
            )));
        }
        self.fail_running(kind, message);
    }

    /// A failed decode leaves the cache in an unknown state for the sequences in the
    /// batch: they are failed and their cache cleared.
    fn fail_batch(&mut self, message: &str) {
        self.fail_running(ErrorKind::Overloaded, message);
    }

    fn fail_running(&mut self, kind: ErrorKind, message: &str) {
        for slot in &mut self.slots {
            if let Some(sequence) = slot.active.take() {
                self.stats.finished(1);
                let _ = sequence
                    .job
                    .events
                    .send(GenEvent::Failed(ProviderError::new(
                        kind,
                        message.to_owned(),
                    )));
            }
            let _ = self
                .context
                .clear_kv_cache_seq(Some(slot.seq as u32), None, None);
            slot.cached.clear();
        }
    }
}

fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
