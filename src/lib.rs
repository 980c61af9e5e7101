//! credwatch finds credential access through container management APIs (MITRE ATT&CK
//! T1552.007): reads of Secrets, minted service-account tokens, container logs and environment,
//! exec into workloads, through the Kubernetes API server, the kubelet or the Docker Engine API.
//!
//! Data walks one way: [`source`] (inputs, decompression, framing) → [`decode`] (formats into
//! the one event shape of [`event`]) → consumers such as [`sinks`]. [`ingest`] drives that walk
//! and counts every record; [`redact`] keeps credential values out of every output.

pub mod alert;
pub mod alert_store;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod decode;
pub mod docker;
pub mod engine;
pub mod event;
pub mod findings;
pub mod ingest;
pub mod inventory;
pub mod redact;
pub mod rules;
pub mod scan;
pub mod simulate;
pub mod sinks;
pub mod source;
pub mod text;
pub mod validate;
