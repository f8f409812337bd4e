//! Budget alerts: when a settlement carries a budget's spend across one of the
//! `[governance] alert_at` percentages, the crossing is claimed in the store (so only
//! one replica sends it, once per window) and POSTed to `alert_webhook` as JSON.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::json;
use switchyard_governance::{AlertClaim, Spend};

use crate::state::AppState;

/// Tries per alert, with a doubling pause between them.
const ATTEMPTS: u32 = 3;

static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        // A webhook URL often embeds a token; never follow it elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
});

/// The thresholds (percent) that `spend` crossed.
pub fn crossed(spend: &Spend, thresholds: &[u32]) -> Vec<u32> {
    thresholds
        .iter()
        .copied()
        .filter(|&percent| {
            let level = u128::from(spend.budget.micro_usd) * u128::from(percent) / 100;
            u128::from(spend.before) < level && u128::from(spend.after) >= level
        })
        .collect()
}

pub async fn check(state: &AppState, spends: &[Spend]) {
    let thresholds = &state.governance_config().alert_at;
    for spend in spends {
        for percent in crossed(spend, thresholds) {
            let claim = AlertClaim {
                scope: spend.scope.id(),
                period: spend.budget.period,
                window_start: spend.window.start,
                threshold: percent,
            };
            match state.governance().keys().claim_alert(&claim).await {
                Ok(true) => send(state, spend, percent).await,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "Cannot claim a budget alert."),
            }
        }
    }
}

async fn send(state: &AppState, spend: &Spend, percent: u32) {
    let to_usd = |micro: u64| micro as f64 / 1e6;
    tracing::warn!(
        scope = %spend.scope,
        budget = %spend.budget,
        percent,
        spent_usd = to_usd(spend.after),
        "A budget crossed an alert threshold."
    );
    state
        .metrics()
        .budget_alerts
        .get_or_create(&crate::metrics::AlertLabels {
            level: spend.scope.level(),
        })
        .inc();
    let Some(webhook) = &state.governance_config().alert_webhook else {
        return;
    };
    let event = json!({
        "type": "budget.threshold",
        "scope": spend.scope,
        "budget": spend.budget.to_string(),
        "period": spend.budget.period,
        "window_start_ms": spend.window.start,
        "window_end_ms": spend.window.end,
        "threshold_percent": percent,
        "spent_usd": to_usd(spend.after),
        "limit_usd": spend.budget.usd(),
    });
    let mut pause = Duration::from_secs(1);
    for attempt in 1..=ATTEMPTS {
        match CLIENT.post(webhook).json(&event).send().await {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => tracing::warn!(
                status = response.status().as_u16(),
                attempt,
                "The budget alert webhook refused an alert."
            ),
            // The URL is not logged: it may carry a token.
            Err(error) => tracing::warn!(
                error = %error.without_url(),
                attempt,
                "Cannot reach the budget alert webhook."
            ),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    state.metrics().budget_alert_failures.inc();
}

#[cfg(test)]
mod tests {
    use switchyard_governance::{Budget, Period, Scope, Window};

    use super::*;

    #[test]
    fn a_settlement_crosses_each_threshold_between_before_and_after() {
        let spend = |before, after| Spend {
            scope: Scope::Key {
                key: "key_a".into(),
            },
            budget: Budget {
                micro_usd: 1_000,
                period: Period::Month,
            },
            window: Window {
                start: 0,
                end: None,
            },
            before,
            after,
        };
        assert_eq!(crossed(&spend(0, 400), &[50, 80, 100]), Vec::<u32>::new());
        assert_eq!(crossed(&spend(400, 500), &[50, 80, 100]), [50]);
        assert_eq!(crossed(&spend(499, 1_200), &[50, 80, 100]), [50, 80, 100]);
        assert_eq!(crossed(&spend(500, 700), &[50, 80, 100]), Vec::<u32>::new());
    }
}
