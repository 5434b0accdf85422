//! The tasks subgraph: tasks, their filters, pages and counts.
