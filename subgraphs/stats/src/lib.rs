//! The stats subgraph: per-user statistics computed from the counts tasks provides.
