use super::*;

const HOUR: i64 = 3_600_000;

/// The instant a wall clock in `zone` shows this civil time (earlier reading when ambiguous).
fn at(zone: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
    let tz = jiff::tz::TimeZone::get(zone).expect("zone");
    let dt = jiff::civil::DateTime::new(y, mo, d, h, mi, 0, 0).expect("datetime");
    Timestamp::from_millis(tz.to_timestamp(dt).expect("instant").as_millisecond())
}

fn zone(name: &str) -> Zone {
    Zone::named(name).expect("known zone")
}

fn hours(text: &str, days: &str) -> WorkingHours {
    let (start_minute, end_minute) = parse_hours(text).expect("hours");
    WorkingHours { start_minute, end_minute, days: parse_days(days).expect("days") }
}

#[test]
fn half_hour_and_45_minute_offsets_and_both_sides_of_the_date_line() {
    let t = at("UTC", 2026, 1, 15, 0, 0);
    let table = [
        ("Asia/Kolkata", "05:30", 3, 330),
        ("Asia/Kathmandu", "05:45", 3, 345),
        // January is summer in Adelaide: ACDT, UTC+10:30.
        ("Australia/Adelaide", "10:30", 3, 630),
        ("Pacific/Kiritimati", "14:00", 3, 840),
        ("Pacific/Pago_Pago", "13:00", 2, -660),
        ("Europe/Lisbon", "00:00", 3, 0),
    ];
    for (name, clock, weekday, offset) in table {
        let l = zone(name).local(t);
        assert_eq!((l.clock(), l.weekday, l.offset_minutes), (clock.to_owned(), weekday, offset), "{name}");
    }
    // One instant, two days: Thursday on Kiritimati, Wednesday in Pago Pago.
    assert_eq!(zone("Pacific/Kiritimati").local(t).day, 15);
    assert_eq!(zone("Pacific/Pago_Pago").local(t).day, 14);
    assert_eq!(zone("Asia/Kathmandu").local(t).offset_text(), "UTC+05:45");
    assert_eq!(zone("Pacific/Pago_Pago").local(t).offset_text(), "UTC-11:00");
}

#[test]
fn working_or_not_at_the_edges_of_the_hours() {
    let adelaide = zone("Australia/Adelaide");
    let office = hours("09:00-17:30", "mon-fri");
    assert!(adelaide.is_working(&office, at("Australia/Adelaide", 2026, 1, 15, 9, 15)));
    assert!(!adelaide.is_working(&office, at("Australia/Adelaide", 2026, 1, 15, 17, 30)), "the end is not inside");
    assert!(!adelaide.is_working(&office, at("Australia/Adelaide", 2026, 1, 17, 10, 0)), "Saturday");
    let kathmandu = zone("Asia/Kathmandu");
    let nine = at("UTC", 2026, 1, 15, 3, 15);
    assert!(kathmandu.is_working(&hours("09:00-18:00", "sun-thu"), nine), "09:00 in Kathmandu is 03:15 UTC");
    assert!(!kathmandu.is_working(&hours("09:00-18:00", "sun-thu"), Timestamp::from_millis(nine.as_millis() - 60_000)));
}

#[test]
fn daylight_saving_changes_shorten_and_lengthen_the_working_day() {
    // Lisbon, Sunday 2026-03-29: 01:00 becomes 02:00, so 00:30–03:30 lasts two hours.
    let lisbon = zone("Europe/Lisbon");
    let night = hours("00:30-03:30", "sun");
    let day = |z: &str, y, m, d| (at(z, y, m, d, 0, 0), at(z, y, m, d, 23, 59));
    let (from, to) = day("Europe/Lisbon", 2026, 3, 29);
    assert_eq!(lisbon.working_ms_between(&night, from, to), 2 * HOUR);
    // Melbourne, Sunday 2026-04-05: 03:00 becomes 02:00 again, so 01:00–04:00 lasts four.
    let melbourne = zone("Australia/Melbourne");
    let (from, to) = day("Australia/Melbourne", 2026, 4, 5);
    assert_eq!(melbourne.working_ms_between(&hours("01:00-04:00", "sun"), from, to), 4 * HOUR);
    // A working week across the change is still five eight-hour days.
    let week = lisbon.working_ms_between(
        &hours("09:00-17:00", "mon-fri"),
        at("Europe/Lisbon", 2026, 3, 27, 0, 0),
        at("Europe/Lisbon", 2026, 4, 3, 0, 0),
    );
    assert_eq!(week, 40 * HOUR);
}

#[test]
fn a_day_the_zone_skipped_has_no_working_hours() {
    // Samoa moved across the date line: Friday 2011-12-30 never happened in Apia.
    let apia = zone("Pacific/Apia");
    let from = at("Pacific/Apia", 2011, 12, 29, 0, 0);
    let to = at("Pacific/Apia", 2012, 1, 1, 0, 0);
    assert_eq!(to.as_millis() - from.as_millis(), 48 * HOUR, "three dates, two days");
    assert_eq!(apia.working_ms_between(&hours("09:00-17:00", "mon-sun"), from, to), 16 * HOUR);
}

#[test]
fn a_handoff_after_hours_waits_for_the_next_working_morning() {
    let lisbon = zone("Europe/Lisbon");
    let office = hours("09:00-17:00", "mon-fri");
    let friday_evening = at("Europe/Lisbon", 2026, 3, 27, 18, 0);
    let monday = lisbon.next_working_start(&office, friday_evening).expect("a start");
    assert_eq!(monday, at("Europe/Lisbon", 2026, 3, 30, 9, 0), "Monday 09:00, after the clocks changed");
    assert_eq!(monday.as_millis(), at("UTC", 2026, 3, 30, 8, 0).as_millis());
    let inside = at("Europe/Lisbon", 2026, 3, 27, 11, 0);
    assert_eq!(lisbon.next_working_start(&office, inside), Some(inside));
}

#[test]
fn turnaround_counts_only_the_receivers_working_time() {
    // Asked Friday 18:05 in Lisbon (Saturday 05:05 in Melbourne), answered Monday 10:30 in
    // Melbourne: the Melbourne reviewer spent 1 h 30 of working time on it.
    let asked = at("Europe/Lisbon", 2026, 1, 16, 18, 5);
    let answered = at("Australia/Melbourne", 2026, 1, 19, 10, 30);
    let melbourne = zone("Australia/Melbourne");
    assert_eq!(melbourne.working_ms_between(&hours("09:00-17:00", "mon-fri"), asked, answered), 90 * 60_000);
    assert_eq!(melbourne.working_ms_between(&hours("09:00-17:00", "mon-fri"), answered, asked), 0);
    assert_eq!(handoff_time_text(asked, &zone("Europe/Lisbon"), &melbourne), "18:05 Lisbon time · Sat 05:05 for you");
    assert_eq!(handoff_time_text(asked, &zone("Europe/Lisbon"), &zone("Europe/Lisbon")), "Fri 18:05 Lisbon");
}

#[test]
fn hours_and_days_are_read_and_written_back() {
    assert_eq!(parse_hours("09:00-17:30"), Ok((540, 1050)));
    assert_eq!(parse_hours(" 9-17 "), Ok((540, 1020)));
    assert_eq!(parse_hours("09:00-24:00"), Ok((540, 1440)));
    for (days, bits, text) in [
        ("mon-fri", 0b001_1111, "mon-fri"),
        ("sun-thu", 0b100_1111, "sun-thu"),
        ("mon,wed,fri", 0b001_0101, "mon,wed,fri"),
        ("Saturday", 0b010_0000, "sat"),
        ("fri-mon", 0b111_0001, "fri-mon"),
        ("mon-sun", 0b111_1111, "mon-sun"),
    ] {
        assert_eq!(parse_days(days), Ok(bits), "{days}");
        assert_eq!(days_text(bits), text, "{days}");
    }
    let wh = hours("08:30-16:45", "tue-sat");
    assert_eq!(hours_text(&wh), "08:30-16:45");
    assert_eq!(wh.validated(), Ok(wh));
}

#[test]
fn bad_zones_hours_and_weeks_are_refused_with_what_is_wrong() {
    let refused = |r: Result<(u16, u16), CoreError>| r.expect_err("refused").to_string();
    assert!(refused(parse_hours("17:00-09:00")).contains("the hours end before they start"));
    assert!(refused(parse_hours("09:00-09:00")).contains("the hours end before they start"));
    assert!(refused(parse_hours("25:00-26:00")).contains("hours run from 00:00 to 24:00"));
    assert!(refused(parse_hours("nine to five")).contains("HH:MM-HH:MM"));
    for empty in ["", " , ", ","] {
        assert!(parse_days(empty).expect_err("empty").to_string().contains("no working day"), "{empty:?}");
    }
    assert!(parse_days("funday").expect_err("unknown").to_string().contains("name days as mon"));
    let e = Zone::named("Mars/Olympus_Mons").expect_err("unknown zone").to_string();
    assert!(e.contains("\"Mars/Olympus_Mons\"") && e.contains("not an IANA time zone name"), "{e}");
    assert!(Zone::named("").is_err());
    assert_eq!(zone("America/Argentina/Buenos_Aires").city(), "Buenos Aires");
    let no_days = WorkingHours { start_minute: 540, end_minute: 1020, days: 0 };
    assert!(no_days.validated().expect_err("empty week").to_string().contains("no working day"));
    let backwards = WorkingHours { start_minute: 1020, end_minute: 540, days: 1 };
    assert!(backwards.validated().expect_err("backwards").to_string().contains("end before they start"));
}
