//! PEC (Posta Elettronica Certificata) addresses.

use super::IdError;

string_id!(
    /// An e-mail address meant to be a PEC mailbox, trimmed and lower-cased.
    ///
    /// Only the syntax is checked (`local@domain`, a dot in the domain, no spaces, at most
    /// 254 characters, a conservative ASCII character set). Whether the address is really a
    /// certified PEC mailbox cannot be checked offline: that needs the INI-PEC / IPA
    /// registries or a delivery receipt.
    Pec
);

const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

impl Pec {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_lowercase();
        if s.len() > MAX_LEN {
            return Err(IdError::PecFormat);
        }
        let (local, domain) = s.split_once('@').ok_or(IdError::PecFormat)?;
        if valid_local(local) && valid_domain(domain) {
            Ok(Self(s))
        } else {
            Err(IdError::PecFormat)
        }
    }

    /// The part after `@`, e.g. `pec.comune.roma.it`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

/// Dot-separated runs of letters, digits and the RFC 5322 "atext" symbols.
fn valid_local(local: &str) -> bool {
    local.len() <= MAX_LOCAL_LEN
        && local.split('.').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~-".contains(&b))
        })
}

/// At least two labels of letters, digits and inner hyphens; the last one at least
/// two characters long.
fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.last().is_some_and(|tld| tld.len() >= 2)
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_lowercases() {
        let pec = Pec::parse("  Protocollo.Generale@PEC.Comune.Roma.IT ").expect("valid");
        assert_eq!(pec.as_str(), "protocollo.generale@pec.comune.roma.it");
        assert_eq!(pec.domain(), "pec.comune.roma.it");
        assert!(Pec::parse("acquisti+gare@legalmail.it").is_ok());
        assert!(Pec::parse("ufficio_gare-2@pec.impresa-edile.it").is_ok());
    }

    #[test]
    fn rejects_malformed() {
        let long_local = format!("{}@pec.it", "a".repeat(65));
        let too_long = format!("a@{}.it", "b".repeat(252));
        for bad in [
            "",
            "protocollo",
            "protocollo@",
            "@pec.it",
            "protocollo@pec",
            "proto collo@pec.it",
            "protocollo@pec .it",
            "a@b@pec.it",
            "protocollo@pec..it",
            ".protocollo@pec.it",
            "protocollo.@pec.it",
            "protocollo@-pec.it",
            "protocollo@pec.i",
            "protocòllo@pec.it",
            long_local.as_str(),
            too_long.as_str(),
        ] {
            assert_eq!(Pec::parse(bad), Err(IdError::PecFormat), "{bad}");
        }
    }

    #[test]
    fn length_limit_is_254() {
        // "a@" + 3 × 63 + 57 + 4 dots + "it" = 254 characters: accepted; one more is not.
        let label = "b".repeat(63);
        let domain = format!("{label}.{label}.{label}.{}.it", "c".repeat(57));
        let ok = format!("a@{domain}");
        assert_eq!(ok.len(), 254);
        assert!(Pec::parse(&ok).is_ok());
        assert_eq!(Pec::parse(&format!("aa@{domain}")), Err(IdError::PecFormat));
    }
}
