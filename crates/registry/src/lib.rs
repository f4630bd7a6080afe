//! The supplier registry (albo degli operatori economici). Issue 3 fills it in; see docs/architecture.md.
