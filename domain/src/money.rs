//! Money: integer minor units with an ISO 4217 currency; never a float.

use std::fmt;

/// The largest amount one deposit or transfer may move (10^12 minor units).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// Active ISO 4217 currency codes.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// Why a string is not a [`Currency`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Must be an ISO 4217 currency code, e.g. USD")]
pub struct CurrencyError;

/// An ISO 4217 currency code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Self = Self(*b"USD");
    /// Every code accepted, as written.
    pub const CODES: &'static [&'static str] = ISO_4217;

    pub fn parse(text: &str) -> Result<Self, CurrencyError> {
        ISO_4217
            .iter()
            .find(|known| **known == text)
            .map(|known| {
                let bytes = known.as_bytes();
                Self([bytes[0], bytes[1], bytes[2]])
            })
            .ok_or(CurrencyError)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("currency codes are ASCII")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Why a number is not an [`Amount`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Must be a whole number of minor units from 1 to {MAX_AMOUNT}")]
pub struct AmountError;

/// A positive amount of minor units to move, at most [`MAX_AMOUNT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(i64);

impl Amount {
    /// The smallest amount: one minor unit.
    pub const MIN_UNITS: i64 = 1;

    pub fn new(minor_units: i64) -> Result<Self, AmountError> {
        if (Self::MIN_UNITS..=MAX_AMOUNT).contains(&minor_units) {
            Ok(Self(minor_units))
        } else {
            Err(AmountError)
        }
    }

    #[must_use]
    pub const fn minor_units(self) -> i64 {
        self.0
    }
}

/// Money an account holds, in minor units: never negative, because nothing makes a
/// negative one (storage checks it too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Balance(i64);

/// A stored balance below zero: a broken invariant, never a client's mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a balance cannot be negative")]
pub struct NegativeBalance;

impl Balance {
    pub const ZERO: Self = Self(0);

    /// A balance as stored.
    pub fn new(minor_units: i64) -> Result<Self, NegativeBalance> {
        if minor_units < 0 {
            return Err(NegativeBalance);
        }
        Ok(Self(minor_units))
    }

    #[must_use]
    pub const fn minor_units(self) -> i64 {
        self.0
    }

    /// Whether it can pay `amount`.
    #[must_use]
    pub const fn covers(self, amount: Amount) -> bool {
        self.0 >= amount.minor_units()
    }

    /// The balance after receiving `amount`; `None` past `i64::MAX` minor units.
    #[must_use]
    pub const fn credited(self, amount: Amount) -> Option<Self> {
        match self.0.checked_add(amount.minor_units()) {
            Some(units) => Some(Self(units)),
            None => None,
        }
    }

    /// The balance after paying `amount`; `None` when it does not cover it.
    #[must_use]
    pub const fn debited(self, amount: Amount) -> Option<Self> {
        if self.covers(amount) {
            Some(Self(self.0 - amount.minor_units()))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_codes_parse_and_others_do_not() {
        assert_eq!(Currency::parse("EUR").unwrap().as_str(), "EUR");
        assert_eq!(Currency::parse("usd"), Err(CurrencyError));
        // Exactly one of the documented codes, nothing around it.
        assert_eq!(Currency::parse(" USD"), Err(CurrencyError));
        assert_eq!(Currency::parse("XXX"), Err(CurrencyError));
        assert_eq!(Currency::parse(""), Err(CurrencyError));
    }

    #[test]
    fn an_amount_is_between_one_and_ten_to_the_twelfth() {
        assert_eq!(Amount::new(0), Err(AmountError));
        assert_eq!(Amount::new(-5), Err(AmountError));
        assert_eq!(Amount::new(1).unwrap().minor_units(), 1);
        assert!(Amount::new(MAX_AMOUNT).is_ok());
        assert_eq!(Amount::new(MAX_AMOUNT + 1), Err(AmountError));
    }

    proptest! {
        #[test]
        fn amount_accepts_exactly_its_range(units in any::<i64>()) {
            prop_assert_eq!(Amount::new(units).is_ok(), (1..=MAX_AMOUNT).contains(&units));
        }
    }

    #[test]
    fn a_balance_is_never_negative_and_pays_only_what_it_covers() {
        assert_eq!(Balance::new(-1), Err(NegativeBalance));
        let ten = Balance::new(10).unwrap();
        let amount = |units| Amount::new(units).unwrap();
        assert_eq!(ten.debited(amount(10)), Some(Balance::ZERO));
        assert_eq!(ten.debited(amount(11)), None);
        assert!(ten.covers(amount(10)) && !ten.covers(amount(11)));
        assert_eq!(ten.credited(amount(5)).map(Balance::minor_units), Some(15));
        assert_eq!(Balance::new(i64::MAX).unwrap().credited(amount(1)), None);
    }
}
