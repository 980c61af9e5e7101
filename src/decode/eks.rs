//! Amazon EKS: audit events arrive through CloudWatch Logs, each Event serialized as a string in
//! a log event's `message`. Three envelopes: a subscription `DATA_MESSAGE` (Lambda, Firehose,
//! Kinesis), the output of `aws logs filter-log-events`, and a single log event object. Export
//! text lines (`<timestamp> <message>`) are recognised in the parent module.

use super::{Ctx, Decoder, RejectReason, Sink, SkipReason, Wrapper, for_each_item, short_error};
use crate::event::SourceFormat;
use serde::Deserialize;
use sonic_rs::{JsonValueTrait, LazyValue};
use std::borrow::Cow;

/// One CloudWatch log event inside a batch.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEvent<'a> {
    #[serde(borrow, default)]
    message: Option<LazyValue<'a>>,
    #[serde(borrow, default)]
    timestamp: Option<LazyValue<'a>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    log_stream_name: Option<Cow<'a, str>>,
}

/// `{"messageType":"DATA_MESSAGE","logGroup":…,"logStream":…,"logEvents":[…]}`.
pub(super) fn decode_subscription<S: Sink>(
    dec: &Decoder,
    w: &Wrapper<'_>,
    ctx: &Ctx<'_>,
    sink: &mut S,
) {
    match w.message_type.as_deref() {
        Some("CONTROL_MESSAGE") => {
            return sink.skip(&ctx.origin, SkipReason::CloudWatchControlMessage);
        }
        Some("DATA_MESSAGE") | None => {}
        Some(other) => {
            let detail = format!(
                "CloudWatch messageType {other:?} is neither DATA_MESSAGE nor CONTROL_MESSAGE"
            );
            return sink.reject(&ctx.origin, RejectReason::NotAuditEvent, &detail);
        }
    }
    let mut child = ctx.nested(SourceFormat::EksSubscription);
    if let Some(cluster) = w.log_group.as_deref().and_then(eks_cluster_from_log_group) {
        child.cluster = Some(Cow::Owned(cluster.to_owned()));
    }
    let Some(events) = &w.log_events else {
        return sink.reject(
            &ctx.origin,
            RejectReason::InvalidField,
            "DATA_MESSAGE without logEvents",
        );
    };
    decode_log_events(dec, events, w.log_stream.as_deref(), child, sink);
}

/// `aws logs filter-log-events` / `get-log-events` output: `{"events":[{"logStreamName",
/// "timestamp","message",…}]}`. It does not name the log group, so the cluster comes from
/// `--cluster`.
pub(super) fn decode_filter_output<S: Sink>(
    dec: &Decoder,
    events: &LazyValue<'_>,
    ctx: &Ctx<'_>,
    sink: &mut S,
) {
    decode_log_events(
        dec,
        events,
        None,
        ctx.nested(SourceFormat::EksFilterLogEvents),
        sink,
    );
}

/// One log event object per record: `{"timestamp","message","logStreamName","logGroupName"}`.
pub(super) fn decode_log_event<S: Sink>(
    dec: &Decoder,
    w: &Wrapper<'_>,
    ctx: &Ctx<'_>,
    sink: &mut S,
) {
    let mut child = ctx.nested(SourceFormat::EksLogEvent);
    let group = w.log_group_name.as_deref().or(w.log_group.as_deref());
    if let Some(cluster) = group.and_then(eks_cluster_from_log_group) {
        child.cluster = Some(Cow::Owned(cluster.to_owned()));
    }
    let stream = w.log_stream_name.as_deref().or(w.log_stream.as_deref());
    if let Some(message) = &w.message {
        decode_message(dec, message, w.timestamp.as_ref(), stream, child, sink);
    }
}

fn decode_log_events<S: Sink>(
    dec: &Decoder,
    events: &LazyValue<'_>,
    batch_stream: Option<&str>,
    ctx: Ctx<'_>,
    sink: &mut S,
) {
    for_each_item(
        events,
        ctx,
        "CloudWatch events",
        sink,
        |raw, item_ctx, sink| match sonic_rs::from_str::<LogEvent>(raw.as_raw_str()) {
            Ok(event) => {
                let stream = event.log_stream_name.as_deref().or(batch_stream);
                match &event.message {
                    Some(message) => decode_message(
                        dec,
                        message,
                        event.timestamp.as_ref(),
                        stream,
                        item_ctx,
                        sink,
                    ),
                    None => sink.reject(
                        &item_ctx.origin,
                        RejectReason::InvalidField,
                        "CloudWatch log event without message",
                    ),
                }
            }
            Err(e) => sink.reject(
                &item_ctx.origin,
                RejectReason::InvalidField,
                &format!("CloudWatch log event: {}", short_error(&e)),
            ),
        },
    );
}

/// A log event's `message`: the audit Event as a JSON string. Messages from other control-plane
/// streams of the same log group (authenticator, scheduler, controller manager) are not audit
/// records; they are counted as skipped when the stream name says so.
fn decode_message<S: Sink>(
    dec: &Decoder,
    message: &LazyValue<'_>,
    timestamp: Option<&LazyValue<'_>>,
    stream: Option<&str>,
    mut ctx: Ctx<'_>,
    sink: &mut S,
) {
    if stream.is_some_and(|s| !s.starts_with("kube-apiserver-audit")) {
        return sink.skip(&ctx.origin, SkipReason::EksNonAuditStream);
    }
    if let Some(ts) = timestamp {
        let text = ts
            .as_i64()
            .map(|ms| ms.to_string())
            .or_else(|| ts.as_str().map(str::to_owned));
        ctx.envelope_time = text.map(Cow::Owned);
    }
    dec.decode_embedded(message, ctx, sink);
}

/// `logGroup` `/aws/eks/<cluster>/cluster` names the cluster.
fn eks_cluster_from_log_group(group: &str) -> Option<&str> {
    let rest = group.strip_prefix("/aws/eks/")?;
    let (name, tail) = rest.split_once('/')?;
    (tail == "cluster" && !name.is_empty()).then_some(name)
}
