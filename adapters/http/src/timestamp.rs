//! Timestamps on the wire: RFC 3339 in UTC with a `Z` and millisecond precision
//! (`2026-11-24T15:38:12.123Z`), the form JavaScript's `Date.toISOString()` produces.
//! poem-openapi's own `DateTime<Utc>` writes `+00:00` and nanoseconds.

use std::borrow::Cow;

use chrono::{DateTime, Datelike as _, SecondsFormat, Timelike as _, Utc};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON, Type};
use serde_json::Value;

/// A UTC instant, written as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp(pub(crate) DateTime<Utc>);

impl From<DateTime<Utc>> for Timestamp {
    fn from(instant: DateTime<Utc>) -> Self {
        Self(instant)
    }
}

impl Type for Timestamp {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "string_date-time".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema::new_with_format("string", "date-time")))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.to_string()))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl std::fmt::Display for Timestamp {
    /// Written by hand for the years 0 to 9999 (chrono's formatter costs more than the rest
    /// of a `GET /health`); chrono's own writing for any other year and for leap seconds.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (date, time) = (self.0.date_naive(), self.0.time());
        let year = u32::try_from(date.year())
            .ok()
            .filter(|year| *year <= 9999 && time.nanosecond() < 1_000_000_000);
        let Some(year) = year else {
            return formatter.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true));
        };
        let mut text = *b"0000-00-00T00:00:00.000Z";
        let fields = [
            (0, 4, year),
            (5, 2, date.month()),
            (8, 2, date.day()),
            (11, 2, time.hour()),
            (14, 2, time.minute()),
            (17, 2, time.second()),
            (20, 3, time.nanosecond() / 1_000_000),
        ];
        for (start, width, mut value) in fields {
            for digit in text[start..start + width].iter_mut().rev() {
                *digit = b'0' + u8::try_from(value % 10).unwrap_or(0);
                value /= 10;
            }
        }
        formatter.write_str(std::str::from_utf8(&text).map_err(|_| std::fmt::Error)?)
    }
}

impl ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(text) => Ok(Self(
                DateTime::parse_from_rfc3339(&text)?.with_timezone(&Utc),
            )),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_timestamp_is_written_in_utc_with_z_and_milliseconds() {
        let instant = Utc.with_ymd_and_hms(2026, 11, 24, 15, 38, 12).unwrap()
            + chrono::Duration::microseconds(123_456);
        assert_eq!(
            Timestamp(instant).to_json(),
            Some(Value::String("2026-11-24T15:38:12.123Z".to_owned()))
        );
    }

    #[test]
    fn the_hand_written_form_is_chronos_for_every_year_and_leap_seconds() {
        let chrono = |instant: DateTime<Utc>| instant.to_rfc3339_opts(SecondsFormat::Millis, true);
        // Every day of several years, at a time that moves through hours, minutes, seconds
        // and milliseconds; then the edges of the range written by hand, and past them.
        let start = Utc.with_ymd_and_hms(1999, 12, 31, 0, 0, 0).unwrap();
        for day in 0..4000 {
            let instant = start
                + chrono::Duration::days(day)
                + chrono::Duration::milliseconds(day * 37_003_217 % 86_400_000);
            assert_eq!(Timestamp(instant).to_string(), chrono(instant));
        }
        for (year, month, day) in [(0, 1, 1), (9999, 12, 31), (-1, 6, 1), (10_000, 1, 1)] {
            let instant = Utc.with_ymd_and_hms(year, month, day, 23, 59, 59).unwrap()
                + chrono::Duration::milliseconds(999);
            assert_eq!(Timestamp(instant).to_string(), chrono(instant));
        }
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1_500)
            .unwrap()
            .and_utc();
        assert_eq!(Timestamp(leap).to_string(), chrono(leap));
        assert_eq!(Timestamp(leap).to_string(), "2016-12-31T23:59:60.500Z");
    }
}
