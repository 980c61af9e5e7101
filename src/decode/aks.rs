//! Azure AKS: diagnostic records of category `kube-audit` or `kube-audit-admin`, the Event in
//! `properties.log` as a JSON string (Event Hubs, storage) or as an object (some exporters).
//! Batches (`{"records":[…]}`) are unwrapped in the parent module.

use super::{Ctx, Decoder, RejectReason, Sink, Wrapper};
use crate::event::SourceFormat;
use sonic_rs::JsonValueTrait;
use std::borrow::Cow;

pub(super) fn decode_record<S: Sink>(
    dec: &Decoder,
    category: &str,
    w: &Wrapper<'_>,
    ctx: &Ctx<'_>,
    sink: &mut S,
) {
    if !category.eq_ignore_ascii_case("kube-audit")
        && !category.eq_ignore_ascii_case("kube-audit-admin")
    {
        let detail =
            format!("Azure record of category {category:?}, not kube-audit or kube-audit-admin");
        return sink.reject(&ctx.origin, RejectReason::NotAuditEvent, &detail);
    }
    let mut child = ctx.nested(SourceFormat::AksDiagnostic);
    if let Some(cluster) = w.resource_id.as_deref().and_then(cluster_from_resource_id) {
        child.cluster = Some(Cow::Owned(cluster));
    }
    if let Some(time) = &w.time {
        child.envelope_time = Some(Cow::Owned(time.to_string()));
    }
    let log = w.properties.as_ref().and_then(|p| p.get("log"));
    match log {
        Some(log) => dec.decode_embedded(&log, child, sink),
        None => sink.reject(
            &ctx.origin,
            RejectReason::InvalidField,
            "kube-audit record without properties.log",
        ),
    }
}

/// `…/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/<name>[/…]`. Azure's diagnostic
/// pipeline upper-cases resource ids while cluster names are case-insensitive, so the name is
/// given in lower case, as the portal and `az aks list` show it.
pub(super) fn cluster_from_resource_id(resource_id: &str) -> Option<String> {
    const MARKER: &str = "/managedclusters/";
    let lower = resource_id.to_ascii_lowercase();
    let at = lower.find(MARKER)? + MARKER.len();
    let name = lower[at..].split('/').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}
