//! Document generation (PDF with pdf-writer, exports). Filled in with the award issue; see docs/architecture.md.
