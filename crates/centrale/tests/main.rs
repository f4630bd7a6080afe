//! The binary driven as a user drives it, one module per file.

mod bundle;
mod calculators_cli;
mod crash;
mod fuzz;
mod scale_out;
mod seal_cli;
mod walkthrough;
mod web_fixtures;
