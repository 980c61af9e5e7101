//! What a request URI says beyond its path: the command of an exec, attach or kubelet run
//! request, which the apiserver logs only URL-encoded in the query (`command=cat&command=%2Fetc…`).

/// The `command=` parameters of `uri` (exec, attach, the kubelet's exec) or its `cmd=`
/// parameter (the kubelet's run), percent-decoded (`+` as space, as Go encodes it) and joined
/// by spaces; `None` when the URI has none.
pub fn exec_command(uri: &str) -> Option<String> {
    let (_, query) = uri.split_once('?')?;
    let mut words: Vec<String> = Vec::new();
    for pair in query.split('&') {
        if let Some(value) = pair
            .strip_prefix("command=")
            .or_else(|| pair.strip_prefix("cmd="))
        {
            words.push(percent_decode(value));
        }
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// Percent-decodes a query value (`+` as space); invalid escapes stay as written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3).and_then(hex_pair) {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                // Not an escape: kept as written.
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
}

#[cfg(test)]
mod tests {
    use super::exec_command;

    #[test]
    fn commands_decode() {
        let cases = [
            (
                "/api/v1/namespaces/p/pods/a/exec?command=cat&command=%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken&container=a&stdout=true",
                Some("cat /var/run/secrets/kubernetes.io/serviceaccount/token"),
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=sh&command=-c&command=env+%7C+grep+AWS",
                Some("sh -c env | grep AWS"),
            ),
            (
                "/api/v1/nodes/n/proxy/exec/ns/p/c?command=id&output=1",
                Some("id"),
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?command=100%25&command=%zz",
                Some("100% %zz"),
            ),
            (
                "/api/v1/namespaces/p/pods/a/exec?container=a&stdin=true",
                None,
            ),
            (
                "/api/v1/nodes/n/proxy/run/ns/p/c?cmd=cat+%2Fetc%2Fshadow",
                Some("cat /etc/shadow"),
            ),
            ("/api/v1/namespaces/p/pods/a/log", None),
            ("/api/v1/x?xcommand=ls", None),
        ];
        for (uri, want) in cases {
            assert_eq!(exec_command(uri).as_deref(), want, "{uri}");
        }
    }
}
