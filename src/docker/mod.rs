//! The Docker Engine API: how its calls map into the one event shape ([`api`]). Decoding the
//! daemon's own logs is in `decode::docker`.

pub mod api;
pub mod proxy;
