//! Validated identifiers of Italian public procurement (domain.md §10).
//!
//! Every identifier is a newtype that can only be built through validation (`parse`,
//! `FromStr`, `TryFrom`, serde), holds its normalized text, and serializes as a plain string.
//! Reference tables (CPV 2008, ISTAT comuni, Belfiore codes, SOA) are embedded from
//! `crates/domain/data/`; provenance and licences are in `data/SOURCES.md`.

#[macro_use]
mod string_id;

mod belfiore;
mod cig;
mod codice_fiscale;
mod comune;
mod cpv;
mod csv_data;
mod cup;
mod error;
mod nuts;
mod partita_iva;
mod pec;
mod soa;

pub use belfiore::{belfiore_place, BelfiorePlace};
pub use cig::{Cig, CigKind};
pub use codice_fiscale::{CodiceFiscale, PersonData, Sex};
pub use comune::{comune_by_belfiore, comune_by_istat, comuni, ComuneInfo, IstatComune};
pub use cpv::Cpv;
pub use cup::Cup;
pub use error::IdError;
pub use nuts::Nuts;
pub use partita_iva::PartitaIva;
pub use pec::Pec;
pub use soa::{SoaCategoria, SoaClassifica};
