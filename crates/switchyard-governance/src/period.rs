//! Budget periods: calendar days, ISO weeks and months in UTC, or all time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, Time};

use crate::model::Millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    /// Monday to Sunday.
    Week,
    Month,
    /// Never resets.
    Total,
}

/// The stretch of time one budget's spend is counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    pub start: Millis,
    /// `None` for [`Period::Total`].
    pub end: Option<Millis>,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Day, Period::Week, Period::Month, Period::Total];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
            Period::Total => "total",
        }
    }

    /// The window that holds `now`.
    pub fn window(self, now: Millis) -> Window {
        let date = utc(now).date();
        let (start, end) = match self {
            Period::Total => {
                return Window {
                    start: 0,
                    end: None,
                };
            }
            Period::Day => (date, date.next_day()),
            Period::Week => {
                let monday = date - Duration::days(date.weekday().number_days_from_monday().into());
                (monday, Some(monday + Duration::days(7)))
            }
            Period::Month => {
                let first = date.replace_day(1).unwrap_or(date);
                let next = match first.month() {
                    Month::December => {
                        Date::from_calendar_date(first.year() + 1, Month::January, 1).ok()
                    }
                    month => Date::from_calendar_date(first.year(), month.next(), 1).ok(),
                };
                (first, next)
            }
        };
        Window {
            start: millis(start),
            end: end.map(millis),
        }
    }
}

fn utc(at: Millis) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn millis(date: Date) -> Millis {
    let at = date.with_time(Time::MIDNIGHT).assume_utc();
    (at.unix_timestamp_nanos() / 1_000_000) as Millis
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Period {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Period::ALL
            .into_iter()
            .find(|period| period.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| format!("`{text}` is not a period: day, week, month or total"))
    }
}

/// Now, in Unix milliseconds.
pub fn now_millis() -> Millis {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as Millis
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-22T15:30:00Z, a Sunday.
    const SUNDAY: Millis = 1_795_361_400_000;
    const DAY: Millis = 86_400_000;

    #[test]
    fn windows_are_utc_calendar_periods() {
        let day = Period::Day.window(SUNDAY);
        assert_eq!(day.start, 1_795_305_600_000, "2026-11-22T00:00Z");
        assert_eq!(day.end, Some(day.start + DAY));
        let week = Period::Week.window(SUNDAY);
        assert_eq!(week.start, day.start - 6 * DAY, "Monday 2026-11-16");
        assert_eq!(week.end, Some(day.start + DAY));
        let month = Period::Month.window(SUNDAY);
        assert_eq!(month.start, day.start - 21 * DAY, "2026-11-01");
        assert_eq!(month.end, Some(month.start + 30 * DAY), "2026-12-01");
        assert_eq!(
            Period::Total.window(SUNDAY),
            Window {
                start: 0,
                end: None
            }
        );
    }

    #[test]
    fn december_rolls_into_the_next_year_and_the_end_is_exclusive() {
        let december = Period::Month.window(1_796_083_200_000 + 5 * DAY);
        assert_eq!(december.start, 1_796_083_200_000, "2026-12-01");
        assert_eq!(december.end, Some(1_798_761_600_000), "2027-01-01");
        let midnight = Period::Day.window(1_795_305_600_000);
        assert_eq!(midnight.start, 1_795_305_600_000);
    }

    #[test]
    fn periods_parse_in_any_case() {
        assert_eq!("Month".parse::<Period>(), Ok(Period::Month));
        assert!("year".parse::<Period>().is_err());
    }
}
