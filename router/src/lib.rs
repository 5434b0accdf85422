//! A general Apollo Federation v2 router.
