//! Member authorities (enti), the people who act for them or for suppliers, their roles,
//! and login sessions. Authorization decisions are made on a [`Principal`].

pub mod enti;
pub mod error;
pub mod lifecycle;
pub mod listing;
pub mod password;
pub mod principal;
pub mod qualification;
mod schema;
pub mod sessions;
pub mod throttle;
pub mod trail;
pub mod users;

pub use error::AccountsError;
pub use principal::{Principal, Role, UserKind};
