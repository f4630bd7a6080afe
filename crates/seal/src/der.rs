//! A minimal DER encoder: just what certificates and RFC 3161 tokens need.
//!
//! Every function returns a complete TLV. Callers build structures bottom-up.

use chrono::{DateTime, Datelike, Utc};

use crate::{Result, SealError};

pub const TAG_BOOLEAN: u8 = 0x01;
pub const TAG_INTEGER: u8 = 0x02;
pub const TAG_BIT_STRING: u8 = 0x03;
pub const TAG_OCTET_STRING: u8 = 0x04;
pub const TAG_OID: u8 = 0x06;
pub const TAG_UTF8_STRING: u8 = 0x0c;
pub const TAG_PRINTABLE_STRING: u8 = 0x13;
pub const TAG_UTC_TIME: u8 = 0x17;
pub const TAG_GENERALIZED_TIME: u8 = 0x18;
pub const TAG_SEQUENCE: u8 = 0x30;
pub const TAG_SET: u8 = 0x31;

/// Tag, length, value.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
    out
}

/// SEQUENCE of already-encoded elements.
pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(TAG_SEQUENCE, &parts.concat())
}

/// SET OF already-encoded elements, sorted as DER requires.
pub fn set_of(parts: &[&[u8]]) -> Vec<u8> {
    let mut sorted: Vec<&[u8]> = parts.to_vec();
    sorted.sort();
    tlv(TAG_SET, &sorted.concat())
}

/// Context-specific constructed tag `[n]` (EXPLICIT wrapping, or IMPLICIT of a constructed type).
pub fn context(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, content)
}

/// Re-tags an encoded element (IMPLICIT tagging): replaces its first byte.
pub fn retag(mut encoded: Vec<u8>, tag: u8) -> Vec<u8> {
    if let Some(first) = encoded.first_mut() {
        *first = tag;
    }
    encoded
}

/// The value part of a complete TLV.
pub fn contents(encoded: &[u8]) -> Result<&[u8]> {
    let bad = || SealError::DerMalformed("lunghezza non valida".into());
    let first = *encoded.get(1).ok_or_else(bad)?;
    let (len, header) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 8 || encoded.len() < 2 + n {
            return Err(bad());
        }
        let len = encoded[2..2 + n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        (len, 2 + n)
    };
    encoded.get(header..header + len).ok_or_else(bad)
}

pub fn boolean(v: bool) -> Vec<u8> {
    tlv(TAG_BOOLEAN, &[if v { 0xff } else { 0x00 }])
}

/// INTEGER from unsigned big-endian magnitude bytes.
pub fn integer_unsigned(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let trimmed = &magnitude[skip..];
    let mut value = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.is_empty() || trimmed[0] & 0x80 != 0 {
        value.push(0);
    }
    value.extend_from_slice(trimmed);
    tlv(TAG_INTEGER, &value)
}

pub fn integer(v: u128) -> Vec<u8> {
    integer_unsigned(&v.to_be_bytes())
}

pub fn octet_string(v: &[u8]) -> Vec<u8> {
    tlv(TAG_OCTET_STRING, v)
}

/// BIT STRING with `unused` trailing bits in the last byte.
pub fn bit_string(unused: u8, bytes: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(bytes.len() + 1);
    value.push(unused);
    value.extend_from_slice(bytes);
    tlv(TAG_BIT_STRING, &value)
}

pub fn utf8_string(s: &str) -> Vec<u8> {
    tlv(TAG_UTF8_STRING, s.as_bytes())
}

pub fn printable_string(s: &str) -> Vec<u8> {
    tlv(TAG_PRINTABLE_STRING, s.as_bytes())
}

/// OBJECT IDENTIFIER from its dotted form, e.g. `"1.2.840.10045.2.1"`.
pub fn oid(dotted: &str) -> Result<Vec<u8>> {
    let bad = || SealError::DerMalformed(format!("OID non valido: {dotted}"));
    let arcs: Vec<u128> = dotted
        .split('.')
        .map(|a| a.parse::<u128>().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    if arcs.len() < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) {
        return Err(bad());
    }
    let first = arcs[0]
        .checked_mul(40)
        .and_then(|v| v.checked_add(arcs[1]))
        .ok_or_else(bad)?;
    let mut value = Vec::new();
    for arc in std::iter::once(first).chain(arcs[2..].iter().copied()) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(((rest & 0x7f) as u8) | 0x80);
            rest >>= 7;
        }
        value.extend(groups.iter().rev());
    }
    Ok(tlv(TAG_OID, &value))
}

/// Time as X.509 wants it: UTCTime before 2050, GeneralizedTime from 2050 (whole seconds).
pub fn x509_time(t: &DateTime<Utc>) -> Vec<u8> {
    if t.year() < 2050 {
        tlv(TAG_UTC_TIME, t.format("%y%m%d%H%M%SZ").to_string().as_bytes())
    } else {
        tlv(TAG_GENERALIZED_TIME, t.format("%Y%m%d%H%M%SZ").to_string().as_bytes())
    }
}

/// GeneralizedTime with fractional seconds (milliseconds at most, trailing zeros removed),
/// as RFC 3161 requires for `genTime`.
pub fn generalized_time_fraction(t: &DateTime<Utc>) -> Vec<u8> {
    let mut s = t.format("%Y%m%d%H%M%S").to_string();
    let millis = t.timestamp_subsec_millis();
    if millis > 0 {
        let frac = format!("{millis:03}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    tlv(TAG_GENERALIZED_TIME, s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn known_encodings() {
        assert_eq!(
            oid("1.2.840.10045.2.1").expect("oid"),
            hex::decode("06072a8648ce3d0201").expect("hex")
        );
        assert_eq!(
            oid("2.16.840.1.101.3.4.2.1").expect("oid"),
            hex::decode("0609608648016503040201").expect("hex")
        );
        assert_eq!(integer(0), vec![2, 1, 0]);
        assert_eq!(integer(128), vec![2, 2, 0, 128]);
        assert_eq!(integer(3), vec![2, 1, 3]);
        assert_eq!(tlv(4, &[0u8; 200])[..3], [4, 0x81, 200]);
        assert_eq!(tlv(4, &[0u8; 300])[..4], [4, 0x82, 1, 44]);
        let big = tlv(4, &[7u8; 300]);
        assert_eq!(contents(&big).expect("contents"), &[7u8; 300][..]);
        let t = Utc.with_ymd_and_hms(2026, 3, 14, 12, 0, 5).single().expect("t");
        assert_eq!(&x509_time(&t)[2..], b"260314120005Z");
        assert_eq!(&generalized_time_fraction(&t)[2..], b"20260314120005Z");
        let t2 = t + chrono::Duration::milliseconds(120);
        assert_eq!(&generalized_time_fraction(&t2)[2..], b"20260314120005.12Z");
        assert!(oid("3.1").is_err());
    }
}
