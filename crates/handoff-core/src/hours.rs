//! Time zones and working hours: where a member's clock is, whether they are working at an
//! instant, when their next working stretch starts (a notification held overnight is shown
//! then), and how much of their working time lies between two instants (turnaround counted
//! in the receiver's hours). The IANA database is compiled in (jiff's bundled copy), so
//! every machine and the server agree, with no IO.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;
use crate::{CoreError, WorkingHours};

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MINUTES_PER_DAY: u16 = 24 * 60;
/// Turnaround is counted day by day; a span longer than this is cut here (ten years).
const MAX_DAYS: i64 = 3_660;

/// A named IANA time zone.
#[derive(Clone, Debug)]
pub struct Zone {
    tz: jiff::tz::TimeZone,
    name: String,
}

/// A wall-clock reading in a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LocalTime {
    /// Year.
    pub year: i16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Offset from UTC in minutes (east positive), as it is at that instant.
    pub offset_minutes: i32,
}

impl LocalTime {
    /// `18:05`.
    pub fn clock(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }

    /// `Sat 05:05`.
    pub fn day_and_clock(&self) -> String {
        let day = DAY_NAMES[usize::from(self.weekday.min(6))];
        let mut first = day.chars();
        let day: String = first.next().map(|c| c.to_ascii_uppercase()).into_iter().chain(first).collect();
        format!("{day} {}", self.clock())
    }

    /// `UTC+05:45`.
    pub fn offset_text(&self) -> String {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let m = self.offset_minutes.unsigned_abs();
        format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

impl Zone {
    /// The zone with this IANA name (`Europe/Lisbon`); an unknown name is refused, naming it.
    pub fn named(name: &str) -> Result<Zone, CoreError> {
        let trimmed = name.trim();
        let unknown = || CoreError::Invalid {
            what: "time zone",
            value: trimmed.chars().take(64).collect(),
            reason: "not an IANA time zone name (such as Europe/Lisbon or Australia/Adelaide)",
        };
        if trimmed.is_empty() || trimmed.len() > 64 {
            return Err(unknown());
        }
        let tz = jiff::tz::TimeZone::get(trimmed).map_err(|_| unknown())?;
        let name = tz.iana_name().unwrap_or(trimmed).to_owned();
        Ok(Zone { tz, name })
    }

    /// UTC.
    pub fn utc() -> Zone {
        Zone { tz: jiff::tz::TimeZone::UTC, name: "UTC".into() }
    }

    /// Its IANA name, as the database spells it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The place a person recognizes: `Lisbon` for `Europe/Lisbon`, `Buenos Aires` for
    /// `America/Argentina/Buenos_Aires`.
    pub fn city(&self) -> String {
        self.name.rsplit('/').next().unwrap_or(&self.name).replace('_', " ")
    }

    /// The wall clock here at `t`.
    pub fn local(&self, t: Timestamp) -> LocalTime {
        let ts = to_jiff(t);
        let dt = self.tz.to_datetime(ts);
        LocalTime {
            year: dt.year(),
            month: dt.month() as u8,
            day: dt.day() as u8,
            hour: dt.hour() as u8,
            minute: dt.minute() as u8,
            weekday: dt.weekday().to_monday_zero_offset() as u8,
            offset_minutes: self.tz.to_offset(ts).seconds() / 60,
        }
    }

    /// The instant the wall clock here shows `minute` minutes after midnight on the civil
    /// date `date`, when that day exists here (Samoa skipped 2011-12-30) and the clock shows
    /// that date then.
    fn instant_on(&self, date: jiff::civil::Date, minute: u16) -> Option<i64> {
        let (date, minute) =
            if minute >= MINUTES_PER_DAY { (date.tomorrow().ok()?, minute - MINUTES_PER_DAY) } else { (date, minute) };
        let dt = date.to_datetime(jiff::civil::Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).ok()?);
        let ts = self.tz.to_timestamp(dt).ok()?;
        Some(ts.as_millisecond())
    }

    /// The working windows that start on local date `date`, as `[start, end)` in ms.
    fn window_on(&self, date: jiff::civil::Date, hours: &WorkingHours) -> Option<(i64, i64)> {
        let weekday = date.weekday().to_monday_zero_offset() as u8;
        if hours.days & (1 << weekday) == 0 {
            return None;
        }
        let start = self.instant_on(date, hours.start_minute)?;
        // A day the zone skipped has no window, whatever the conversion made of it.
        let shown = self.tz.to_datetime(jiff::Timestamp::from_millisecond(start).ok()?).date();
        if shown != date {
            return None;
        }
        let end = self.instant_on(date, hours.end_minute)?;
        (end > start).then_some((start, end))
    }

    fn date_of(&self, t: Timestamp) -> jiff::civil::Date {
        self.tz.to_datetime(to_jiff(t)).date()
    }

    /// Whether `t` falls inside the working hours.
    pub fn is_working(&self, hours: &WorkingHours, t: Timestamp) -> bool {
        let ms = t.as_millis();
        let date = self.date_of(t);
        [date.yesterday().ok(), Some(date)]
            .into_iter()
            .flatten()
            .filter_map(|d| self.window_on(d, hours))
            .any(|(s, e)| (s..e).contains(&ms))
    }

    /// `t` itself when inside the working hours, else when they next start (within a
    /// fortnight; `None` when there are no working days at all).
    pub fn next_working_start(&self, hours: &WorkingHours, t: Timestamp) -> Option<Timestamp> {
        if self.is_working(hours, t) {
            return Some(t);
        }
        let mut date = self.date_of(t);
        for _ in 0..15 {
            if let Some((start, _)) = self.window_on(date, hours)
                && start > t.as_millis()
            {
                return Some(Timestamp::from_millis(start));
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// Milliseconds of working time between `from` and `to` (zero when `to` is not after
    /// `from`): what a turnaround costs the person who had to act.
    pub fn working_ms_between(&self, hours: &WorkingHours, from: Timestamp, to: Timestamp) -> i64 {
        let (a, b) = (from.as_millis(), to.as_millis());
        if b <= a {
            return 0;
        }
        let Ok(mut date) = self.date_of(from).yesterday() else { return 0 };
        let last = self.date_of(to);
        let mut total = 0;
        for _ in 0..MAX_DAYS {
            if date > last {
                break;
            }
            if let Some((s, e)) = self.window_on(date, hours) {
                total += (e.min(b) - s.max(a)).max(0);
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        total
    }
}

fn to_jiff(t: Timestamp) -> jiff::Timestamp {
    let clamped = t.as_millis().clamp(jiff::Timestamp::MIN.as_millisecond(), jiff::Timestamp::MAX.as_millisecond());
    jiff::Timestamp::from_millisecond(clamped).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Reads `09:00-17:30` (or `9-17:30`) as minutes after midnight; the end must come after the
/// start on the same day, and may be `24:00`.
pub fn parse_hours(text: &str) -> Result<(u16, u16), CoreError> {
    let bad = |reason: &'static str| CoreError::Invalid { what: "working hours", value: text.chars().take(40).collect(), reason };
    let (start, end) = text.trim().split_once('-').ok_or_else(|| bad("write them as HH:MM-HH:MM, such as 09:00-17:30"))?;
    let minute = |part: &str| -> Result<u16, CoreError> {
        let part = part.trim();
        let (h, m) = part.split_once(':').unwrap_or((part, "0"));
        let h: u16 = h.parse().map_err(|_| bad("write them as HH:MM-HH:MM, such as 09:00-17:30"))?;
        let m: u16 = m.parse().map_err(|_| bad("write them as HH:MM-HH:MM, such as 09:00-17:30"))?;
        if m >= 60 || h > 24 || (h == 24 && m > 0) {
            return Err(bad("hours run from 00:00 to 24:00 and minutes from 00 to 59"));
        }
        Ok(h * 60 + m)
    };
    let (start, end) = (minute(start)?, minute(end)?);
    if end <= start {
        return Err(bad("the hours end before they start: write the earlier time first"));
    }
    Ok((start, end))
}

/// Reads working days: `mon-fri`, `sun-thu` (a range may wrap), `mon,wed,fri`, `sat`.
pub fn parse_days(text: &str) -> Result<u8, CoreError> {
    let bad = |reason: &'static str| CoreError::Invalid { what: "working days", value: text.chars().take(40).collect(), reason };
    let day = |name: &str| -> Result<u8, CoreError> {
        let name = name.trim().to_ascii_lowercase();
        DAY_NAMES
            .iter()
            .position(|d| name.len() >= 3 && d.starts_with(&name[..3]) && is_day_name(&name))
            .map(|i| i as u8)
            .ok_or_else(|| bad("name days as mon, tue, wed, thu, fri, sat, sun, or ranges such as mon-fri"))
    };
    let mut bits = 0u8;
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from)?, day(to)?);
                let mut d = from;
                loop {
                    bits |= 1 << d;
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => bits |= 1 << day(part)?,
        }
    }
    if bits == 0 {
        return Err(bad("a week with no working day: name at least one"));
    }
    Ok(bits)
}

fn is_day_name(name: &str) -> bool {
    const FULL: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    FULL.iter().any(|f| f.starts_with(name))
}

/// `mon-fri`, `sun-thu`, `mon,wed,fri`: the shortest way to write the days.
pub fn days_text(days: u8) -> String {
    let on = |d: usize| days & (1 << (d % 7)) != 0;
    if (0..7).all(on) {
        return "mon-sun".into();
    }
    // Walk the week from the day after a day off, so a run across Sunday (sun-thu) stays whole.
    let off = (0..7).find(|d| !on(*d)).unwrap_or(0);
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for i in 1..=7 {
        let d = (off + i) % 7;
        if !on(d) {
            continue;
        }
        match runs.last_mut() {
            Some((_, end)) if (*end + 1) % 7 == d => *end = d,
            _ => runs.push((d, d)),
        }
    }
    runs.sort_unstable();
    runs.iter()
        .map(|&(a, b)| if a == b { DAY_NAMES[a].to_owned() } else { format!("{}-{}", DAY_NAMES[a], DAY_NAMES[b]) })
        .collect::<Vec<_>>()
        .join(",")
}

/// `09:00-17:30`.
pub fn hours_text(hours: &WorkingHours) -> String {
    let hm = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
    format!("{}-{}", hm(hours.start_minute), hm(hours.end_minute))
}

impl WorkingHours {
    /// Checks the hours as a member sets them: at least one working day, and an end after
    /// the start on the same day.
    pub fn validated(self) -> Result<Self, CoreError> {
        let value = || format!("{} {}", hours_text(&self), self.days);
        if self.days & 0x7f == 0 || self.days & 0x80 != 0 {
            return Err(CoreError::Invalid {
                what: "working days",
                value: value(),
                reason: "a week with no working day: name at least one",
            });
        }
        if self.end_minute > MINUTES_PER_DAY || self.end_minute <= self.start_minute {
            return Err(CoreError::Invalid {
                what: "working hours",
                value: value(),
                reason: "the hours end before they start: write the earlier time first",
            });
        }
        Ok(self)
    }
}

/// How a handoff's time reads for someone in another zone: `18:05 Lisbon time · Sat 05:05
/// for you`, or only `18:05` when both share the zone's clock.
pub fn handoff_time_text(t: Timestamp, sender: &Zone, viewer: &Zone) -> String {
    let theirs = sender.local(t);
    let mine = viewer.local(t);
    if theirs == mine {
        return format!("{} {}", mine.day_and_clock(), viewer.city());
    }
    format!("{} {} time · {} for you", theirs.clock(), sender.city(), mine.day_and_clock())
}

#[cfg(test)]
mod tests;
