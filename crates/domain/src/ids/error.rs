//! The single error type of the identifier module.
//!
//! Each variant maps to a stable machine code ([`IdError::code`]) for API clients and to an
//! Italian message (`Display`) for people. Variants never carry the rejected input when it
//! may be personal data (a codice fiscale); they carry only public reference codes.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    #[error("Partita IVA non valida: deve essere composta da 11 cifre")]
    PartitaIvaFormat,
    #[error("Partita IVA non valida: non può essere composta da soli zeri")]
    PartitaIvaZero,
    #[error("Partita IVA non valida: cifra di controllo errata")]
    PartitaIvaCheckDigit,

    #[error("Codice fiscale non valido: formato errato (16 caratteri per le persone fisiche, 11 cifre per i soggetti diversi)")]
    CodiceFiscaleFormat,
    #[error("Codice fiscale non valido: lettera del mese di nascita errata")]
    CodiceFiscaleMonth,
    #[error("Codice fiscale non valido: giorno di nascita fuori intervallo")]
    CodiceFiscaleDay,
    #[error("Codice fiscale non valido: carattere di controllo errato")]
    CodiceFiscaleCheckChar,
    #[error("Codice fiscale non valido: codice del luogo di nascita {belfiore} sconosciuto")]
    CodiceFiscaleBelfioreUnknown { belfiore: String },

    #[error("CIG non valido: formato errato (10 caratteri)")]
    CigFormat,
    #[error("CIG non valido: caratteri di controllo errati")]
    CigCheck,

    #[error("CUP non valido: formato errato (15 caratteri)")]
    CupFormat,

    #[error("Codice CPV non valido: formato atteso NNNNNNNN-N")]
    CpvFormat,
    #[error("Codice CPV {stem} non presente nel vocabolario CPV 2008")]
    CpvUnknown { stem: String },
    #[error("Codice CPV non valido: la cifra di controllo di {stem} è {expected}")]
    CpvCheckDigit { stem: String, expected: char },

    #[error("Codice ISTAT del comune non valido: devono essere 6 cifre")]
    IstatFormat,
    #[error("Codice ISTAT {code} non corrisponde ad alcun comune")]
    IstatUnknown { code: String },

    #[error("Indirizzo PEC non valido: formato errato")]
    PecFormat,

    #[error("Codice NUTS non valido: formato atteso IT seguito da al più 3 caratteri")]
    NutsFormat,
    #[error("Codice NUTS {code} non presente nella classificazione NUTS 2021 per l'Italia")]
    NutsUnknown { code: String },

    #[error("Categoria SOA {code} sconosciuta")]
    SoaCategoriaUnknown { code: String },
    #[error("Classifica SOA {value} sconosciuta")]
    SoaClassificaUnknown { value: String },
}

impl IdError {
    /// Stable machine-readable code, safe to expose in API responses and to match on in clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PartitaIvaFormat => "partita_iva_format",
            Self::PartitaIvaZero => "partita_iva_zero",
            Self::PartitaIvaCheckDigit => "partita_iva_check_digit",
            Self::CodiceFiscaleFormat => "codice_fiscale_format",
            Self::CodiceFiscaleMonth => "codice_fiscale_month",
            Self::CodiceFiscaleDay => "codice_fiscale_day",
            Self::CodiceFiscaleCheckChar => "codice_fiscale_check_char",
            Self::CodiceFiscaleBelfioreUnknown { .. } => "codice_fiscale_belfiore_unknown",
            Self::CigFormat => "cig_format",
            Self::CigCheck => "cig_check",
            Self::CupFormat => "cup_format",
            Self::CpvFormat => "cpv_format",
            Self::CpvUnknown { .. } => "cpv_unknown",
            Self::CpvCheckDigit { .. } => "cpv_check_digit",
            Self::IstatFormat => "istat_format",
            Self::IstatUnknown { .. } => "istat_unknown",
            Self::PecFormat => "pec_format",
            Self::NutsFormat => "nuts_format",
            Self::NutsUnknown { .. } => "nuts_unknown",
            Self::SoaCategoriaUnknown { .. } => "soa_categoria_unknown",
            Self::SoaClassificaUnknown { .. } => "soa_classifica_unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_messages_italian() {
        let e = IdError::PartitaIvaCheckDigit;
        assert_eq!(e.code(), "partita_iva_check_digit");
        assert_eq!(e.to_string(), "Partita IVA non valida: cifra di controllo errata");
        let e = IdError::CpvCheckDigit {
            stem: "45000000".into(),
            expected: '7',
        };
        assert_eq!(e.code(), "cpv_check_digit");
        assert!(e.to_string().contains("45000000"));
    }
}
