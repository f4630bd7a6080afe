//! Pages of the official-only listings (`GET /enti`, `GET /users`): a centrale serves
//! thousands of Comuni, and each row is assembled with further queries, so no request may ask
//! for all of them at once (issue 11).

use serde::Deserialize;

use crate::AccountsError;

/// Largest page.
pub const MAX_LIMIT: i64 = 500;
/// Page size when none is asked.
pub const DEFAULT_LIMIT: i64 = 100;

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// At most this many rows (1–500, default 100).
    pub limit: Option<i64>,
    /// Skip this many rows of the stable order (default 0).
    pub offset: Option<i64>,
}

impl Page {
    /// `(limit, offset)`, checked.
    pub fn bounds(self) -> Result<(i64, i64), AccountsError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AccountsError::invalid(
                "limit_out_of_range",
                "limit",
                format!("Il limite deve essere tra 1 e {MAX_LIMIT}"),
            ));
        }
        let offset = self.offset.unwrap_or(0);
        if offset < 0 {
            return Err(AccountsError::invalid(
                "offset_out_of_range",
                "offset",
                "Lo scostamento non può essere negativo",
            ));
        }
        Ok((limit, offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded() {
        assert_eq!(Page::default().bounds().ok(), Some((100, 0)));
        assert_eq!(
            Page {
                limit: Some(500),
                offset: Some(7)
            }
            .bounds()
            .ok(),
            Some((500, 7))
        );
        for bad in [
            Page {
                limit: Some(0),
                offset: None,
            },
            Page {
                limit: Some(501),
                offset: None,
            },
            Page {
                limit: None,
                offset: Some(-1),
            },
        ] {
            assert!(bad.bounds().is_err(), "{bad:?}");
        }
    }
}
