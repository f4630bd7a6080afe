//! The tender lifecycle (bando). Issue 4 fills it in; see docs/architecture.md.
