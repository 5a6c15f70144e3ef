//! The answer deadline (svarfrist) of a forespørgsel: its date plus N calendar days, or plus N
//! working days (weekdays that are not Danish public holidays or days the administration is
//! closed).
//!
//! Public holidays (helligdage): nytårsdag, skærtorsdag, langfredag, påskedag, 2. påskedag,
//! Kristi himmelfartsdag, pinsedag, 2. pinsedag, juledag, 2. juledag, and store bededag until
//! 2023 (abolished from 2024). The movable ones follow Easter Sunday, computed with the
//! Gregorian computus. Days the administration is closed besides (grundlovsdag, juleaftensdag,
//! nytårsaftensdag by default) are configurable.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// How the N days of a deadline are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DayCount {
    /// Every day counts.
    Calendar,
    /// Only working days count.
    Working,
}

/// A deadline rule: N days, counted one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// How many days.
    pub days: u32,
    /// How they are counted.
    pub count: DayCount,
}

/// Which days are working days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Further closed days each year, as (month, day).
    closed: Vec<(u32, u32)>,
}

impl Default for Calendar {
    /// Public holidays, plus grundlovsdag (5 June), juleaftensdag (24 December) and
    /// nytårsaftensdag (31 December).
    fn default() -> Self {
        Self { closed: vec![(6, 5), (12, 24), (12, 31)] }
    }
}

impl Calendar {
    /// Public holidays plus `closed`, each "MM-DD". Errors name the entry that is not a date.
    pub fn with_closed_days(closed: &[String]) -> Result<Self, String> {
        let days = closed
            .iter()
            .map(|d| {
                let (m, day) = d.split_once('-').ok_or_else(|| format!("{d:?} is not MM-DD"))?;
                let (m, day): (u32, u32) = (m.parse().map_err(|_| format!("{d:?} is not MM-DD"))?, day.parse().map_err(|_| format!("{d:?} is not MM-DD"))?);
                // 2024 is a leap year: every MM-DD that exists in some year exists in it.
                NaiveDate::from_ymd_opt(2024, m, day).ok_or_else(|| format!("{d:?} is not a day of the year"))?;
                Ok((m, day))
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { closed: days })
    }

    /// The public holiday on `date`, by its Danish name, if it is one.
    pub fn holiday(date: NaiveDate) -> Option<&'static str> {
        let easter = easter_sunday(date.year());
        let from_easter = (date - easter).num_days();
        let named = match from_easter {
            -3 => Some("skærtorsdag"),
            -2 => Some("langfredag"),
            0 => Some("påskedag"),
            1 => Some("2. påskedag"),
            26 if date.year() <= 2023 => Some("store bededag"),
            39 => Some("Kristi himmelfartsdag"),
            49 => Some("pinsedag"),
            50 => Some("2. pinsedag"),
            _ => None,
        };
        named.or(match (date.month(), date.day()) {
            (1, 1) => Some("nytårsdag"),
            (12, 25) => Some("juledag"),
            (12, 26) => Some("2. juledag"),
            _ => None,
        })
    }

    /// Whether the administration works on `date`.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && Self::holiday(date).is_none() && !self.closed.contains(&(date.month(), date.day()))
    }

    /// The deadline of a forespørgsel received on `date`.
    pub fn deadline(&self, date: NaiveDate, rule: Deadline) -> NaiveDate {
        match rule.count {
            DayCount::Calendar => date + Duration::days(i64::from(rule.days)),
            DayCount::Working => {
                let mut day = date;
                let mut left = rule.days;
                while left > 0 {
                    day += Duration::days(1);
                    if self.is_working_day(day) {
                        left -= 1;
                    }
                }
                day
            }
        }
    }
}

/// Easter Sunday of `year` (Gregorian calendar; the anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    #[allow(clippy::expect_used)] // the algorithm yields a day of March or April
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a date")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    const TEN_WORKING: Deadline = Deadline { days: 10, count: DayCount::Working };
    const TEN_CALENDAR: Deadline = Deadline { days: 10, count: DayCount::Calendar };

    #[test]
    fn easter_is_computed() {
        for (year, date) in [(2024, "2024-03-31"), (2025, "2025-04-20"), (2026, "2026-04-05"), (2027, "2027-03-28"), (2038, "2038-04-25"), (2000, "2000-04-23"), (1818, "1818-03-22")] {
            assert_eq!(easter_sunday(year), d(date), "{year}");
        }
    }

    #[test]
    fn danish_public_holidays() {
        for (date, name) in [
            ("2026-04-02", "skærtorsdag"),
            ("2026-04-03", "langfredag"),
            ("2026-04-06", "2. påskedag"),
            ("2026-05-14", "Kristi himmelfartsdag"),
            ("2026-05-25", "2. pinsedag"),
            ("2023-05-05", "store bededag"),
            ("2027-01-01", "nytårsdag"),
            ("2026-12-26", "2. juledag"),
        ] {
            assert_eq!(Calendar::holiday(d(date)), Some(name), "{date}");
        }
        assert_eq!(Calendar::holiday(d("2024-04-26")), None, "store bededag is abolished from 2024");
        assert_eq!(Calendar::holiday(d("2026-04-07")), None);
    }

    #[test]
    fn calendar_days_are_counted_straight_across_year_ends() {
        let c = Calendar::default();
        assert_eq!(c.deadline(d("2025-12-19"), TEN_CALENDAR), d("2025-12-29"));
        assert_eq!(c.deadline(d("2025-12-28"), TEN_CALENDAR), d("2026-01-07"));
        assert_eq!(c.deadline(d("2028-02-25"), TEN_CALENDAR), d("2028-03-06"), "leap year");
    }

    #[test]
    fn working_days_skip_weekends_christmas_and_new_year() {
        let c = Calendar::default();
        // Friday 19 December 2025: 22, 23 (24-26 closed), 29, 30 (31 and 1 January closed),
        // 2, 5, 6, 7, 8, 9 January.
        assert_eq!(c.deadline(d("2025-12-19"), TEN_WORKING), d("2026-01-09"));
        // Only public holidays closed: 24 and 31 December count.
        let public = Calendar::with_closed_days(&[]).unwrap();
        assert_eq!(public.deadline(d("2025-12-19"), TEN_WORKING), d("2026-01-07"));
    }

    #[test]
    fn working_days_skip_easter() {
        let c = Calendar::default();
        // Monday 30 March 2026: 31 March, 1 April, (2-6 April Easter), 7, 8, 9, 10, 13, 14, 15, 16.
        assert_eq!(c.deadline(d("2026-03-30"), TEN_WORKING), d("2026-04-16"));
        // Across Kristi himmelfart and 2. pinsedag 2026 (14 and 25 May), and grundlovsdag.
        assert_eq!(c.deadline(d("2026-05-13"), TEN_WORKING), d("2026-05-29"));
        assert_eq!(c.deadline(d("2026-06-01"), Deadline { days: 5, count: DayCount::Working }), d("2026-06-09"));
    }

    #[test]
    fn closed_days_are_validated() {
        assert_eq!(Calendar::with_closed_days(&["12-24".into()]).unwrap(), Calendar { closed: vec![(12, 24)] });
        assert!(Calendar::with_closed_days(&["24/12".into()]).unwrap_err().contains("24/12"));
        assert!(Calendar::with_closed_days(&["02-30".into()]).unwrap_err().contains("02-30"));
    }

    proptest! {
        #[test]
        fn working_deadlines_land_on_working_days_after_enough_calendar_days(days in 1u32..40, offset in 0i64..3650) {
            let c = Calendar::default();
            let start = d("2024-01-01") + Duration::days(offset);
            let end = c.deadline(start, Deadline { days, count: DayCount::Working });
            prop_assert!(c.is_working_day(end));
            prop_assert!(end - start >= Duration::days(i64::from(days)));
            let counted = (1..=(end - start).num_days()).filter(|i| c.is_working_day(start + Duration::days(*i))).count();
            prop_assert_eq!(counted, days as usize);
        }
    }
}
