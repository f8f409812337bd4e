//! The `semantic` strategy on the real MiniLM, with the encoder itself and with static
//! vectors distilled from it: how often held-out prompts go to the right task's
//! deployment, at several similarity thresholds, and what one routing decision costs
//! (embedding the prompt, finding its task, planning), the way the server makes it.
//!
//! `cargo run --release -p switchyard --example semantic_routing [-- ROUNDS]`
//!
//! Reads the tasks and labelled prompts from `bench/routing/semantic.json` and MiniLM
//! from the model store (`$SWITCHYARD_HOME`, default `~/.cache/switchyard/home`; run
//! `switchyard pull minilm` first).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use switchyard_engine::LocalEmbedProvider;
use switchyard_engine::embed::{SentenceEncoder, StaticEncoder, TextEncoder};
use switchyard_router::Policies;
use switchyard_server::AppState;
use switchyard_server::config::Config;
use switchyard_server::ingress::routing;
use switchyard_types::{CallContext, ChatRequest, Message, Provider, Role};

const DATA: &str = include_str!("../../../bench/routing/semantic.json");
const THRESHOLDS: [f32; 9] = [0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75];

/// A route whose every task has a deployment of its own, behind `general`, whose
/// prompts `embedder` embeds; none is ever called (the base URL is a closed port),
/// planning only reads them.
fn config(tasks: &serde_json::Map<String, Value>, embedder: &str, min_similarity: f32) -> String {
    let mut text = String::from(
        "[providers.nowhere]\ntype = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\n\
         [providers.cpu]\ntype = \"local\"\n\
         [deployments.minilm]\nprovider = \"cpu\"\nmodel = \"minilm\"\nkind = \"embedding\"\n\
         [deployments.minilm-static]\nprovider = \"cpu\"\nmodel = \"minilm\"\n\
         kind = \"static-embedding\"\n\
         [deployments.general]\nprovider = \"nowhere\"\nmodel = \"general\"\n",
    );
    let mut deployments = vec!["\"general\"".to_owned()];
    for name in tasks.keys() {
        let _ = writeln!(
            text,
            "[deployments.{name}-model]\nprovider = \"nowhere\"\nmodel = \"{name}\""
        );
        deployments.push(format!("\"{name}-model\""));
    }
    let _ = writeln!(
        text,
        "[models.assistant]\ndeployments = [{}]\nstrategy = \"semantic\"\nembedder = \"{embedder}\"\n\
         min_similarity = {min_similarity}\ntask_timeout = \"10s\"",
        deployments.join(", ")
    );
    for (name, examples) in tasks {
        let _ = writeln!(
            text,
            "[models.assistant.tasks.{name}]\ndeployment = \"{name}-model\"\nexamples = {examples}"
        );
    }
    text
}

fn asking(text: &str) -> ChatRequest {
    ChatRequest {
        model: "assistant".into(),
        messages: vec![Message::text(Role::User, text)],
        ..ChatRequest::default()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .map_or(Ok(20), |rounds| rounds.parse())?;
    let data: Value = serde_json::from_str(DATA)?;
    let tasks = data["tasks"].as_object().expect("tasks");
    let prompts: Vec<(String, Option<String>)> = data["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .map(|prompt| {
            (
                prompt["text"].as_str().expect("text").to_owned(),
                prompt["task"].as_str().map(str::to_owned),
            )
        })
        .collect();

    let home = std::env::var_os("SWITCHYARD_HOME")
        .map_or_else(switchyard_engine::default_home, Into::into);
    let dir = switchyard_engine::ModelStore::under(&home).model_dir("all-minilm-l6-v2");
    let encoder = SentenceEncoder::load(&dir)?;
    let started = Instant::now();
    let distilled = StaticEncoder::load_or_distill(
        &encoder,
        &dir.join("static-vectors.safetensors"),
        &|_, _| {},
    )?;
    println!(
        "static vectors read or distilled in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let full: Arc<dyn Provider> = Arc::new(LocalEmbedProvider::new(
        "minilm",
        "all-minilm-l6-v2",
        Arc::new(encoder),
    ));
    let fast: Arc<dyn Provider> = Arc::new(LocalEmbedProvider::with_encoder(
        "minilm-static",
        "all-minilm-l6-v2",
        TextEncoder::Static(Arc::new(distilled)),
    ));
    let local = HashMap::from([
        ("minilm".to_owned(), full),
        ("minilm-static".to_owned(), fast),
    ]);
    for embedder in ["minilm", "minilm-static"] {
        println!("\n=== embedder: {embedder}");
        measure(tasks, &prompts, &local, embedder, rounds).await?;
    }
    Ok(())
}

async fn measure(
    tasks: &serde_json::Map<String, Value>,
    prompts: &[(String, Option<String>)],
    local: &HashMap<String, Arc<dyn Provider>>,
    embedder: &str,
    rounds: usize,
) -> anyhow::Result<()> {
    let cx = CallContext::default();
    // Accuracy: every threshold from one pass that keeps the best match whatever it is.
    let state = AppState::from_config_with_local(
        &Config::from_toml_str(&config(tasks, embedder, -1.0), "semantic_routing")?,
        local,
        Vec::new(),
    )?;
    let started = Instant::now();
    state.prepare_tasks().await;
    println!(
        "{} examples embedded in {} ms",
        tasks
            .values()
            .map(|e| e.as_array().map_or(0, Vec::len))
            .sum::<usize>(),
        started.elapsed().as_millis()
    );
    let route = state.catalog().get("assistant")?;
    let mut nearest = Vec::new();
    for (text, label) in prompts {
        let needs = routing::needs_of(&state, route, &asking(text), &cx).await;
        let task = needs.task.expect("a best match at threshold -1");
        println!(
            "{:>5.2} {:<12} {:<12} {text}",
            task.similarity,
            task.task,
            label.as_deref().unwrap_or("(none)")
        );
        nearest.push((task.task, task.similarity));
    }
    let tasks_total = prompts.iter().filter(|(_, label)| label.is_some()).count();
    let none_total = prompts.len() - tasks_total;
    let top1 = prompts
        .iter()
        .zip(&nearest)
        .filter(|((_, label), (task, _))| label.as_ref() == Some(task))
        .count();
    println!("\ntop-1 task right: {top1}/{tasks_total}");
    println!(
        "threshold  right  task right  none right  (of {} prompts)",
        prompts.len()
    );
    for threshold in THRESHOLDS {
        let (mut task_right, mut none_right) = (0, 0);
        for ((_, label), (task, similarity)) in prompts.iter().zip(&nearest) {
            let chosen = (*similarity >= threshold).then_some(task);
            if chosen == label.as_ref() {
                if label.is_some() {
                    task_right += 1;
                } else {
                    none_right += 1;
                }
            }
        }
        println!(
            "{threshold:>9.2}  {:>5}  {task_right:>5}/{tasks_total:<4} {none_right:>5}/{none_total}",
            task_right + none_right
        );
    }

    // Decision cost at the default threshold: task, needs and plan, as the server does.
    let state = AppState::from_config_with_local(
        &Config::from_toml_str(
            &config(
                tasks,
                embedder,
                switchyard_router::task::DEFAULT_MIN_SIMILARITY,
            ),
            "semantic_routing",
        )?,
        local,
        Vec::new(),
    )?;
    state.prepare_tasks().await;
    let route = state.catalog().get("assistant")?;
    let policies = Policies::default();
    let mut samples = Vec::new();
    for _ in 0..rounds {
        for (text, _) in prompts {
            let request = asking(text);
            let started = Instant::now();
            let needs = routing::needs_of(&state, route, &request, &cx).await;
            let plan = routing::planned(&state, route, &needs, &policies)?;
            std::hint::black_box(plan);
            samples.push(started.elapsed());
        }
    }
    samples.sort();
    println!(
        "decision (embed + task + plan), {} decisions: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        samples.len(),
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    Ok(())
}
