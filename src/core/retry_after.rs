//! `Retry-After` and HTTP dates (RFC 9110), as the fetch transport and the native
//! transport's give-up probe read them: only built with one of them (the `fetch` or
//! `probe` feature). Pure: nothing here imports web code.

use crate::core::retry::MAX_TIMER;
use std::time::Duration;

/// Parses a `Retry-After` header value: delay-seconds, or an HTTP date compared with
/// `now_ms` (milliseconds since the Unix epoch). A date in the past is no delay.
/// Anything else is `None`.
///
/// RFC 9110 §10.2.3: `Retry-After = HTTP-date / delay-seconds`.
pub(crate) fn parse_retry_after(value: &str, now_ms: f64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let secs = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(secs).min(MAX_TIMER));
    }
    let at = parse_http_date(value, now_ms)?;
    let ms = (at as f64 * 1000.0 - now_ms).max(0.0);
    Some(Duration::from_millis(ms as u64).min(MAX_TIMER))
}

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];
const DAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
const LONG_DAYS: [&[u8]; 7] = [
    b"Monday",
    b"Tuesday",
    b"Wednesday",
    b"Thursday",
    b"Friday",
    b"Saturday",
    b"Sunday",
];

/// Reads an HTTP date's parts off the front of a byte string, exactly.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn literal(&mut self, text: &[u8]) -> Option<()> {
        self.0 = self.0.strip_prefix(text)?;
        Some(())
    }

    fn one_of(&mut self, names: &[&[u8]]) -> Option<i64> {
        let at = names.iter().position(|name| self.0.starts_with(name))?;
        self.0 = &self.0[names[at].len()..];
        Some(at as i64)
    }

    /// Exactly `width` ASCII digits.
    fn digits(&mut self, width: usize) -> Option<i64> {
        let digits = self.0.get(..width)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.0 = &self.0[width..];
        Some(digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0')))
    }

    /// `hh:mm:ss`, checked: hours 0-23, minutes 0-59, seconds 0-60 (a leap second).
    fn time(&mut self) -> Option<i64> {
        let h = self.digits(2)?;
        self.literal(b":")?;
        let m = self.digits(2)?;
        self.literal(b":")?;
        let s = self.digits(2)?;
        (h <= 23 && m <= 59 && s <= 60).then_some(h * 3600 + m * 60 + s)
    }

    /// `dd<sep>Mon<sep>year hh:mm:ss GMT`, the year `year_digits` long, as (year,
    /// month, day, seconds of the day): the part after the day name that IMF-fixdate
    /// (`" "`, four digits) and RFC 850 (`"-"`, two) share. Inlined: called, its
    /// tuple return through memory cost 73 bytes of the npm package's gzipped wasm.
    #[inline(always)]
    fn date_time_gmt(&mut self, sep: &[u8], year_digits: usize) -> Option<(i64, i64, i64, i64)> {
        let day = self.digits(2)?;
        self.literal(sep)?;
        let month = self.one_of(&MONTHS)? + 1;
        self.literal(sep)?;
        let year = self.digits(year_digits)?;
        self.literal(b" ")?;
        let time = self.time()?;
        self.literal(b" GMT")?;
        Some((year, month, day, time))
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

/// Seconds since the Unix epoch of an HTTP date in any of the three forms RFC 9110
/// §5.6.7 says recipients must accept: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
/// RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37
/// 1994`). The date is checked (no 31 February); the day name is not compared with
/// it. An RFC 850 two-digit year is the one that does not put the date more than 50
/// years after `now_ms`, as §5.6.7 says.
fn parse_http_date(value: &str, now_ms: f64) -> Option<i64> {
    let mut c = Cursor(value.as_bytes());
    let (year, month, day, time) = if c.one_of(&DAYS).is_some() && c.literal(b", ").is_some() {
        // IMF-fixdate.
        c.date_time_gmt(b" ", 4)?
    } else {
        c = Cursor(value.as_bytes());
        if c.one_of(&LONG_DAYS).is_some() {
            // RFC 850.
            c.literal(b", ")?;
            let (yy, month, day, time) = c.date_time_gmt(b"-", 2)?;
            let this_year = 1970 + (now_ms / 1000.0 / 86_400.0 / 365.2425).floor() as i64;
            let mut year = this_year - this_year.rem_euclid(100) + yy;
            if year > this_year + 50 {
                year -= 100;
            }
            (year, month, day, time)
        } else {
            // asctime.
            c.one_of(&DAYS)?;
            c.literal(b" ")?;
            let month = c.one_of(&MONTHS)? + 1;
            c.literal(b" ")?;
            let day = match c.literal(b" ") {
                Some(()) => c.digits(1)?,
                None => c.digits(2)?,
            };
            c.literal(b" ")?;
            let time = c.time()?;
            c.literal(b" ")?;
            let year = c.digits(4)?;
            (year, month, day, time)
        }
    };
    c.end()?;
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + time)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
/// Years are at most four digits here, so nothing overflows.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        // 1994-11-06T08:49:37Z is 784111777 s after the epoch.
        let now = 784_111_777_000.0;
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:27 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sat, 29 Feb 2020 00:00:01 GMT", 1_582_934_400_000.0),
            Some(Duration::from_secs(1))
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(MAX_TIMER)
        );
    }

    #[test]
    fn http_dates_in_all_three_forms_are_parsed_and_checked() {
        // Regression: an unbounded year overflowed `days_from_civil * 86_400`,
        // `-1:00:00` and 31 February were accepted, and the RFC 850 and asctime forms
        // RFC 9110 §5.6.7 says recipients must accept were refused.
        let now = 784_111_777_000.0; // Sun, 06 Nov 1994 08:49:37 GMT
        let ten = Some(Duration::from_secs(10));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), ten);
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            ten
        );
        assert_eq!(parse_retry_after("Sun Nov  6 08:49:47 1994", now), ten);
        assert_eq!(
            parse_retry_after("Sun Nov 16 08:49:37 1994", now),
            Some(Duration::from_secs(864_000))
        );
        // RFC 850: a two-digit year more than 50 years ahead is in the past century
        // (in 2026: 27 is 2027, 70 is 2070, 80 is 1980).
        let in_2026 = 1_796_000_000_000.0;
        assert_eq!(
            parse_http_date("Friday, 01-Jan-27 00:00:00 GMT", in_2026),
            Some(1_798_761_600)
        );
        assert_eq!(
            parse_http_date("Thursday, 01-Jan-70 00:00:00 GMT", in_2026),
            Some(3_155_760_000)
        );
        assert_eq!(
            parse_http_date("Tuesday, 01-Jan-80 00:00:00 GMT", in_2026),
            Some(315_532_800)
        );
        // Leap days and leap seconds.
        assert_eq!(
            parse_http_date("Sat, 29 Feb 2020 00:00:00 GMT", now),
            Some(1_582_934_400)
        );
        assert!(parse_http_date("Wed, 31 Dec 2016 23:59:60 GMT", now).is_some());
        for bad in [
            "Sun, 06 Nov 1994 -1:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Mon, 31 Feb 2020 00:00:00 GMT",
            "Mon, 29 Feb 2021 00:00:00 GMT",
            "Mon, 31 Apr 2021 00:00:00 GMT",
            "Mon, 00 Apr 2021 00:00:00 GMT",
            "Sun, 06 Nov 99999999999999999 08:49:37 GMT",
            "Sun, 06 Nov -1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 94",
            "Funday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad, now), None, "{bad:?}");
        }
    }
}
