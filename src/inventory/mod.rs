//! `credwatch inventory`: who could read secrets, mint tokens or exec (RBAC resolved exactly),
//! credentials sitting in plain sight in workload specs, and Docker daemons exposed beyond
//! their intended paths.
//!
//! [`dump`] reads `kubectl get -o json|yaml` output and manifest directories; [`rbac`] resolves
//! bindings with the API server's semantics; [`assess`] turns grants into findings per subject.

pub mod assess;
pub mod blast;
pub mod docker;
pub mod dump;
pub mod rbac;
pub mod report;
pub mod workloads;
