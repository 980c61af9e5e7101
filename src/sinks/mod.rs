//! Outputs: where decoded events (and later alerts and findings) are written.

pub mod alerts;
pub mod events;
