//! Record-level decoding cases: one record in, the events and rejections that come out.

use super::*;
use crate::event::Decoded;

#[derive(Default)]
struct Collect {
    out: Vec<String>,
}

impl Sink for Collect {
    fn event(&mut self, d: &Decoded<'_, '_>) {
        let e = d.event;
        let o = e.object_ref.clone().unwrap_or_default();
        self.out.push(format!(
            "event {} {} {}/{}/{}/{} by {} code {} decision {} cluster {} format {} at {}",
            e.verb.as_deref().unwrap_or("-"),
            o.resource.as_deref().unwrap_or("-"),
            o.subresource.as_deref().unwrap_or("-"),
            o.namespace.as_deref().unwrap_or("-"),
            o.name.as_deref().unwrap_or("-"),
            o.api_group.as_deref().unwrap_or("-"),
            e.user.username.as_deref().unwrap_or("-"),
            e.response_status
                .as_ref()
                .and_then(|r| r.code)
                .map_or("-".into(), |c| c.to_string()),
            e.decision().unwrap_or("-"),
            d.envelope.cluster.as_deref().unwrap_or("-"),
            d.envelope.format,
            d.origin,
        ));
    }
    fn reject(&mut self, origin: &Origin<'_>, reason: RejectReason, _detail: &str) {
        self.out.push(format!("reject {reason} at {origin}"));
    }
    fn skip(&mut self, origin: &Origin<'_>, reason: SkipReason) {
        self.out
            .push(format!("skip {} at {origin}", reason.as_str()));
    }
}

fn decode(record: &str) -> Vec<String> {
    let mut sink = Collect::default();
    Decoder::new(None).decode_record(record.as_bytes(), "f", 7, &mut sink);
    sink.out
}

const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"ns","name":"db"},"responseStatus":{"code":200},"annotations":{"authorization.k8s.io/decision":"allow"}}"#;
const GOT: &str = "event get secrets -/ns/db/- by alice code 200 decision allow";

#[test]
fn records() {
    let escaped = EVENT.replace('"', "\\\"");
    let cases: Vec<(&str, String, Vec<String>)> = vec![
        ("native", EVENT.into(), vec![format!("{GOT} cluster - format k8s_audit at f:7")]),
        (
            "v1beta1 without kind but with the shape of an event",
            r#"{"verb":"list","requestURI":"/api/v1/secrets","user":{"username":"bob","groups":null},"sourceIPs":null}"#.into(),
            vec!["event list - -/-/-/- by bob code - decision - cluster - format k8s_audit at f:7".into()],
        ),
        (
            "event list with a bad item",
            format!(r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{EVENT},{{"kind":"Event","verb":5}},{EVENT}]}}"#),
            vec![
                format!("{GOT} cluster - format k8s_event_list at f:7 (item 1)"),
                "reject invalid_field at f:7 (item 2)".into(),
                format!("{GOT} cluster - format k8s_event_list at f:7 (item 3)"),
            ],
        ),
        ("empty event list", r#"{"kind":"EventList","items":[]}"#.into(), vec!["skip empty_batch at f:7".into()]),
        ("json array", format!("[{EVENT}]"), vec![format!("{GOT} cluster - format json_array at f:7 (item 1)")]),
        (
            "eks subscription",
            format!(r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/eks/prod/cluster","logStream":"kube-apiserver-audit-abc","logEvents":[{{"id":"1","timestamp":1790000000000,"message":"{escaped}"}}]}}"#),
            vec![format!("{GOT} cluster prod format eks_subscription at f:7 (item 1)")],
        ),
        (
            "eks control message",
            r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination"}]}"#.into(),
            vec!["skip cloudwatch_control_message at f:7".into()],
        ),
        (
            "eks authenticator stream is not audit",
            r#"{"timestamp":1,"message":"time=x level=info msg=access granted","logStreamName":"authenticator-abc"}"#.into(),
            vec!["skip eks_non_audit_stream at f:7".into()],
        ),
        (
            "eks log event",
            format!(r#"{{"timestamp":1790000000000,"message":"{escaped}","logStreamName":"kube-apiserver-audit-1","logGroupName":"/aws/eks/dev/cluster"}}"#),
            vec![format!("{GOT} cluster dev format eks_log_event at f:7")],
        ),
        (
            "eks filter-log-events output",
            format!(r#"{{"events":[{{"logStreamName":"kube-apiserver-audit-1","timestamp":1,"message":"{escaped}","ingestionTime":2,"eventId":"3"}}],"searchedLogStreams":[]}}"#),
            vec![format!("{GOT} cluster - format eks_filter_log_events at f:7 (item 1)")],
        ),
        ("eks export text", format!("2026-10-01T12:00:00.000Z {EVENT}"), vec![format!("{GOT} cluster - format eks_export_text at f:7")]),
        (
            "aks string",
            format!(r#"{{"category":"kube-audit","properties":{{"log":"{escaped}","stream":"stdout"}},"resourceId":"/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/PROD-AKS","time":"2026-10-01T12:00:00Z"}}"#),
            vec![format!("{GOT} cluster prod-aks format aks_diagnostic at f:7")],
        ),
        (
            "aks object in records batch",
            format!(r#"{{"records":[{{"category":"kube-audit-admin","properties":{{"log":{EVENT}}}}}]}}"#),
            vec![format!("{GOT} cluster - format aks_diagnostic at f:7 (item 1)")],
        ),
        (
            "aks activity log is not kube-audit",
            r#"{"category":"Administrative","operationName":"X","properties":{}}"#.into(),
            vec!["reject not_audit_event at f:7".into()],
        ),
        (
            "gke log entry",
            r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"k8s.io","methodName":"io.k8s.core.v1.secrets.get","resourceName":"core/v1/namespaces/ns/secrets/db","authenticationInfo":{"principalEmail":"alice"},"authorizationInfo":[{"granted":true}]},"resource":{"type":"k8s_cluster","labels":{"cluster_name":"gke-1"}},"timestamp":"2026-10-01T12:00:00Z"}"#.into(),
            vec![format!("{GOT} cluster gke-1 format gke_log_entry at f:7")],
        ),
        (
            "gke denied by status",
            r#"{"protoPayload":{"methodName":"io.k8s.core.v1.pods.exec.create","resourceName":"core/v1/namespaces/ns/pods/web/exec","status":{"code":7},"authorizationInfo":[{"granted":false}]}}"#.into(),
            vec!["event create pods exec/ns/web/- by - code 403 decision forbid cluster - format gke_log_entry at f:7".into()],
        ),
        (
            "gcp audit of another service",
            r#"{"protoPayload":{"serviceName":"compute.googleapis.com","methodName":"v1.compute.instances.insert"}}"#.into(),
            vec!["reject not_audit_event at f:7".into()],
        ),
        (
            "panther-style log wrapper around aks",
            format!(r#"{{"rule_id":"x","log":{{"category":"kube-audit","properties":{{"log":"{escaped}"}}}}}}"#),
            vec![format!("{GOT} cluster - format aks_diagnostic at f:7")],
        ),
        ("docker json-file text line", r#"{"log":"hello\n","stream":"stdout"}"#.into(), vec!["reject not_json at f:7".into()]),
        ("kind 0", r#"{"kind": 0}"#.into(), vec!["reject not_audit_event at f:7".into()]),
        (
            "core v1 event is not an audit event",
            r#"{"kind":"Event","apiVersion":"v1","involvedObject":{"kind":"Pod"},"reason":"Pulled"}"#.into(),
            vec!["reject not_audit_event at f:7".into()],
        ),
        (
            "nesting deeper than the parser may recurse",
            format!(r#"{{"kind":"Event","verb":"get","requestObject":{}{}}}"#, "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING)),
            vec!["reject too_deep at f:7".into()],
        ),
        (
            "brackets inside strings do not count as nesting",
            format!(r#"{{"kind":"Event","verb":"get","requestURI":"/{}","user":{{"username":"u"}},"objectRef":{{"resource":"secrets","namespace":"ns","name":"db"}},"responseStatus":{{"code":200}},"annotations":{{"authorization.k8s.io/decision":"allow"}}}}"#, "[{".repeat(200)),
            vec!["event get secrets -/ns/db/- by u code 200 decision allow cluster - format k8s_audit at f:7".into()],
        ),
        (
            "a list longer than any event holds",
            format!(r#"{{"kind":"Event","verb":"get","sourceIPs":[{}"x"]}}"#, r#""x","#.repeat(crate::event::MAX_LIST)),
            vec!["reject invalid_field at f:7".into()],
        ),
        (
            "gke method with a version and nothing after",
            r#"{"protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1"}}"#.into(),
            vec!["reject invalid_field at f:7".into()],
        ),
        (
            "gke proto3 omits granted false",
            r#"{"protoPayload":{"methodName":"io.k8s.core.v1.secrets.get","resourceName":"core/v1/namespaces/ns/secrets/db","authenticationInfo":{"principalEmail":"alice"},"authorizationInfo":[{"permission":"io.k8s.core.v1.secrets.get"}],"status":{"code":7}}}"#.into(),
            vec!["event get secrets -/ns/db/- by alice code 403 decision forbid cluster - format gke_log_entry at f:7".into()],
        ),
        (
            "duplicate annotation: the last wins",
            r#"{"kind":"Event","verb":"get","user":{"username":"alice"},"objectRef":{"resource":"secrets","namespace":"ns","name":"db"},"responseStatus":{"code":200},"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/decision":"forbid"}}"#.into(),
            vec!["event get secrets -/ns/db/- by alice code 200 decision forbid cluster - format k8s_audit at f:7".into()],
        ),
        ("kubernetes manifest", r#"{"apiVersion":"v1","kind":"Pod","metadata":{}}"#.into(), vec!["reject not_audit_event at f:7".into()]),
        ("bad field type", r#"{"kind":"Event","verb":"get","objectRef":{"resource":7}}"#.into(), vec!["reject invalid_field at f:7".into()]),
        ("syntax error", r#"{"kind":"Event","verb":}"#.into(), vec!["reject not_json at f:7".into()]),
        ("cut short", r#"{"kind":"Event","verb":"get""#.into(), vec!["reject incomplete at f:7".into()]),
        ("plain text", "Nov 28 kernel: hello".into(), vec!["reject not_json at f:7".into()]),
        ("number-led text", "404 not found".into(), vec!["reject not_json at f:7".into()]),
        ("scalar", "true".into(), vec!["reject not_json at f:7".into()]),
        (
            "nesting bomb",
            format!("{}{EVENT}{}", r#"{"log":"#.repeat(10), "}".repeat(10)),
            vec!["reject too_deep at f:7".into()],
        ),
    ];
    for (name, record, want) in cases {
        assert_eq!(decode(&record), want, "case {name}");
    }
}

#[test]
fn invalid_utf8_is_named() {
    let mut record = EVENT.as_bytes().to_vec();
    let at = record.iter().position(|b| *b == b'a').expect("has an a");
    record[at] = 0xff;
    let mut sink = Collect::default();
    Decoder::new(None).decode_record(&record, "f", 1, &mut sink);
    assert_eq!(sink.out, ["reject invalid_utf8 at f:1"]);
}

#[test]
fn default_cluster_labels_only_unlabelled_events() {
    let mut sink = Collect::default();
    let decoder = Decoder::new(Some("given".into()));
    decoder.decode_record(EVENT.as_bytes(), "f", 1, &mut sink);
    let aks = format!(
        r#"{{"category":"kube-audit","properties":{{"log":{EVENT}}},"resourceId":"/x/managedClusters/own"}}"#
    );
    decoder.decode_record(aks.as_bytes(), "f", 2, &mut sink);
    assert!(sink.out[0].contains("cluster given"), "{}", sink.out[0]);
    assert!(sink.out[1].contains("cluster own"), "{}", sink.out[1]);
}

#[test]
fn raw_is_the_innermost_record() {
    struct Raw(Vec<String>);
    impl Sink for Raw {
        fn event(&mut self, d: &Decoded<'_, '_>) {
            self.0.push(String::from_utf8_lossy(d.raw).into_owned());
        }
        fn reject(&mut self, _: &Origin<'_>, _: RejectReason, _: &str) {}
        fn skip(&mut self, _: &Origin<'_>, _: SkipReason) {}
    }
    let escaped = EVENT.replace('"', "\\\"");
    let wrapped = format!(
        r#"{{"category":"kube-audit","properties":{{"log":"{escaped}"}},"resourceId":"/x/managedClusters/c"}}"#
    );
    let mut sink = Raw(Vec::new());
    Decoder::new(None).decode_record(wrapped.as_bytes(), "f", 1, &mut sink);
    assert_eq!(sink.0, [EVENT]);
}
