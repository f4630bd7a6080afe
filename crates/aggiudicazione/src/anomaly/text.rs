//! Which text of Allegato II.2 governs a tender, and the options that text allows.
//!
//! The correttivo (D.Lgs. 209/2024, in force from 2024-12-31) changed only Method A point 3:
//! "Tutti gli sconti pari o superiori alla soglia di anomalia sono automaticamente esclusi".
//! A tender keeps the text in force on its publication date (the day the notice is sent, as
//! every other rule of the legal table). Under the amended text the readings that contradict
//! it are refused: an offer equal to the Method A threshold kept, and wing ties counted as one
//! block (point 1 a: "le offerte aventi un uguale valore di ribasso sono prese in
//! considerazione distintamente"). A tender published before the change may have adopted them.

use chrono::NaiveDate;

use super::types::{AllegatoText, AnomalyMethod, AnomalyOptions, WingTies};
use crate::error::EvalError;

/// First day of the amended text (D.Lgs. 209/2024, in force from 2024-12-31): the legal
/// table's correttivo version.
pub const AMENDED_FROM: NaiveDate = domain::legal::CORRETTIVO_FROM;

/// Citation of the amendment, quoted in reports and errors.
pub const AMENDMENT: &str = "Allegato II.2 Metodo A punto 3, come modificato dal D.Lgs. 209/2024 (dal 31/12/2024)";

/// The text in force on `publication` (absent: the text in force now, the amended one).
pub fn of_publication(publication: Option<NaiveDate>) -> AllegatoText {
    match publication {
        Some(day) if day < AMENDED_FROM => AllegatoText::Original2023,
        _ => AllegatoText::Amended2024,
    }
}

/// Refuse, under the amended text, the options that contradict it.
pub(crate) fn check_options(
    text: AllegatoText,
    method: AnomalyMethod,
    options: &AnomalyOptions,
) -> Result<(), EvalError> {
    if text == AllegatoText::Original2023 {
        return Ok(());
    }
    if let Some(rule) = options.equal_to_threshold {
        if rule != method.default_equal_to_threshold() {
            return Err(EvalError::OptionNotInForce {
                field: "options.equal_to_threshold".to_owned(),
                reason: format!(
                    "per le gare pubblicate dal 31/12/2024 (D.Lgs. 209/2024) il metodo {method} tratta le offerte pari alla soglia come dice il testo; l'altra lettura vale solo per le gare pubblicate prima"
                ),
            });
        }
    }
    if options.wing_ties != WingTies::CountIndividually {
        return Err(EvalError::OptionNotInForce {
            field: "options.wing_ties".to_owned(),
            reason: "Allegato II.2 punto 1 lett. a): le offerte di uguale ribasso si considerano distintamente; il «blocco unitario» vale solo per le gare pubblicate prima del 31/12/2024".to_owned(),
        });
    }
    Ok(())
}
