//! The behaviour every backend must show, as async functions over the traits.
//!
//! A backend's tests instantiate them with [`store_conformance!`] (keys, ledger, audit)
//! and [`limiter_conformance!`], given an expression that makes a fresh, empty backend.
//! The embedded and distributed backends run the same functions.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::audit::{AuditEntry, AuditLog};
use crate::keys::{AlertClaim, KeyFilter, KeyStore};
use crate::ledger::{GroupBy, Ledger, LedgerRecord, UsageQuery};
use crate::limiter::{Admission, Demand, Grant, Level, Limiter, RefusalReason, Used};
use crate::model::{Budget, GroupSettings, Key, KeySettings, Limits, Scope};
use crate::period::{Period, Window};

/// Instantiates the store suite; `$make` is an async expression giving an
/// `Arc<T>` where `T: KeyStore + Ledger + AuditLog`.
#[macro_export]
macro_rules! store_conformance {
    ($make:expr) => {
        #[tokio::test]
        async fn groups_and_keys() {
            let store = $make;
            $crate::conformance::groups_and_keys(store.as_ref()).await;
        }
        #[tokio::test]
        async fn alerts_are_claimed_once() {
            let store = $make;
            $crate::conformance::alerts_are_claimed_once(store.as_ref()).await;
        }
        #[tokio::test]
        async fn ledger_records_once_and_reports() {
            let store = $make;
            $crate::conformance::ledger_records_once_and_reports(store.as_ref()).await;
        }
        #[tokio::test]
        async fn audit_is_append_only_and_ordered() {
            let store = $make;
            $crate::conformance::audit_is_append_only_and_ordered(store.as_ref()).await;
        }
    };
}

/// Instantiates the limiter suite; `$make` is an async expression giving a fresh
/// `Arc<dyn Limiter>` with nothing counted.
#[macro_export]
macro_rules! limiter_conformance {
    ($make:expr) => {
        #[tokio::test]
        async fn requests_per_minute() {
            $crate::conformance::requests_per_minute($make).await;
        }
        #[tokio::test]
        async fn tokens_are_estimated_then_reconciled() {
            $crate::conformance::tokens_are_estimated_then_reconciled($make).await;
        }
        #[tokio::test]
        async fn parallel_leases() {
            $crate::conformance::parallel_leases($make).await;
        }
        #[tokio::test]
        async fn budgets_reserve_then_settle() {
            $crate::conformance::budgets_reserve_then_settle($make).await;
        }
        #[tokio::test]
        async fn the_strictest_level_refuses_and_holds_nothing() {
            $crate::conformance::the_strictest_level_refuses_and_holds_nothing($make).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn a_concurrent_burst_admits_exactly_the_limit() {
            $crate::conformance::a_concurrent_burst_admits_exactly_the_limit($make).await;
        }
    };
}

fn key_scope(id: &str) -> Scope {
    Scope::Key { key: id.into() }
}

fn level(scope: Scope, limits: Limits, budgets: Vec<Budget>) -> Level {
    Level {
        scope,
        limits,
        budgets,
    }
}

fn demand(id: &str, tokens: u64, max_cost: u64) -> Demand {
    Demand {
        request_id: id.into(),
        tokens,
        max_cost,
        ttl: Duration::from_secs(600),
    }
}

async fn granted(limiter: &dyn Limiter, levels: &[Level], demand: &Demand) -> Grant {
    match limiter
        .admit(levels, demand)
        .await
        .expect("the limiter answers")
    {
        Admission::Granted(grant) => grant,
        Admission::Refused(refusal) => panic!("{} was refused: {refusal}", demand.request_id),
    }
}

async fn refused(limiter: &dyn Limiter, levels: &[Level], demand: &Demand) -> crate::Refusal {
    match limiter
        .admit(levels, demand)
        .await
        .expect("the limiter answers")
    {
        Admission::Refused(refusal) => refusal,
        Admission::Granted(_) => panic!("{} was admitted", demand.request_id),
    }
}

pub async fn requests_per_minute(limiter: Arc<dyn Limiter>) {
    let limits = Limits {
        rpm: Some(5),
        ..Limits::default()
    };
    let levels = [level(key_scope("key_rpm"), limits, vec![])];
    for (n, left) in (0..5).zip((0..5).rev()) {
        let grant = granted(limiter.as_ref(), &levels, &demand(&format!("r{n}"), 1, 0)).await;
        let requests = grant.quota.requests.expect("a request quota");
        assert_eq!((requests.limit, requests.remaining), (5, left));
    }
    let refusal = refused(limiter.as_ref(), &levels, &demand("r5", 1, 0)).await;
    assert_eq!(refusal.reason, RefusalReason::Requests { limit: 5 });
    assert_eq!(refusal.scope, key_scope("key_rpm"));
    let retry = refusal.retry_after.expect("a retry time");
    assert!(
        retry > Duration::from_secs(11) && retry <= Duration::from_secs(12),
        "{retry:?}"
    );
}

pub async fn tokens_are_estimated_then_reconciled(limiter: Arc<dyn Limiter>) {
    let limits = Limits {
        tpm: Some(1_000),
        ..Limits::default()
    };
    let levels = [level(key_scope("key_tpm"), limits, vec![])];
    let first = granted(limiter.as_ref(), &levels, &demand("t1", 600, 0)).await;
    let tokens = first.quota.tokens.expect("a token quota");
    assert!((399..=400).contains(&tokens.remaining), "{tokens:?}");
    let refusal = refused(limiter.as_ref(), &levels, &demand("t2", 600, 0)).await;
    assert_eq!(refusal.reason, RefusalReason::Tokens { limit: 1_000 });
    // It used far less than estimated: the rest is given back.
    limiter
        .settle(
            &first,
            Used {
                tokens: 100,
                cost: 0,
            },
        )
        .await
        .expect("settles");
    granted(limiter.as_ref(), &levels, &demand("t3", 600, 0)).await;
    let too_large = refused(limiter.as_ref(), &levels, &demand("t4", 1_001, 0)).await;
    assert_eq!(
        too_large.reason,
        RefusalReason::TooLarge {
            limit: 1_000,
            tokens: 1_001
        }
    );
    assert_eq!(too_large.retry_after, None);
}

pub async fn parallel_leases(limiter: Arc<dyn Limiter>) {
    let limits = Limits {
        max_parallel: Some(2),
        ..Limits::default()
    };
    let levels = [level(key_scope("key_par"), limits, vec![])];
    let first = granted(limiter.as_ref(), &levels, &demand("p1", 1, 0)).await;
    granted(limiter.as_ref(), &levels, &demand("p2", 1, 0)).await;
    let refusal = refused(limiter.as_ref(), &levels, &demand("p3", 1, 0)).await;
    assert_eq!(refusal.reason, RefusalReason::Parallel { limit: 2 });
    limiter
        .settle(&first, Used::default())
        .await
        .expect("settles");
    granted(limiter.as_ref(), &levels, &demand("p3", 1, 0)).await;
}

pub async fn budgets_reserve_then_settle(limiter: Arc<dyn Limiter>) {
    let budget = Budget {
        micro_usd: 1_000,
        period: Period::Month,
    };
    let levels = [level(
        key_scope("key_budget"),
        Limits::default(),
        vec![budget],
    )];
    let first = granted(limiter.as_ref(), &levels, &demand("b1", 1, 600)).await;
    assert_eq!(first.reserved, 600);
    let refusal = refused(limiter.as_ref(), &levels, &demand("b2", 1, 600)).await;
    assert!(refusal.is_budget(), "{refusal}");
    assert!(
        refusal.retry_after.expect("the month's end") <= Duration::from_secs(31 * 86_400),
        "{refusal:?}"
    );
    assert_eq!(
        limiter.spend(&levels[0]).await.expect("spend"),
        vec![(budget, 0, 600)]
    );
    let spends = limiter
        .settle(
            &first,
            Used {
                tokens: 1,
                cost: 300,
            },
        )
        .await
        .expect("settles");
    assert_eq!(spends.len(), 1);
    assert_eq!((spends[0].before, spends[0].after), (0, 300));
    let second = granted(limiter.as_ref(), &levels, &demand("b2", 1, 600)).await;
    assert_eq!(
        limiter.spend(&levels[0]).await.expect("spend"),
        vec![(budget, 300, 600)]
    );
    limiter
        .settle(
            &second,
            Used {
                tokens: 1,
                cost: 700,
            },
        )
        .await
        .expect("settles");
    // Spent in full (1000 of 1000): even a free request is refused now.
    let exhausted = refused(limiter.as_ref(), &levels, &demand("b3", 1, 0)).await;
    assert!(exhausted.is_budget(), "{exhausted}");
}

pub async fn the_strictest_level_refuses_and_holds_nothing(limiter: Arc<dyn Limiter>) {
    let org = level(
        Scope::Org { org: "acme".into() },
        Limits {
            rpm: Some(2),
            ..Limits::default()
        },
        vec![],
    );
    let key = level(
        key_scope("key_strict"),
        Limits {
            rpm: Some(3),
            max_parallel: Some(10),
            ..Limits::default()
        },
        vec![Budget {
            micro_usd: 10,
            period: Period::Total,
        }],
    );
    let both = [org.clone(), key.clone()];
    let grant = granted(limiter.as_ref(), &both, &demand("s1", 1, 1)).await;
    assert_eq!(
        grant.quota.requests.map(|r| (r.limit, r.remaining)),
        Some((2, 1))
    );
    granted(limiter.as_ref(), &both, &demand("s2", 1, 1)).await;
    let refusal = refused(limiter.as_ref(), &both, &demand("s3", 1, 1)).await;
    assert_eq!(refusal.scope, org.scope);
    // The key was charged for two requests, not three: one more fits on its own.
    assert_eq!(
        limiter.spend(&key).await.expect("spend"),
        vec![(key.budgets[0], 0, 2)]
    );
    granted(
        limiter.as_ref(),
        std::slice::from_ref(&key),
        &demand("s4", 1, 1),
    )
    .await;
    refused(limiter.as_ref(), &[key], &demand("s5", 1, 1)).await;
}

pub async fn a_concurrent_burst_admits_exactly_the_limit(limiter: Arc<dyn Limiter>) {
    let levels = Arc::new([level(
        key_scope("key_burst"),
        Limits {
            rpm: Some(20),
            ..Limits::default()
        },
        vec![Budget {
            micro_usd: 1_000_000,
            period: Period::Day,
        }],
    )]);
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let (limiter, levels) = (limiter.clone(), levels.clone());
            tokio::spawn(async move {
                limiter
                    .admit(levels.as_slice(), &demand(&format!("c{n}"), 1, 1_000))
                    .await
                    .expect("the limiter answers")
            })
        })
        .collect();
    let mut admitted = 0;
    for task in tasks {
        if matches!(task.await.expect("joins"), Admission::Granted(_)) {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 20);
    assert_eq!(
        limiter.spend(&levels[0]).await.expect("spend")[0].2,
        20_000,
        "reserved once per admitted request"
    );
}

fn sample_key(id: &str, hash: &str, org: &str, team: Option<&str>, created_at: i64) -> Key {
    Key {
        id: id.into(),
        settings: KeySettings {
            name: Some(format!("{id} name")),
            models: vec!["smollm2".into()],
            policy: Some(json!({"jurisdictions": ["EU"]})),
            limits: Limits {
                rpm: Some(600),
                tpm: Some(200_000),
                max_parallel: None,
            },
            budgets: vec!["50usd/month".parse().expect("a budget")],
            expires_at: Some(4_000_000_000_000),
            metadata: json!({"owner": "ana"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        },
        org: org.into(),
        team: team.map(Into::into),
        secret_hash: hash.into(),
        last4: "wxyz".into(),
        created_at,
        revoked_at: None,
        rotated_from: None,
    }
}

pub async fn groups_and_keys(store: &dyn KeyStore) {
    let settings = GroupSettings {
        limits: Limits {
            rpm: Some(1_000),
            ..Limits::default()
        },
        budgets: vec!["1000usd/month".parse().expect("a budget")],
        metadata: Default::default(),
    };
    let org = store
        .put_group("acme", None, &settings, 10)
        .await
        .expect("creates the organisation");
    assert_eq!((org.created_at, org.updated_at), (10, 10));
    store
        .put_group("acme", Some("research"), &GroupSettings::default(), 11)
        .await
        .expect("creates the team");
    store
        .put_group("beta", None, &GroupSettings::default(), 12)
        .await
        .expect("creates another organisation");
    let updated = store
        .put_group("acme", None, &GroupSettings::default(), 20)
        .await
        .expect("updates");
    assert_eq!((updated.created_at, updated.updated_at), (10, 20));
    assert!(updated.limits.is_empty());
    let names: Vec<_> = store
        .groups()
        .await
        .expect("lists")
        .into_iter()
        .map(|group| group.scope().id())
        .collect();
    assert_eq!(names, ["org:acme", "team:acme/research", "org:beta"]);
    assert_eq!(
        store.group("acme", Some("nope")).await.expect("reads"),
        None
    );

    let first = sample_key("key_1", "hash1", "acme", Some("research"), 100);
    let second = sample_key("key_2", "hash2", "beta", None, 200);
    store.insert_key(&first).await.expect("inserts");
    store.insert_key(&second).await.expect("inserts");
    assert!(
        store.insert_key(&first).await.is_err(),
        "an id is not reused"
    );
    assert_eq!(
        store.key("key_1").await.expect("reads"),
        Some(first.clone())
    );
    assert_eq!(
        store.key_by_hash("hash2").await.expect("reads"),
        Some(second.clone())
    );
    assert_eq!(store.key_by_hash("nope").await.expect("reads"), None);
    let principal = store
        .principal("hash1")
        .await
        .expect("reads")
        .expect("a principal");
    assert_eq!(principal.org.org, "acme");
    assert_eq!(
        principal.team.map(|team| team.scope().id()),
        Some("team:acme/research".to_owned())
    );

    let all = store.keys(&KeyFilter::default()).await.expect("lists");
    assert_eq!(all, [first.clone(), second.clone()]);
    let acme = store
        .keys(&KeyFilter {
            org: Some("acme".into()),
            ..KeyFilter::default()
        })
        .await
        .expect("lists");
    assert_eq!(acme, std::slice::from_ref(&first));

    let mut settings = first.settings.clone();
    settings.models = vec![];
    settings.limits.rpm = Some(5);
    let changed = store
        .update_key("key_1", &settings)
        .await
        .expect("updates")
        .expect("exists");
    assert_eq!(changed.settings, settings);
    assert_eq!(
        store.update_key("key_9", &settings).await.expect("answers"),
        None
    );

    let revoked = store
        .revoke_key("key_1", 500)
        .await
        .expect("revokes")
        .expect("exists");
    assert_eq!(revoked.revoked_at, Some(500));
    let again = store
        .revoke_key("key_1", 900)
        .await
        .expect("revokes")
        .expect("exists");
    assert_eq!(again.revoked_at, Some(500), "the earlier revocation stands");
    let sooner = store
        .revoke_key("key_1", 300)
        .await
        .expect("revokes")
        .expect("exists");
    assert_eq!(sooner.revoked_at, Some(300), "a sooner one replaces it");
    let live = store.keys(&KeyFilter::default()).await.expect("lists");
    assert_eq!(
        live,
        std::slice::from_ref(&second),
        "revoked keys are left out"
    );
    let with_revoked = store
        .keys(&KeyFilter {
            revoked: true,
            ..KeyFilter::default()
        })
        .await
        .expect("lists");
    assert_eq!(with_revoked.len(), 2);
}

pub async fn alerts_are_claimed_once(store: &dyn KeyStore) {
    let claim = AlertClaim {
        scope: "key:key_1".into(),
        period: Period::Month,
        window_start: 1_000,
        threshold: 80,
    };
    assert!(store.claim_alert(&claim).await.expect("claims"));
    assert!(!store.claim_alert(&claim).await.expect("claims"));
    let next = AlertClaim {
        threshold: 100,
        ..claim.clone()
    };
    assert!(store.claim_alert(&next).await.expect("claims"));
    let next_month = AlertClaim {
        window_start: 2_000,
        ..claim
    };
    assert!(store.claim_alert(&next_month).await.expect("claims"));
}

/// A record of `cost` micro-USD for `key` (in `acme`/`research`) at `at`.
pub fn record(id: &str, key: Option<&str>, model: &str, at: i64, cost: u64) -> LedgerRecord {
    LedgerRecord {
        id: id.into(),
        request_id: format!("req-{id}"),
        at,
        key: key.map(Into::into),
        org: key.map(|_| "acme".into()),
        team: key.map(|_| "research".into()),
        model: model.into(),
        deployment: Some(format!("{model}-deployment")),
        provider: Some("openai".into()),
        route: "chat".into(),
        input_tokens: 10,
        output_tokens: 5,
        cached_tokens: 2,
        reasoning_tokens: 1,
        price_version: "catalog:2026-11-01".into(),
        cost,
        latency_ms: 120,
        ttft_ms: Some(40),
        status: 200,
        stream: true,
        usage_estimated: false,
        cancelled_calls: 0,
    }
}

const DAY: i64 = 86_400_000;
/// 2026-11-22T00:00Z.
const NOV_22: i64 = 1_795_305_600_000;

pub async fn ledger_records_once_and_reports(ledger: &dyn Ledger) {
    let mut failed = record("r4", Some("key_b"), "gpt-4o", NOV_22 + DAY + 5, 0);
    failed.status = 502;
    let records = vec![
        record("r1", Some("key_a"), "smollm2", NOV_22 + 1, 100),
        record("r2", Some("key_a"), "gpt-4o", NOV_22 + 2, 2_000),
        record("r3", None, "gpt-4o", NOV_22 + DAY + 1, 50),
        failed,
    ];
    ledger.append(&records).await.expect("appends");
    // Written again (a retried batch, a replayed spill): still once each.
    ledger.append(&records[1..3]).await.expect("appends");
    let stored = ledger
        .records(&UsageQuery::default(), 100)
        .await
        .expect("reads");
    assert_eq!(stored, records);

    let by_model = ledger
        .usage(&UsageQuery {
            group_by: Some(GroupBy::Model),
            ..UsageQuery::default()
        })
        .await
        .expect("reports");
    let summary: Vec<_> = by_model
        .iter()
        .map(|row| (row.group.as_deref(), row.requests, row.errors, row.cost))
        .collect();
    assert_eq!(
        summary,
        [(Some("gpt-4o"), 3, 1, 2_050), (Some("smollm2"), 1, 0, 100)]
    );
    assert_eq!(by_model[0].input_tokens, 30);
    assert_eq!(by_model[0].cached_tokens, 6);

    let by_day = ledger
        .usage(&UsageQuery {
            group_by: Some(GroupBy::Day),
            from: Some(NOV_22),
            to: Some(NOV_22 + 2 * DAY),
            ..UsageQuery::default()
        })
        .await
        .expect("reports");
    let days: Vec<_> = by_day
        .iter()
        .map(|row| (row.group.as_deref(), row.requests, row.cost))
        .collect();
    assert_eq!(
        days,
        [(Some("2026-11-22"), 2, 2_100), (Some("2026-11-23"), 2, 50)]
    );

    let by_key_on_day_one = ledger
        .usage(&UsageQuery {
            group_by: Some(GroupBy::Key),
            from: Some(NOV_22),
            to: Some(NOV_22 + DAY),
            ..UsageQuery::default()
        })
        .await
        .expect("reports");
    assert_eq!(by_key_on_day_one.len(), 1);
    assert_eq!(by_key_on_day_one[0].group.as_deref(), Some("key_a"));

    let total = ledger.usage(&UsageQuery::default()).await.expect("reports");
    assert_eq!(total.len(), 1);
    assert_eq!((total[0].group.as_deref(), total[0].requests), (None, 4));

    let only_key_b = ledger
        .records(
            &UsageQuery {
                key: Some("key_b".into()),
                ..UsageQuery::default()
            },
            10,
        )
        .await
        .expect("reads");
    assert_eq!(only_key_b.len(), 1);

    let window = |start, end| Window {
        start,
        end: Some(end),
    };
    let spent = |scope: Scope, window: Window| async move {
        ledger.spent(&scope, window).await.expect("sums")
    };
    assert_eq!(
        spent(key_scope("key_a"), window(NOV_22, NOV_22 + DAY)).await,
        2_100
    );
    assert_eq!(
        spent(key_scope("key_a"), window(NOV_22 + 2, NOV_22 + DAY)).await,
        2_000
    );
    assert_eq!(
        spent(
            Scope::Team {
                org: "acme".into(),
                team: "research".into()
            },
            Window {
                start: 0,
                end: None
            }
        )
        .await,
        2_100
    );
    assert_eq!(
        spent(
            Scope::Org { org: "acme".into() },
            window(0, NOV_22 + 3 * DAY)
        )
        .await,
        2_100
    );
}

pub async fn audit_is_append_only_and_ordered(log: &dyn AuditLog) {
    let entry = |at, action: &str| AuditEntry {
        at,
        actor: "master:0123abcd".into(),
        action: action.into(),
        target: "key_1".into(),
        before: None,
        after: Some(json!({"id": "key_1"})),
    };
    for (at, action) in [(1, "key.create"), (2, "key.update"), (3, "key.revoke")] {
        log.append(&entry(at, action)).await.expect("appends");
    }
    let all = log.entries(None, 100).await.expect("reads");
    assert_eq!(
        all,
        [
            entry(1, "key.create"),
            entry(2, "key.update"),
            entry(3, "key.revoke")
        ]
    );
    let recent = log.entries(Some(2), 1).await.expect("reads");
    assert_eq!(recent, [entry(2, "key.update")]);
}

#[cfg(test)]
mod memory {
    crate::limiter_conformance!(std::sync::Arc::new(crate::MemoryLimiter::new()));
}
