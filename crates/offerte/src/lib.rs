//! Bids (offerte) and their envelopes. Issue 5 fills it in on top of the `seal` crate; see docs/architecture.md.
