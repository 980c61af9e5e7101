//! `credwatch docker-proxy` against a real Docker Engine and the real `docker` CLI: Debian's
//! dockerd started in a scratch folder (as ../shared/TESTING.md shows), a busybox image imported
//! without a registry. Every command works through the proxy exactly as without it, the events
//! name the calling uid and pid (or certificate, or address), `hunt` raises the expected alerts,
//! dockerd's own debug log yields the same calls, and a canary planted in a container's
//! environment, logs and files appears nowhere credwatch writes.
//!
//! Without dockerd (a laptop) the test says so loudly and passes; `.ci/run` installs it and sets
//! CREDWATCH_REQUIRE_REAL=1, under which its absence fails.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const CANARY: &str = "cw-canary-4f9e2b71d3";
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

fn required() -> bool {
    std::env::var_os("CREDWATCH_REQUIRE_REAL").is_some_and(|v| !v.is_empty() && v != "0")
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    })
}

/// Runs a command with a deadline (a proxy that hangs must fail the test, not stall it).
fn run(mut command: Command, stdin: Option<&[u8]>) -> (Output, u32) {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("command starts");
    let pid = child.id();
    let writer = stdin.map(|data| {
        let mut pipe = child.stdin.take().expect("piped");
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        })
    });
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{command:?} did not finish in {COMMAND_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let output = Output {
        status,
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    };
    (output, pid)
}

/// dockerd in a scratch folder, stopped (containers removed first) when dropped.
struct Dockerd {
    dir: tempfile::TempDir,
    child: Child,
}

impl Dockerd {
    fn start() -> Option<Dockerd> {
        let missing: Vec<&str> = ["dockerd", "docker", "busybox"]
            .into_iter()
            .filter(|p| which(p).is_none())
            .collect();
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        if !missing.is_empty() || !root {
            let why = format!(
                "needs {} (apt-get install docker.io busybox-static) and root; missing: {missing:?}, root: {root}",
                "dockerd, docker, busybox"
            );
            assert!(!required(), "CREDWATCH_REQUIRE_REAL=1: {why}");
            eprintln!("\n*** SKIPPED docker_proxy end-to-end test: {why} ***\n");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("cwdk")
            .tempdir_in("/tmp")
            .expect("scratch dir");
        let d = dir.path().to_path_buf();
        let log = std::fs::File::create(d.join("dockerd.log")).expect("log file");
        let child = Command::new("dockerd")
            .arg("--debug")
            .arg(format!("--host=unix://{}", d.join("docker.sock").display()))
            .arg(format!("--data-root={}", d.join("data").display()))
            .arg(format!("--exec-root={}", d.join("exec").display()))
            .arg(format!("--pidfile={}", d.join("docker.pid").display()))
            .args([
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=vfs",
                "--shutdown-timeout=1",
            ])
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("dockerd starts");
        let dockerd = Dockerd { dir, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (out, _) = run(dockerd.docker(&dockerd.direct(), &["version"]), None);
            if out.status.success() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not answer in 60 s: {}",
                std::fs::read_to_string(d.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(dockerd)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn direct(&self) -> String {
        format!("unix://{}", self.path("docker.sock").display())
    }

    /// `docker -H HOST ARGS`, with a configuration folder of the test's own.
    fn docker(&self, host: &str, args: &[&str]) -> Command {
        let mut command = Command::new("docker");
        command
            .env("DOCKER_CONFIG", self.path("cli-config"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .arg("-H")
            .arg(host)
            .args(args);
        command
    }

    /// Runs docker and insists it succeeded; returns stdout and the CLI's pid.
    fn ok(&self, host: &str, args: &[&str], stdin: Option<&[u8]>) -> (Vec<u8>, u32) {
        let (out, pid) = run(self.docker(host, args), stdin);
        assert!(
            out.status.success(),
            "docker -H {host} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.stdout, pid)
    }

    fn import_busybox(&self) {
        let rootfs = self.path("rootfs");
        for dir in ["bin", "tmp", "run"] {
            std::fs::create_dir_all(rootfs.join(dir)).expect("rootfs");
        }
        let busybox = which("busybox").expect("busybox");
        std::fs::copy(busybox, rootfs.join("bin/busybox")).expect("busybox copied");
        for applet in [
            "sh", "cat", "env", "ls", "sleep", "echo", "tar", "mkdir", "seq",
        ] {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).expect("link");
        }
        let (tar, _) = run(
            {
                let mut c = Command::new("tar");
                c.arg("-C").arg(&rootfs).args(["-c", "."]);
                c
            },
            None,
        );
        assert!(tar.status.success());
        self.ok(
            &self.direct(),
            &["import", "-", "local/busybox:1"],
            Some(&tar.stdout),
        );
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let (ids, _) = run(self.docker(&self.direct(), &["ps", "-aq"]), None);
        let ids = String::from_utf8_lossy(&ids.stdout).into_owned();
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(&ids);
            let _ = run(self.docker(&self.direct(), &args), None);
        }
        // SAFETY: kill has no memory preconditions; the pid is our own child's.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `credwatch docker-proxy`, stopped when dropped.
struct Proxy {
    child: Child,
    /// What clients pass to `docker -H`.
    host: String,
    events: PathBuf,
    stderr: PathBuf,
}

impl Proxy {
    fn start(dockerd: &Dockerd, name: &str, listen: &str, extra: &[&str]) -> Proxy {
        let events = dockerd.path(&format!("{name}.jsonl"));
        let stderr = dockerd.path(&format!("{name}.err"));
        let child = Command::new(env!("CARGO_BIN_EXE_credwatch"))
            .arg("docker-proxy")
            .arg("--listen")
            .arg(listen)
            .arg("--upstream")
            .arg(format!("unix:{}", dockerd.path("docker.sock").display()))
            .arg("--events")
            .arg(&events)
            .args(["--host", "test-host"])
            .args(extra)
            .env("CREDWATCH_KEY_FILE", dockerd.path("fingerprint.key"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("proxy starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        let listening = loop {
            let text = std::fs::read_to_string(&stderr).unwrap_or_default();
            if let Some(line) = text.lines().find(|l| l.contains("listening on ")) {
                break line.to_owned();
            }
            assert!(Instant::now() < deadline, "proxy did not start: {text}");
            std::thread::sleep(Duration::from_millis(20));
        };
        let endpoint = listening
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .expect("endpoint in the ready line");
        let host = match endpoint.strip_prefix("tcp:") {
            Some(address) => format!("tcp://{address}"),
            None => format!("unix://{}", endpoint.trim_start_matches("unix:")),
        };
        Proxy {
            child,
            host,
            events,
            stderr,
        }
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.events)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("every event line is JSON"))
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn text(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn path_of(uri: &str) -> &str {
    uri.split('?').next().unwrap_or(uri)
}

fn hunt(dockerd: &Dockerd, inputs: &[&Path]) -> Vec<Value> {
    let mut args = vec!["hunt".to_owned(), "--format".to_owned(), "jsonl".to_owned()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::credwatch(&args, None, dockerd.dir.path());
    assert!(
        out.code == 0 || out.code == 1,
        "hunt failed: {}",
        out.stderr
    );
    assert!(!out.stdout.contains(CANARY) && !out.stderr.contains(CANARY));
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("alert JSON"))
        .collect()
}

#[test]
fn docker_engine_through_the_proxy() {
    let Some(dockerd) = Dockerd::start() else {
        return;
    };
    dockerd.import_busybox();
    let direct = dockerd.direct();
    // The canary in the environment, in the logs and in a secret file.
    let script = format!(
        "mkdir -p /run/secrets && echo {CANARY}-file > /run/secrets/db_password && echo starting with {CANARY}-log && echo ready && exec sleep 600"
    );
    let env = format!("DB_PASSWORD={CANARY}");
    dockerd.ok(
        &direct,
        &[
            "run",
            "-d",
            "--name",
            "app1",
            "-e",
            &env,
            "local/busybox:1",
            "sh",
            "-c",
            &script,
        ],
        None,
    );
    for i in 0..9 {
        let name = format!("w{i}");
        let line = format!("echo worker {i} && exec sleep 600");
        dockerd.ok(
            &direct,
            &[
                "run",
                "-d",
                "--name",
                &name,
                "local/busybox:1",
                "sh",
                "-c",
                &line,
            ],
            None,
        );
    }
    // Until app1 has written its secret file and log line.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !String::from_utf8_lossy(&dockerd.ok(&direct, &["logs", "app1"], None).0)
        .contains("ready")
    {
        assert!(Instant::now() < deadline, "app1 never became ready");
        std::thread::sleep(Duration::from_millis(100));
    }

    let proxy = Proxy::start(
        &dockerd,
        "unix-proxy",
        &format!("unix:{}", dockerd.path("proxy.sock").display()),
        &[],
    );
    let via = proxy.host.clone();

    // A slow client holding a half-sent request must not stall anyone else.
    let mut slow = UnixStream::connect(dockerd.path("proxy.sock")).expect("connect");
    slow.write_all(b"GET /_ping HTTP/1.1\r\nHo")
        .expect("partial head");

    // The same commands, directly and through the proxy: the same bytes.
    let mut pids = std::collections::HashMap::new();
    let same =
        |args: &[&str], stdin: Option<&[u8]>, pids: &mut std::collections::HashMap<String, u32>| {
            let (expected, _) = dockerd.ok(&direct, args, stdin);
            let (through, pid) = dockerd.ok(&via, args, stdin);
            assert_eq!(
                String::from_utf8_lossy(&through),
                String::from_utf8_lossy(&expected),
                "docker {args:?} differs through the proxy"
            );
            assert!(!expected.is_empty(), "docker {args:?} printed nothing");
            pids.insert(args.join(" "), pid);
            through
        };
    let inspected = same(&["inspect", "app1"], None, &mut pids);
    assert!(
        String::from_utf8_lossy(&inspected).contains(CANARY),
        "the canary is in the env"
    );
    same(&["logs", "app1"], None, &mut pids);
    let env_out = same(&["exec", "app1", "env"], None, &mut pids);
    assert!(String::from_utf8_lossy(&env_out).contains(CANARY));
    // Interactive: stdin through the hijacked stream and back, binary and large.
    let mut noise = vec![0u8; 256 * 1024];
    for (i, b) in noise.iter_mut().enumerate() {
        *b = (i.wrapping_mul(2_654_435_761) >> 13) as u8;
    }
    let echoed = same(&["exec", "-i", "app1", "cat"], Some(&noise), &mut pids);
    assert_eq!(echoed, noise, "exec -i passes stdin and stdout intact");
    // `cp` out: the tar stream itself.
    let tar = same(&["cp", "app1:/run/secrets", "-"], None, &mut pids);
    assert!(String::from_utf8_lossy(&tar).contains(CANARY));
    // `cp` in: a tar stream uploaded (chunked), read back.
    let upload = dockerd.path("upload.bin");
    std::fs::write(&upload, &noise).expect("upload file");
    dockerd.ok(
        &via,
        &["cp", &upload.display().to_string(), "app1:/tmp/upload.bin"],
        None,
    );
    let (back, _) = dockerd.ok(&direct, &["exec", "app1", "cat", "/tmp/upload.bin"], None);
    assert_eq!(back, noise, "cp into the container through the proxy");
    // Logs of many containers and a sweep of inspects, through the proxy.
    let workers: Vec<String> = (0..9).map(|i| format!("w{i}")).collect();
    for w in &workers[..5] {
        dockerd.ok(&via, &["logs", w], None);
    }
    let mut inspect_all = vec!["inspect", "app1"];
    inspect_all.extend(workers.iter().map(String::as_str));
    dockerd.ok(&via, &inspect_all, None);
    // `logs -f` on a container that writes and ends: streamed to the end.
    let followed_script = "for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.2; done";
    dockerd.ok(
        &via,
        &[
            "run",
            "-d",
            "--name",
            "short",
            "local/busybox:1",
            "sh",
            "-c",
            followed_script,
        ],
        None,
    );
    let (followed, _) = dockerd.ok(&via, &["logs", "-f", "short"], None);
    let (all_logs, _) = dockerd.ok(&direct, &["logs", "short"], None);
    assert_eq!(followed, all_logs);
    assert_eq!(String::from_utf8_lossy(&followed).lines().count(), 8);
    // `run` attached: attach, start, wait.
    let (ran, _) = dockerd.ok(
        &via,
        &[
            "run",
            "--rm",
            "local/busybox:1",
            "echo",
            "ran through the proxy",
        ],
        None,
    );
    assert_eq!(String::from_utf8_lossy(&ran), "ran through the proxy\n");
    // A container binding the host's root.
    dockerd.ok(
        &via,
        &[
            "create",
            "--name",
            "rooted",
            "-v",
            "/:/host",
            "local/busybox:1",
            "true",
        ],
        None,
    );
    // The slow client is still there, and was no obstacle.
    slow.write_all(b"st: x\r\n\r\n").expect("rest of the head");
    let mut answer = [0u8; 12];
    slow.read_exact(&mut answer).expect("slow client answered");
    assert_eq!(&answer, b"HTTP/1.1 200");
    drop(slow);

    // The events: every call, the caller named by uid and pid.
    let events = proxy.events();
    assert!(events.len() > 40, "{} events", events.len());
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() }.to_string();
    for e in &events {
        assert_eq!(
            text(e, "/annotations/credwatch.dev~1identity"),
            "uid+pid",
            "{e}"
        );
        assert_eq!(
            text(e, "/annotations/credwatch.dev~1docker-host"),
            "test-host"
        );
        assert_eq!(text(e, "/user/uid"), uid);
        assert!(!text(e, "/user/username").is_empty());
        assert!(text(e, "/user/extra/pid/0").parse::<u32>().is_ok(), "{e}");
        assert_eq!(text(e, "/envelope/platform"), "docker");
        assert!(e.pointer("/responseStatus/code").is_some(), "{e}");
    }
    let inspect_pid = pids["inspect app1"].to_string();
    let inspect = events
        .iter()
        .find(|e| {
            text(e, "/user/extra/pid/0") == inspect_pid
                && path_of(&text(e, "/requestURI")).ends_with("/containers/app1/json")
        })
        .expect("the inspect call, with the pid of the docker CLI that made it");
    assert_eq!(text(inspect, "/verb"), "get");
    assert!(text(inspect, "/user/extra/exe/0").ends_with("docker"));
    let exec_start = events
        .iter()
        .find(|e| {
            text(e, "/objectRef/subresource") == "start"
                && text(e, "/requestURI").contains("cmd=env")
        })
        .expect("the exec start names its container and command");
    assert!(text(exec_start, "/requestURI").contains("container=app1"));
    assert_eq!(text(exec_start, "/stage"), "ResponseStarted");
    let rooted = events
        .iter()
        .find(|e| text(e, "/requestURI").contains("/containers/create?name=rooted"))
        .expect("the create");
    assert_eq!(
        text(rooted, "/annotations/credwatch.dev~1docker-binds"),
        "/"
    );

    // dockerd's own debug log shows the same calls, without a caller.
    let daemon_log = dockerd.path("dockerd.log");
    let decoded = common::credwatch(
        &[
            "events",
            "--format",
            "jsonl",
            &daemon_log.display().to_string(),
        ],
        None,
        dockerd.dir.path(),
    );
    assert_eq!(decoded.code, 0, "{}", decoded.stderr);
    assert!(!decoded.stdout.contains(CANARY) && !decoded.stderr.contains(CANARY));
    let daemon_events = common::events(&decoded.stdout);
    let mut daemon_calls: Vec<(String, String)> = daemon_events
        .iter()
        .map(|e| {
            use sonic_rs::JsonValueTrait;
            assert_eq!(
                e["annotations"]["credwatch.dev/identity"].as_str(),
                Some("none")
            );
            assert!(e["user"]["username"].as_str().is_none());
            (
                e["verb"].as_str().unwrap_or_default().to_owned(),
                path_of(e["requestURI"].as_str().unwrap_or_default()).to_owned(),
            )
        })
        .collect();
    for e in &events {
        let call = (
            text(e, "/verb"),
            path_of(&text(e, "/requestURI")).to_owned(),
        );
        let at = daemon_calls
            .iter()
            .position(|c| *c == call)
            .unwrap_or_else(|| panic!("{call:?} through the proxy is not in dockerd's log"));
        daemon_calls.swap_remove(at);
    }

    // Hunting the proxy's events: who harvested what, and what reached them.
    let alerts = hunt(&dockerd, &[&proxy.events]);
    let fired = |name: &str| -> Vec<&Value> {
        alerts
            .iter()
            .filter(|a| text(a, "/rule/name") == name)
            .collect()
    };
    let username = text(inspect, "/user/username");
    for (rule, verdict) in [
        ("cw_docker_env_harvest", "possible"),
        ("cw_docker_logs_harvest", "possible"),
        ("cw_docker_archive_secret_path", "possible"),
        ("cw_docker_exec_credential_command", "possible"),
        // Creating it returns nothing; what it can reach afterwards is the alert.
        ("cw_docker_create_host_access", "none"),
    ] {
        let hits = fired(rule);
        assert!(!hits.is_empty(), "{rule} did not fire: {alerts:#?}");
        for alert in hits {
            assert_eq!(text(alert, "/exposure/verdict"), verdict, "{rule}: {alert}");
            assert_eq!(text(alert, "/platform"), "docker");
            assert_eq!(text(alert, "/actor/username"), username, "{rule}: {alert}");
        }
    }
    let exec_reason = fired("cw_docker_exec_credential_command")
        .iter()
        .map(|a| text(a, "/exposure/reason"))
        .collect::<Vec<_>>();
    assert!(
        exec_reason.iter().all(|r| r.contains("container app1")),
        "{exec_reason:?}"
    );
    // dockerd's log alone: the calls are there, the callers and commands are not.
    let daemon_alerts = hunt(&dockerd, &[&daemon_log]);
    let daemon_rules: Vec<String> = daemon_alerts
        .iter()
        .map(|a| text(a, "/rule/name"))
        .collect();
    assert!(
        daemon_rules.iter().any(|r| r == "cw_docker_env_harvest"),
        "the inspect sweep is in dockerd's log too: {daemon_rules:?}"
    );
    assert!(
        !daemon_rules
            .iter()
            .any(|r| r == "cw_docker_exec_credential_command")
    );
    assert!(
        daemon_alerts
            .iter()
            .all(|a| text(a, "/actor/username").is_empty())
    );

    // Deny rules: the call is refused with dockerd's error shape, recorded, and the connection
    // serves the next call.
    let deny_rules = common::project_dir().join("tests/fixtures/docker/deny.yml");
    let guarded = Proxy::start(
        &dockerd,
        "deny-proxy",
        &format!("unix:{}", dockerd.path("guarded.sock").display()),
        &["--deny", &deny_rules.display().to_string()],
    );
    let (refused, _) = run(
        dockerd.docker(&guarded.host, &["cp", "app1:/run/secrets", "-"]),
        None,
    );
    assert!(!refused.status.success());
    let refusal = String::from_utf8_lossy(&refused.stderr);
    assert!(
        refusal.contains("credwatch docker-proxy denied this call")
            && refusal.contains("Copy out of a container's secrets refused"),
        "{refusal}"
    );
    assert!(!String::from_utf8_lossy(&refused.stdout).contains(CANARY));
    dockerd.ok(&guarded.host, &["cp", "app1:/etc/hostname", "-"], None);
    let guarded_events = guarded.events();
    let denied = guarded_events
        .iter()
        .find(|e| e.pointer("/responseStatus/code") == Some(&Value::from(403)))
        .expect("the refused call is recorded");
    assert_eq!(
        text(denied, "/annotations/credwatch.dev~1denied-by"),
        "Copy out of a container's secrets refused"
    );
    let denied_alerts = hunt(&dockerd, &[&guarded.events]);
    let archive = denied_alerts
        .iter()
        .find(|a| text(a, "/rule/name") == "cw_docker_archive_secret_path")
        .expect("the attempt still alerts");
    assert_eq!(text(archive, "/exposure/verdict"), "attempted");

    // TCP with client certificates: the certificate names the caller.
    let tls = common::project_dir().join("tests/fixtures/docker/tls");
    let file = |name: &str| tls.join(name).display().to_string();
    let secured = Proxy::start(
        &dockerd,
        "tls-proxy",
        "tcp:127.0.0.1:0",
        &[
            "--tls-cert",
            &file("server.pem"),
            "--tls-key",
            &file("server-key.pem"),
            "--client-ca",
            &file("ca.pem"),
        ],
    );
    let with_cert = |cert: &str, key: &str, args: &[&str]| {
        let mut full = vec!["--tlsverify", "--tlscacert"];
        let ca = file("ca.pem");
        let (cert, key) = (file(cert), file(key));
        full.extend([ca.as_str(), "--tlscert", &cert, "--tlskey", &key]);
        full.extend(args);
        run(dockerd.docker(&secured.host, &full), None).0
    };
    let out = with_cert("client.pem", "client-key.pem", &["exec", "app1", "env"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, env_out, "exec over mTLS");
    let before = secured.events().len();
    let out = with_cert("rogue.pem", "rogue-key.pem", &["ps"]);
    assert!(
        !out.status.success(),
        "a certificate from another CA is refused"
    );
    assert_eq!(
        secured.events().len(),
        before,
        "a refused handshake makes no call"
    );
    let secured_events = secured.events();
    assert!(!secured_events.is_empty());
    for e in &secured_events {
        assert_eq!(
            text(e, "/annotations/credwatch.dev~1identity"),
            "mtls-subject"
        );
        assert_eq!(text(e, "/user/username"), "alice");
        assert_eq!(
            text(e, "/user/extra/certificate-subject/0"),
            "CN=alice,O=ops"
        );
        assert_eq!(text(e, "/user/extra/certificate-sha256/0").len(), 64);
        assert_eq!(text(e, "/sourceIPs/0"), "127.0.0.1");
    }
    let tls_alerts = hunt(&dockerd, &[&secured.events]);
    assert!(tls_alerts.iter().any(|a| text(a, "/rule/name")
        == "cw_docker_exec_credential_command"
        && text(a, "/actor/username") == "alice"));
    assert!(
        !tls_alerts
            .iter()
            .any(|a| text(a, "/rule/name") == "cw_docker_tcp_without_identity")
    );

    // TCP without TLS: only an address, and an alert for reaching credentials that way.
    let open = Proxy::start(&dockerd, "tcp-proxy", "tcp:127.0.0.1:0", &[]);
    dockerd.ok(&open.host, &["logs", "app1"], None);
    let open_events = open.events();
    assert!(
        open_events
            .iter()
            .all(
                |e| text(e, "/annotations/credwatch.dev~1identity") == "source-address"
                    && text(e, "/sourceIPs/0") == "127.0.0.1"
                    && e.pointer("/user/username").is_none()
            )
    );
    let open_alerts = hunt(&dockerd, &[&open.events]);
    assert!(
        open_alerts
            .iter()
            .any(|a| text(a, "/rule/name") == "cw_docker_tcp_without_identity"),
        "{open_alerts:#?}"
    );

    // One caller cannot hold every slot: beyond --max-per-caller it is answered 503, and a
    // slot it gives back is free again.
    let capped = Proxy::start(
        &dockerd,
        "capped-proxy",
        &format!("unix:{}", dockerd.path("capped.sock").display()),
        &["--max-per-caller", "2"],
    );
    let capped_sock = dockerd.path("capped.sock");
    let first = UnixStream::connect(&capped_sock).expect("first");
    let _second = UnixStream::connect(&capped_sock).expect("second");
    std::thread::sleep(Duration::from_millis(200));
    let mut third = UnixStream::connect(&capped_sock).expect("third");
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut refused = String::new();
    let _ = third.read_to_string(&mut refused);
    assert!(
        refused.starts_with("HTTP/1.1 503") && refused.contains("--max-per-caller"),
        "{refused}"
    );
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (out, _) = run(
            dockerd.docker(
                &capped.host,
                &["version", "--format", "{{.Server.Version}}"],
            ),
            None,
        );
        if out.status.success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the freed slot was never given back"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The canary — in the environment, the logs and a file, all of which passed through —
    // is nowhere credwatch wrote.
    for written in [
        &proxy.events,
        &proxy.stderr,
        &guarded.events,
        &guarded.stderr,
        &secured.events,
        &secured.stderr,
        &open.events,
        &open.stderr,
    ] {
        let content = std::fs::read_to_string(written).expect("written");
        assert!(
            !content.contains(CANARY),
            "{} holds the canary",
            written.display()
        );
    }
}
