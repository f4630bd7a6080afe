//! Centrale's domain vocabulary, shared by every other crate.
//!
//! Nothing here touches a database or the network: identifiers are validated newtypes,
//! the clock is injectable, and legal numbers come from one versioned table.

pub mod clock;
pub mod deadlines;
pub mod draw;
pub mod holidays;
pub mod ids;
pub mod legal;
