pub mod audit;
pub mod auth;
pub mod docs;
pub mod enti;
pub mod health;
pub mod users;
