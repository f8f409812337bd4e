//! The records: organisations, teams and keys, and the limits and budgets each carries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::period::Period;

/// Unix time in milliseconds, as every record stores it.
pub type Millis = i64;

/// One millionth of a US dollar: money is an integer everywhere but on screen.
pub type MicroUsd = u64;

pub const MICROS_PER_USD: u64 = 1_000_000;

/// Rate limits of one level; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Requests per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpm: Option<u64>,
    /// Tokens per minute: the request's estimate when it is admitted, its real usage
    /// once answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpm: Option<u64>,
    /// Requests in flight at once (a stream counts until its last event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u64>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }
}

/// At most `micro_usd` spent per `period`. Written, stored and shown as people write
/// it: `"50usd/month"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Budget {
    pub micro_usd: MicroUsd,
    pub period: Period,
}

impl Budget {
    pub fn usd(&self) -> f64 {
        self.micro_usd as f64 / MICROS_PER_USD as f64
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}usd/{}", format_usd(self.micro_usd), self.period)
    }
}

impl TryFrom<String> for Budget {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Budget> for String {
    fn from(budget: Budget) -> Self {
        budget.to_string()
    }
}

/// Dollars without trailing zeros: `50`, `0.25`, `12.5`.
pub fn format_usd(micro_usd: MicroUsd) -> String {
    let whole = micro_usd / MICROS_PER_USD;
    let fraction = micro_usd % MICROS_PER_USD;
    if fraction == 0 {
        return whole.to_string();
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A budget as people write it: `50usd/month`, `0.5usd/day`, `1000usd/total`.
impl FromStr for Budget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || {
            format!(
                "`{text}` is not a budget; write an amount and a period, like `50usd/month` \
                 (periods: day, week, month, total)"
            )
        };
        let (amount, period) = text.trim().split_once('/').ok_or_else(malformed)?;
        let amount = amount.trim();
        let amount = amount
            .strip_suffix("usd")
            .or_else(|| amount.strip_suffix("USD"))
            .or_else(|| amount.strip_prefix('$'))
            .unwrap_or(amount)
            .trim();
        let micro_usd = parse_usd(amount).ok_or_else(malformed)?;
        let period = period.trim().parse::<Period>().map_err(|_| malformed())?;
        Ok(Budget { micro_usd, period })
    }
}

/// `12.345678` dollars as micro-USD, exactly; more than six decimals is refused rather
/// than rounded.
pub fn parse_usd(text: &str) -> Option<MicroUsd> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.len() > 6 {
        return None;
    }
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: u64 = format!("{fraction:0<6}").parse().ok()?;
    whole.checked_mul(MICROS_PER_USD)?.checked_add(fraction)
}

/// Where limits and budgets apply: an organisation, one of its teams, or a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "level", rename_all = "snake_case")]
pub enum Scope {
    Org { org: String },
    Team { org: String, team: String },
    Key { key: String },
}

impl Scope {
    /// A stable text form, for counters' names and stored rows: `org:acme`,
    /// `team:acme/research`, `key:key_…`.
    pub fn id(&self) -> String {
        match self {
            Scope::Org { org } => format!("org:{org}"),
            Scope::Team { org, team } => format!("team:{org}/{team}"),
            Scope::Key { key } => format!("key:{key}"),
        }
    }

    pub fn level(&self) -> &'static str {
        match self {
            Scope::Org { .. } => "organisation",
            Scope::Team { .. } => "team",
            Scope::Key { .. } => "key",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Org { org } => write!(f, "organisation `{org}`"),
            Scope::Team { org, team } => write!(f, "team `{org}/{team}`"),
            Scope::Key { key } => write!(f, "key `{key}`"),
        }
    }
}

/// An organisation (a tenant), or a team within one: a name, and the limits and
/// budgets everything under it shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub org: String,
    /// `None` for the organisation itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub budgets: Vec<Budget>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

impl Group {
    pub fn scope(&self) -> Scope {
        match &self.team {
            None => Scope::Org {
                org: self.org.clone(),
            },
            Some(team) => Scope::Team {
                org: self.org.clone(),
                team: team.clone(),
            },
        }
    }
}

/// What an organisation or team is set to; the rest of [`Group`] is kept by the store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSettings {
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub budgets: Vec<Budget>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

/// A virtual key, as stored: never its secret, only the secret's SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Key {
    /// Public, stable, safe to log: `key_` and 16 hex digits.
    pub id: String,
    #[serde(flatten)]
    pub settings: KeySettings,
    pub org: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Lower-case hex SHA-256 of the secret.
    #[serde(skip_serializing)]
    pub secret_hash: String,
    /// The secret's last four characters, so people can tell keys apart.
    pub last4: String,
    pub created_at: Millis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Millis>,
    /// The key this one replaced, when it was made by rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_from: Option<String>,
}

/// What a key is allowed and held to, as set at creation and changed by updates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Public model names the key may call; empty means all.
    #[serde(default)]
    pub models: Vec<String>,
    /// A routing policy, in the router's JSON form, under every request the key sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub budgets: Vec<Budget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Millis>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

impl Key {
    pub fn scope(&self) -> Scope {
        Scope::Key {
            key: self.id.clone(),
        }
    }

    /// Why the key cannot be used at `now`, if it cannot.
    pub fn unusable_at(&self, now: Millis) -> Option<&'static str> {
        if self.revoked_at.is_some_and(|revoked| revoked <= now) {
            return Some("revoked");
        }
        if self
            .settings
            .expires_at
            .is_some_and(|expires| expires <= now)
        {
            return Some("expired");
        }
        None
    }

    pub fn allows_model(&self, model: &str) -> bool {
        self.settings.models.is_empty() || self.settings.models.iter().any(|name| name == model)
    }
}

/// A key and the groups above it: what a request presenting it is held to.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub key: Key,
    pub org: Group,
    pub team: Option<Group>,
}

impl Principal {
    /// Every level with its limits and budgets, the organisation first.
    pub fn levels(&self) -> Vec<crate::Level> {
        let mut levels = vec![crate::Level {
            scope: self.org.scope(),
            limits: self.org.limits,
            budgets: self.org.budgets.clone(),
        }];
        if let Some(team) = &self.team {
            levels.push(crate::Level {
                scope: team.scope(),
                limits: team.limits,
                budgets: team.budgets.clone(),
            });
        }
        levels.push(crate::Level {
            scope: self.key.scope(),
            limits: self.key.settings.limits,
            budgets: self.key.settings.budgets.clone(),
        });
        levels
    }
}

/// A name people give an organisation or team: it appears in ids and URLs.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{what} `{name}` is not a valid name: use 1 to 64 letters, digits, `-`, `_` or `.`, \
             starting with a letter or digit"
        ))
    }
}

/// Tokens at a price in US dollars per million tokens, in micro-USD, rounded up: a
/// price per million tokens in dollars is exactly a price per token in micro-dollars.
pub fn cost_micro_usd(tokens: u64, usd_per_million: f64) -> MicroUsd {
    if !(usd_per_million.is_finite() && usd_per_million > 0.0) {
        return 0;
    }
    (tokens as f64 * usd_per_million).ceil() as MicroUsd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_as_written_and_print_back() {
        let budget: Budget = "50usd/month".parse().expect("parses");
        assert_eq!(
            budget,
            Budget {
                micro_usd: 50_000_000,
                period: Period::Month
            }
        );
        assert_eq!(budget.to_string(), "50usd/month");
        let small: Budget = "$0.25/day".parse().expect("parses");
        assert_eq!(small.micro_usd, 250_000);
        assert_eq!(small.to_string(), "0.25usd/day");
        assert_eq!(
            "12.000001 USD / week"
                .parse::<Budget>()
                .map(|b| b.micro_usd),
            Ok(12_000_001)
        );
        for wrong in [
            "50usd",
            "50usd/year",
            "fifty/month",
            "1.0000001usd/day",
            "/day",
            "-1usd/day",
        ] {
            let error = wrong.parse::<Budget>().expect_err(wrong);
            assert!(error.contains("50usd/month"), "{error}");
        }
    }

    #[test]
    fn cost_is_price_per_million_in_micro_dollars_rounded_up() {
        assert_eq!(cost_micro_usd(1_000, 2.5), 2_500);
        assert_eq!(cost_micro_usd(3, 0.15), 1);
        assert_eq!(cost_micro_usd(1_000_000, 10.0), 10_000_000);
        assert_eq!(cost_micro_usd(100, 0.0), 0);
        assert_eq!(cost_micro_usd(100, f64::NAN), 0);
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("organisation", "acme-eu.prod_1").is_ok());
        for wrong in ["", "-acme", "a b", "acme/x", &"x".repeat(65)] {
            assert!(check_name("organisation", wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn a_key_is_unusable_once_revoked_or_expired() {
        let mut key = Key {
            id: "key_1".into(),
            settings: KeySettings::default(),
            org: "acme".into(),
            team: None,
            secret_hash: String::new(),
            last4: "abcd".into(),
            created_at: 0,
            revoked_at: None,
            rotated_from: None,
        };
        assert_eq!(key.unusable_at(10), None);
        key.settings.expires_at = Some(10);
        assert_eq!(key.unusable_at(9), None);
        assert_eq!(key.unusable_at(10), Some("expired"));
        key.revoked_at = Some(5);
        assert_eq!(key.unusable_at(10), Some("revoked"));
        assert!(key.allows_model("anything"));
        key.settings.models = vec!["smollm2".into()];
        assert!(key.allows_model("smollm2") && !key.allows_model("gpt-4o"));
    }
}
