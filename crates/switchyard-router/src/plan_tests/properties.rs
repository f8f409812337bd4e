//! Random catalogs, layered policies and request shapes: what no plan may offer.

use proptest::prelude::*;
use proptest::strategy::Strategy as _;

use super::*;
use crate::strategy::Strategy;

pub(super) const PROVIDERS: [&str; 4] = ["openai", "anthropic", "gemini", "local"];
const PLACES: [&str; 5] = ["US", "FR", "DE", "SE", "EU"];

fn capabilities() -> impl proptest::strategy::Strategy<Value = Capabilities> {
    proptest::array::uniform7(any::<bool>()).prop_map(|flags| Capabilities {
        chat: flags[0],
        streaming: flags[1],
        tools: flags[2],
        vision: flags[3],
        json_schema: flags[4],
        embeddings: flags[5],
        completions: flags[6],
    })
}

fn place() -> impl proptest::strategy::Strategy<Value = Option<Jurisdiction>> {
    proptest::option::of((0..PLACES.len()).prop_map(|index| jurisdiction(PLACES[index])))
}

pub(super) fn profile() -> impl proptest::strategy::Strategy<Value = Profile> {
    (
        place(),
        place(),
        prop_oneof![
            Just(Retention::Zero),
            Just(Retention::Days(30)),
            Just(Retention::Unknown)
        ],
        proptest::option::of((0.0..20.0f64, 0.0..60.0f64)),
        proptest::option::of(1_000..200_000u64),
    )
        .prop_map(
            |(jurisdiction, hosted_in, retention, price_pair, context_window)| Profile {
                jurisdiction,
                hosted_in,
                region: None,
                retention,
                price: price_pair.map(|(input, output)| price(input, output)),
                context_window,
            },
        )
}

/// A random catalog: each deployment's provider, capabilities and profile.
pub(super) fn catalog()
-> impl proptest::strategy::Strategy<Value = Vec<(usize, Capabilities, Profile)>> {
    proptest::collection::vec((0..PROVIDERS.len(), capabilities(), profile()), 0..8)
}

fn names(indices: Vec<usize>, prefix: &str) -> Vec<String> {
    indices
        .into_iter()
        .map(|index| format!("{prefix}{index}"))
        .collect()
}

pub(super) fn policy() -> impl proptest::strategy::Strategy<Value = Policy> {
    let providers = proptest::collection::vec(0..PROVIDERS.len(), 0..3).prop_map(|indices| {
        indices
            .into_iter()
            .map(|index| PROVIDERS[index].to_owned())
            .collect::<Vec<_>>()
    });
    let deployments = proptest::collection::vec(0..8usize, 0..3);
    let places = proptest::collection::vec(0..PLACES.len(), 0..2);
    let lists = (
        providers.clone(),
        providers,
        deployments.clone(),
        deployments,
    );
    let rules = (
        places.clone(),
        places,
        proptest::option::of(prop_oneof![Just(0u32), Just(30), Just(90)]),
        proptest::option::of(0.0..20.0f64),
        proptest::option::of(0.0..60.0f64),
        proptest::collection::vec(
            prop_oneof![
                Just(Capability::Tools),
                Just(Capability::Vision),
                Just(Capability::JsonOutput),
                Just(Capability::Streaming)
            ],
            0..2,
        ),
    );
    (lists, rules).prop_map(
        |(
            (allow_providers, deny_providers, allow, deny),
            (jurisdictions, hosted, retention, input_price, output_price, require),
        )| Policy {
            allow_providers,
            deny_providers,
            allow_deployments: names(allow, "d"),
            deny_deployments: names(deny, "d"),
            jurisdictions: jurisdictions
                .into_iter()
                .map(|index| jurisdiction(PLACES[index]))
                .collect(),
            hosted_in: hosted
                .into_iter()
                .map(|index| Place(jurisdiction(PLACES[index])))
                .collect(),
            max_retention_days: retention,
            max_input_price: input_price,
            max_output_price: output_price,
            require,
            ..Policy::default()
        },
    )
}

/// Up to three layers, as operator, key and request.
pub(super) fn policies() -> impl proptest::strategy::Strategy<Value = Policies> {
    proptest::collection::vec(policy(), 0..3).prop_map(|layers| {
        let sources = [
            PolicySource::Config,
            PolicySource::Key,
            PolicySource::Request,
        ];
        layers
            .into_iter()
            .zip(sources)
            .fold(Policies::default(), |policies, (policy, source)| {
                policies.with(source, policy)
            })
    })
}

pub(super) fn needs() -> impl proptest::strategy::Strategy<Value = Needs> {
    (
        proptest::array::uniform6(any::<bool>()),
        0..300_000u64,
        proptest::option::of(0..10_000u64),
        // The task the prompt resembles, pointing at any deployment (or none).
        proptest::option::of((0..8usize, -1.0..1.0f32)),
    )
        .prop_map(|(flags, input_tokens, max_output_tokens, task)| Needs {
            input_tokens,
            max_output_tokens,
            text_completion: flags[0],
            streaming: flags[1],
            tools: flags[2],
            vision: flags[3],
            json_output: flags[4],
            embeddings: flags[5],
            language: None,
            task: task.map(|(index, similarity)| crate::task::TaskMatch {
                task: "t".into(),
                deployment: format!("d{index}"),
                similarity,
            }),
        })
}

pub(super) fn build(
    catalog: &[(usize, Capabilities, Profile)],
    strategy: Strategy,
    provider: impl Fn(usize, &str, Capabilities) -> Arc<dyn Provider>,
) -> Route {
    with(
        catalog
            .iter()
            .enumerate()
            .map(|(index, (provider_index, can, profile))| {
                let mut deployment = profiled(
                    provider(*provider_index, &format!("d{index}"), can.clone()),
                    profile.clone(),
                );
                deployment.weight = index as u32 % 3;
                deployment.quality = (index % 2 == 0).then_some(index as f64 / 10.0);
                deployment
            })
            .collect(),
        strategy,
    )
}

fn strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    (0..Strategy::ALL.len()).prop_map(|index| Strategy::ALL[index])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Every deployment is either a candidate that every policy layer allows, that
    /// can serve the request and whose window holds it, or excluded with a reason;
    /// the strategy only reorders candidates; no candidates means a refusal naming
    /// every deployment.
    #[test]
    fn a_plan_never_offers_what_a_policy_forbids_or_a_deployment_cannot_do(
        catalog in catalog(),
        policies in policies(),
        needs in needs(),
        strategy in strategy(),
        seed in any::<u64>(),
    ) {
        let route = build(&catalog, strategy, |provider, id, can| on(PROVIDERS[provider], id, can));
        let planned = plan(&route, &needs, &policies, Conditions {
            health: &Health::default(),
            rng: &mut fastrand::Rng::with_seed(seed),
        });
        match planned {
            Ok(planned) => {
                prop_assert!(!planned.candidates.is_empty());
                for candidate in &planned.candidates {
                    prop_assert_eq!(policies.forbids(candidate), None);
                    prop_assert_eq!(needs.unmet_by(&candidate.info().capabilities), None);
                    prop_assert_eq!(needs.overflows(candidate), None);
                }
                let mut seen: Vec<&str> = planned
                    .candidates
                    .iter()
                    .map(|c| c.info().id.as_str())
                    .chain(planned.excluded.iter().map(|e| e.deployment.id.as_str()))
                    .collect();
                seen.sort_unstable();
                seen.dedup();
                prop_assert_eq!(seen.len(), catalog.len(), "each deployment once");
                if strategy == Strategy::Priority {
                    let order: Vec<usize> = planned
                        .candidates
                        .iter()
                        .map(|c| c.info().id.as_str()[1..].parse().unwrap_or(usize::MAX))
                        .collect();
                    prop_assert!(order.windows(2).all(|pair| pair[0] < pair[1]));
                }
            }
            Err(refused) => {
                prop_assert_eq!(refused.excluded.len(), catalog.len());
                for exclusion in &refused.excluded {
                    let deployment = route
                        .deployments
                        .iter()
                        .find(|d| d.info().id == exclusion.deployment.id)
                        .expect("from the route");
                    let allowed = policies.forbids(deployment).is_none();
                    let capable = needs.unmet_by(&deployment.info().capabilities).is_none();
                    let fits = needs.overflows(deployment).is_none();
                    prop_assert!(!(allowed && capable && fits), "{:?} was refused", exclusion);
                }
            }
        }
    }
}
