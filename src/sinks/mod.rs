//! Outputs: where decoded events (and later alerts and findings) are written.

pub mod events;
pub mod alerts;
