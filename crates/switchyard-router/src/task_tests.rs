use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use switchyard_types::{CallContext, Capabilities, ChatRequest, Message, Provider, Role};

use super::*;
use crate::catalog::Route;
use crate::health::{BreakerSettings, Health};
use crate::plan::{Conditions, Needs, plan};
use crate::policy::{Policies, Policy, PolicySource};
use crate::strategy::Strategy;
use crate::testing::{Described, WordCounter, info};

fn tasks(embedder: Arc<WordCounter>) -> Tasks {
    Tasks::new(
        embedder,
        vec![
            Task {
                name: "code".into(),
                deployment: "coder".into(),
                examples: vec![
                    "write a python function that sorts a list".into(),
                    "fix this rust compile error in my code".into(),
                ],
            },
            Task {
                name: "translation".into(),
                deployment: "translator".into(),
                examples: vec!["translate this sentence into german".into()],
            },
        ],
        0.5,
    )
}

fn asking(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::text(Role::System, "You are helpful."),
            Message::text(Role::User, text),
        ],
        ..ChatRequest::default()
    }
}

fn cx() -> CallContext {
    CallContext::default()
}

#[tokio::test]
async fn a_prompt_goes_to_the_task_of_its_nearest_example() {
    let embedder = WordCounter::new(Duration::ZERO);
    let tasks = tasks(embedder.clone());
    let found = tasks
        .classify(&asking("please write a python function that sorts"), &cx())
        .await
        .expect("classifies")
        .expect("a task");
    assert_eq!(found.task, "code");
    assert_eq!(found.deployment, "coder");
    assert!(found.similarity > 0.8, "{found:?}");
    let found = tasks
        .classify(
            &asking("Translate this sentence into German: good morning"),
            &cx(),
        )
        .await
        .expect("classifies")
        .expect("a task");
    assert_eq!(found.task, "translation");
    // The examples were embedded once, in one call; each prompt took one more.
    assert_eq!(embedder.calls(), 3);
}

#[tokio::test]
async fn a_prompt_like_no_example_has_no_task_and_no_text_costs_nothing() {
    let embedder = WordCounter::new(Duration::ZERO);
    let tasks = tasks(embedder.clone());
    let unrelated = tasks
        .classify(&asking("what is the weather like on mars today"), &cx())
        .await
        .expect("classifies");
    assert_eq!(unrelated, None);
    let calls = embedder.calls();
    let silent = tasks
        .classify(&ChatRequest::default(), &cx())
        .await
        .expect("classifies");
    assert_eq!(silent, None);
    assert_eq!(embedder.calls(), calls, "nothing to embed, nothing sent");
}

#[tokio::test(start_paused = true)]
async fn a_slow_encoder_times_out_rather_than_hold_the_request() {
    let embedder = WordCounter::new(Duration::from_secs(1));
    let tasks = tasks(embedder).with_classify_timeout(Duration::from_millis(100));
    let started = tokio::time::Instant::now();
    let outcome = tasks
        .classify(&asking("write a python function"), &cx())
        .await;
    assert_eq!(
        outcome,
        Err(TaskError::TimedOut(Duration::from_millis(100)))
    );
    assert_eq!(started.elapsed(), Duration::from_millis(100));
}

#[tokio::test]
async fn a_failed_preparation_is_tried_again_on_the_next_prompt() {
    let embedder = WordCounter::new(Duration::ZERO);
    embedder.failing.store(true, Ordering::SeqCst);
    let tasks = tasks(embedder.clone());
    let failed = tasks.prepare(&cx()).await;
    assert!(
        matches!(&failed, Err(TaskError::Embedder(message)) if message.contains("the encoder is down")),
        "{failed:?}"
    );
    embedder.failing.store(false, Ordering::SeqCst);
    assert_eq!(tasks.prepare(&cx()).await, Ok(3));
    assert_eq!(tasks.prepare(&cx()).await, Ok(3), "prepared once");
    assert_eq!(embedder.calls(), 2);
}

// === the semantic strategy in a plan ===

fn semantic_route(languages: &[(&'static str, &str)]) -> Route {
    let providers: Vec<Arc<dyn Provider>> = ["general", "coder", "translator"]
        .into_iter()
        .map(|id| {
            Arc::new(Described(info("test", id, Capabilities::default()))) as Arc<dyn Provider>
        })
        .collect();
    Route {
        strategy: Strategy::Semantic,
        tasks: Some(Arc::new(tasks(WordCounter::new(Duration::ZERO)))),
        languages: languages
            .iter()
            .map(|(code, id)| (*code, (*id).to_owned()))
            .collect(),
        ..Route::new("assistant", providers)
    }
}

fn planned(route: &Route, task: Option<TaskMatch>, policies: &Policies) -> (Vec<String>, String) {
    let needs = Needs {
        task,
        ..Needs::default()
    };
    let health = Health::new(BreakerSettings::default());
    let mut rng = fastrand::Rng::with_seed(1);
    let plan = plan(
        route,
        &needs,
        policies,
        Conditions {
            health: &health,
            rng: &mut rng,
        },
    )
    .expect("a plan");
    let ids = plan
        .candidates
        .iter()
        .map(|candidate| candidate.info().id.to_string())
        .collect();
    (ids, plan.reason)
}

fn code_task() -> Option<TaskMatch> {
    Some(TaskMatch {
        task: "code".into(),
        deployment: "coder".into(),
        similarity: 0.83,
    })
}

#[test]
fn the_tasks_deployment_goes_first_and_the_rest_stay_in_order() {
    let (ids, reason) = planned(&semantic_route(&[]), code_task(), &Policies::default());
    assert_eq!(ids, ["coder", "general", "translator"]);
    assert_eq!(
        reason,
        "semantic: the prompt is nearest to the `code` task (similarity 0.83), served by `coder`"
    );
    let (ids, reason) = planned(&semantic_route(&[]), None, &Policies::default());
    assert_eq!(ids, ["general", "coder", "translator"]);
    assert_eq!(
        reason,
        "semantic: no task recognised; `general` is first in order"
    );
}

#[test]
fn a_policy_still_wins_over_the_task() {
    let policy: Policy =
        serde_json::from_str(r#"{"deny_deployments": ["coder"]}"#).expect("a policy");
    let policies = Policies::default().with(PolicySource::Request, policy);
    let (ids, reason) = planned(&semantic_route(&[]), code_task(), &policies);
    assert_eq!(ids, ["general", "translator"]);
    assert!(
        reason.ends_with("but `coder` may not serve it; `general` is first in order"),
        "{reason}"
    );
}

#[test]
fn the_language_rule_overrides_the_task() {
    let route = semantic_route(&[("fra", "translator")]);
    let needs_french = Needs {
        language: Some("fra"),
        task: code_task(),
        ..Needs::default()
    };
    let health = Health::new(BreakerSettings::default());
    let mut rng = fastrand::Rng::with_seed(1);
    let plan = plan(
        &route,
        &needs_french,
        &Policies::default(),
        Conditions {
            health: &health,
            rng: &mut rng,
        },
    )
    .expect("a plan");
    let first = plan.candidates[0].info().id.to_string();
    assert_eq!(first, "translator");
    assert!(plan.reason.starts_with("language: a French prompt"));
}
