//! The portal over plain HTTP and its JavaScript, one module per file; the real-browser tests are a binary of their own (`make screenshots` runs only them).

mod admin_pages;
mod js_unit;
mod portal_core;
mod public_pages;
mod supplier_pages;
