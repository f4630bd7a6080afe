//! Loading of the reference tables embedded from `crates/domain/data/` (see its SOURCES.md).
//!
//! The files are compiled into the binary with `include_str!` and parsed once, on first use,
//! by the modules that own them (each behind a `std::sync::OnceLock`). They are fixed data
//! shipped with the code, not user input, so a malformed row is a build defect: parsing
//! panics with the file name, and the unit tests of each owner load every table.

use serde::de::DeserializeOwned;

/// Parses an embedded RFC 4180 CSV (header row, comma separator) into rows of `T`,
/// matching struct fields to column names; columns `T` does not name are ignored.
pub(super) fn parse_rows<T: DeserializeOwned>(file: &str, text: &'static str) -> Vec<T> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .map(|row| row.unwrap_or_else(|e| panic!("embedded data file {file} is malformed: {e}")))
        .collect()
}
