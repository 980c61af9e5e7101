//! The command line: verbs parsed here, each handed to its domain module. This is the edge where
//! library errors become messages and exit codes.

use crate::config::Config;
use crate::engine::{self, HuntOptions};
use crate::event::fields::all_fields;
use crate::ingest::{self, IngestOptions};
use crate::redact::Redactor;
use crate::rules::{self, Level, RuleSource, Severity};
use crate::sinks::alerts::{AlertFormat, write_alerts};
use crate::sinks::events::{EventFormat, EventWriter};
use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// credwatch: who read secrets, minted tokens, pulled logs or exec'd into workloads through the
/// Kubernetes API, the kubelet or the Docker Engine API, and did a credential leave.
#[derive(Parser)]
#[command(name = "credwatch", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode audit logs (native, EventList, EKS, GKE, AKS; plain, gzip or zstd) and print the
    /// events in the one event shape, with where each came from.
    Events(EventsArgs),
    /// Run Sigma rules (built-in and your own) over audit logs and print alerts.
    Hunt(HuntArgs),
    /// List, lint or test rules.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// List the event fields rules and outputs can use.
    Fields(FieldsArgs),
    /// Generate the audit log of a busy cluster with attack scenarios mixed in (deterministic
    /// for a seed), in any input format; `--list` names the scenarios.
    Simulate(SimulateArgs),
    /// Print the default configuration (the rules' tunables), to copy and edit for `--config`.
    Config,
    /// Simulate every attack scenario in a busy cluster, run the real pipeline over it and
    /// print what was detected; exit 1 if a scenario was missed or the benign background
    /// raised an alert of level high or above.
    Validate(ValidateArgs),
    /// Find credentials already exposed in container logs (Docker json-file, CRI, plain text,
    /// gzip, the kubelet's layouts) and Kubernetes object dumps, without printing them: type,
    /// place, length and a keyed fingerprint.
    Scan(ScanArgs),
    /// Can we prove who accessed container APIs and what they got? Checks the audit policy
    /// (and kube-apiserver's audit flags) against every way to reach a credential, and what the
    /// audit logs actually show.
    #[command(subcommand)]
    Coverage(CoverageCommand),
    /// Who could read secrets, mint tokens or exec (RBAC resolved exactly as the API server
    /// does), credentials in plain sight in workload specs, and exposed Docker daemons — from
    /// dumps you produce, without giving credwatch cluster access.
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// A transparent Docker Engine API proxy that records every call with its caller: on a Unix
    /// socket the uid, gid, pid, executable and container of the process that connected; on TCP
    /// the client certificate (mTLS) or the source address. Events in the one event shape, for
    /// `hunt`; optional deny rules answer 403.
    DockerProxy(DockerProxyArgs),
}

#[derive(clap::Args)]
struct DockerProxyArgs {
    /// Where clients connect: unix:PATH or tcp:HOST:PORT.
    #[arg(long, value_name = "ENDPOINT")]
    listen: crate::docker::proxy::Endpoint,
    /// The Docker daemon: unix:PATH or tcp:HOST:PORT.
    #[arg(
        long,
        value_name = "ENDPOINT",
        default_value = "unix:/var/run/docker.sock"
    )]
    upstream: crate::docker::proxy::Endpoint,
    /// Where events go, one JSON line per call (appended; `-` for stdout).
    #[arg(long, value_name = "FILE|-", default_value = "-")]
    events: PathBuf,
    /// Sigma rules (`logsource: {product: docker}`) for calls to refuse with 403; a file or a
    /// directory, repeatable.
    #[arg(long, value_name = "RULES")]
    deny: Vec<PathBuf>,
    /// The host name events carry (`annotations.credwatch.dev/docker-host`); default: this
    /// machine's.
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    /// Connections served at once; more are answered 503.
    #[arg(long, value_name = "N", default_value_t = 512)]
    max_connections: usize,
    /// Connections one caller (a uid on the Unix socket, a client address on TCP) may hold at
    /// once; more are answered 503.
    #[arg(long, value_name = "N", default_value_t = 64)]
    max_per_caller: usize,
    /// Server certificate (PEM) for a TCP listener; with --tls-key and --client-ca, clients
    /// must present a certificate the CA signed.
    #[arg(long, value_name = "FILE", requires_all = ["tls_key", "client_ca"])]
    tls_cert: Option<PathBuf>,
    #[arg(long, value_name = "FILE", requires_all = ["tls_cert", "client_ca"])]
    tls_key: Option<PathBuf>,
    #[arg(long, value_name = "FILE", requires_all = ["tls_cert", "tls_key"])]
    client_ca: Option<PathBuf>,
}

#[derive(Subcommand)]
enum InventoryCommand {
    /// Per subject, the dangerous permissions its bindings grant (secrets, tokens, exec,
    /// nodes/proxy, impersonation, escalation, pod creation, CSR approval, webhooks), service
    /// accounts joined to the pods and nodes that hold their tokens, platform identities apart.
    /// DUMP: `kubectl get clusterroles,clusterrolebindings,roles,rolebindings,serviceaccounts,pods,nodes,secrets -A -o json`
    /// output, or files and directories of YAML/JSON manifests.
    Rbac(InventoryRbacArgs),
    /// Every subject that can do VERB on RESOURCE[/SUBRESOURCE] (or a non-resource URL such
    /// as /metrics), through which binding and role, where.
    WhoCan(WhoCanArgs),
    /// Credentials in plain sight: literal env values in pod and workload specs, ConfigMap
    /// data, container arguments, Secrets kept in last-applied-configuration, legacy
    /// service-account token Secrets; pods mounting the runtime socket, the kubelet's or
    /// control plane's credentials or the host root. Values redacted.
    Workloads(InventoryRbacArgs),
    /// Docker daemons and containers exposed beyond intended paths, from daemon.json, dockerd
    /// command lines (systemd units, drop-ins, `ps` output) and `docker inspect` output.
    Docker(InventoryDockerArgs),
}

#[derive(Args)]
struct InventoryDockerArgs {
    /// daemon.json, systemd units or drop-ins, `ps` output or a command line, `docker inspect`
    /// output.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// The files are one host's: combine their daemon settings (daemon.json and the unit's
    /// flags) as dockerd does, instead of judging each file alone.
    #[arg(long)]
    one_host: bool,
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(Args)]
struct InventoryRbacArgs {
    /// Dump files or directories of manifests.
    #[arg(value_name = "DUMP", required = true)]
    dumps: Vec<PathBuf>,
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(Args)]
struct WhoCanArgs {
    /// The verb (get, list, create, impersonate, bind, …).
    #[arg(value_name = "VERB")]
    verb: String,
    /// RESOURCE[/SUBRESOURCE], optionally RESOURCE.GROUP (`deployments.apps`), or a
    /// non-resource URL starting with `/`.
    #[arg(value_name = "RESOURCE")]
    resource: String,
    /// Dump files or directories of manifests.
    #[arg(value_name = "DUMP", required = true)]
    dumps: Vec<PathBuf>,
    /// Only grants effective in this namespace (without it: grants anywhere, each with where).
    #[arg(short, long, value_name = "NS")]
    namespace: Option<String>,
    /// An object name (rules narrowed by resourceNames count only when they list it).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The resource's API group, when it is not a well-known one.
    #[arg(long, value_name = "GROUP")]
    api_group: Option<String>,
    /// Output: a table for people, one JSON document, or one subject per line.
    #[arg(long, value_enum, default_value = "table")]
    format: ScanFormatArg,
    /// Write the answer to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
enum CoverageCommand {
    /// Analyse an audit policy: per probe request (Secrets, tokens, exec, logs, the kubelet,
    /// impersonation, RBAC, CSRs) the level, stages and deciding rule, and findings: too low,
    /// credentials written into the log, rules that do not say what was meant.
    Policy(CoveragePolicyArgs),
    /// What the audit logs actually show, per cluster and source: time span, events per day,
    /// gaps, retention, completeness of identity, source, action, resource and result, whether
    /// credential access is visible at all, levels of credential-bearing resources, records
    /// that carry credentials (redacted), activity hard to attribute, blind spots.
    Logs(CoverageLogsArgs),
}

#[derive(Args)]
struct CoverageLogsArgs {
    #[command(flatten)]
    input: InputArgs,
    /// A period without events longer than this many minutes is reported as a gap.
    #[arg(long, value_name = "MINUTES", default_value_t = 15)]
    gap: i64,
    /// Days of history an investigation needs the logs to cover.
    #[arg(long, value_name = "DAYS", default_value_t = 30.0)]
    retention: f64,
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    #[command(flatten)]
    report: ReportArgs,
}

/// Where and how a report (coverage) is written.
#[derive(Args)]
struct ReportArgs {
    /// Output: a table for people, one JSON document, or one finding per line.
    #[arg(long, value_enum, default_value = "table")]
    format: ScanFormatArg,
    /// Write the report to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with status 3 when a finding of this severity or above was produced.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<SeverityArg>,
}

impl ReportArgs {
    fn format(&self) -> crate::findings::ReportFormat {
        self.format.format()
    }

    /// Writes the report, then says how the run ends: 3 when `--fail-on` is met.
    fn finish(
        &self,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
        worst: Option<crate::findings::Severity>,
    ) -> anyhow::Result<ExitCode> {
        let mut out = output_writer(self.output.as_ref())?;
        match write(&mut out).and_then(|()| out.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            other => other.context("writing the report")?,
        }
        if let (Some(min), Some(worst)) = (self.fail_on, worst)
            && worst >= min.severity()
        {
            return Ok(ExitCode::from(3));
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[derive(Args)]
struct CoveragePolicyArgs {
    /// The audit policy (audit.k8s.io/v1 or v1beta1 Policy, YAML or JSON).
    #[arg(value_name = "POLICY")]
    policy: PathBuf,
    /// kube-apiserver's flags: a static pod manifest, a file holding the command line, or the
    /// command line itself.
    #[arg(long, value_name = "ARGS|MANIFEST")]
    apiserver: Option<String>,
    /// Audit events per second the cluster produces (from `coverage logs` or metrics), to check
    /// the webhook backend's throughput against.
    #[arg(long, value_name = "N")]
    event_rate: Option<f64>,
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScanFormatArg {
    Table,
    Json,
    Jsonl,
}

impl ScanFormatArg {
    fn format(self) -> crate::findings::ReportFormat {
        use crate::findings::ReportFormat;
        match self {
            ScanFormatArg::Table => ReportFormat::Table,
            ScanFormatArg::Json => ReportFormat::Json,
            ScanFormatArg::Jsonl => ReportFormat::Jsonl,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityArg {
    fn severity(self) -> crate::findings::Severity {
        use crate::findings::Severity as S;
        match self {
            SeverityArg::Info => S::Info,
            SeverityArg::Low => S::Low,
            SeverityArg::Medium => S::Medium,
            SeverityArg::High => S::High,
            SeverityArg::Critical => S::Critical,
        }
    }
}

#[derive(Args)]
struct ScanArgs {
    /// Log files, directories (walked recursively) or object dumps; `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format; `table` when stdout is a terminal, else `jsonl`.
    #[arg(long, value_enum)]
    format: Option<ScanFormatArg>,
    /// Write findings to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Files scanned at once (default: the machine's cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Also list documentation examples (AKIAIOSFODNN7EXAMPLE, the jwt.io token) as info
    /// findings; by default they are only counted.
    #[arg(long)]
    examples: bool,
    /// Exit with status 3 when a finding of this severity or above was produced.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<SeverityArg>,
}

#[derive(Clone, Copy, ValueEnum)]
enum HuntFormat {
    Table,
    Jsonl,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum LevelArg {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl LevelArg {
    fn level(self) -> Level {
        match self {
            LevelArg::Informational => Level::Informational,
            LevelArg::Low => Level::Low,
            LevelArg::Medium => Level::Medium,
            LevelArg::High => Level::High,
            LevelArg::Critical => Level::Critical,
        }
    }
}

#[derive(Args)]
struct RuleArgs {
    /// Sigma rule file or directory (repeatable); added to the built-in rules.
    #[arg(short = 'r', long = "rules", value_name = "RULES")]
    rules: Vec<PathBuf>,
    /// Leave out the built-in rules and the built-in filters.
    #[arg(long)]
    no_builtin: bool,
    /// The rules' tunables: placeholders (namespaces, address ranges, expected identities),
    /// correlation windows, rules and filters switched off (`credwatch config` prints the defaults).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct HuntArgs {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    rules: RuleArgs,
    /// Output format; `table` when stdout is a terminal, else `jsonl`.
    #[arg(long, value_enum)]
    format: Option<HuntFormat>,
    /// Write alerts to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only report alerts of this level or above.
    #[arg(long, value_enum, value_name = "MIN")]
    level: Option<LevelArg>,
    /// Exit with status 3 when an alert of this level or above was produced.
    #[arg(long, value_enum, value_name = "LEVEL")]
    fail_on: Option<LevelArg>,
    /// Threads that decode and match, the reading thread among them (default: the machine's cores). Output is the same for any number.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Decode every record, even those that contain none of the literals the rules require
    /// (the prefilter is exact, but records it passes over are not validated; `--strict` also
    /// turns it off).
    #[arg(long)]
    no_prefilter: bool,
    /// Groups kept per correlation rule before the least recently seen are evicted.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    max_groups: usize,
    /// Findings of `credwatch scan` (json or jsonl): reads of container logs that hold
    /// credentials become exposure `exposed`, naming the credential types.
    #[arg(long, value_name = "FILE")]
    scan: Option<PathBuf>,
    /// An RBAC dump (as for `inventory rbac`): reads of legacy token Secrets, token requests and
    /// exec into pods whose service account has dangerous permissions carry a `blast_radius`
    /// and rise one level. Repeat for several files.
    #[arg(long, value_name = "DUMP")]
    inventory: Vec<PathBuf>,
}

#[derive(Args)]
struct ValidateArgs {
    /// Scenarios to run (default: all; `credwatch simulate --list` names them).
    #[arg(value_name = "SCENARIO")]
    scenarios: Vec<String>,
    /// Benign events mixed around each scenario.
    #[arg(long, value_name = "N", default_value_t = 2_000)]
    background: u64,
    /// Benign events of the false-positive run (0 skips it).
    #[arg(long, value_name = "N", default_value_t = 50_000)]
    benign: u64,
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// The log format to simulate and decode.
    #[arg(long, value_enum, default_value = "native")]
    input_format: crate::simulate::SimFormat,
    /// Output: a table for people, or one JSON report.
    #[arg(long, value_enum, default_value = "table")]
    format: FieldsFormat,
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// The rules' tunables (see `credwatch config`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct SimulateArgs {
    /// Scenarios to mix in: their names, `all` or `none` (default: all).
    #[arg(value_name = "SCENARIO|all|none")]
    scenarios: Vec<String>,
    /// Benign background events (about 5 ms apart from 2026-03-02T09:00:00Z, ~1 KB each).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    background: u64,
    /// Seed: the same options always write the same bytes.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Log format to write.
    #[arg(long, value_enum, default_value = "native")]
    format: crate::simulate::SimFormat,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// List the scenarios (name, expected rules, exposure, description) and exit.
    #[arg(long)]
    list: bool,
}

#[derive(Subcommand)]
enum RulesCommand {
    /// List the rules that would run.
    List {
        #[command(flatten)]
        rules: RuleArgs,
        #[arg(long, value_enum, default_value = "table")]
        format: FieldsFormat,
        /// List the filters instead: each with its reason and the rules it applies to.
        #[arg(long)]
        filters: bool,
    },
    /// Check rule files and report every problem of every file, with file:line.
    Lint {
        /// Rule files or directories.
        #[arg(required = true, value_name = "RULES")]
        paths: Vec<PathBuf>,
        /// The tunables placeholders are expanded from (default: the shipped ones).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Run the rules' own test events (built-in rules, and those given).
    Test {
        /// Rule files or directories whose tests to run (default: the built-in rules).
        #[arg(value_name = "RULES")]
        paths: Vec<PathBuf>,
        /// Leave out the built-in rules.
        #[arg(long)]
        no_builtin: bool,
        /// The rules' tunables (see `credwatch config`).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

#[derive(Args)]
struct InputArgs {
    /// Files or directories to read (directories recursively); `-` reads stdin.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Cluster name for inputs that do not say it.
    #[arg(long, value_name = "NAME")]
    cluster: Option<String>,
    /// Fail (exit 1) at the first record that cannot be decoded.
    #[arg(long)]
    strict: bool,
    /// Largest record (line or JSON document) read, in MiB; longer ones are reported and skipped.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    max_record_mb: usize,
    /// Print every rejected record, not only the first 10 of each input.
    #[arg(long)]
    all_errors: bool,
    /// Only events at or after this time (RFC 3339); events without a time pass through.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    from: Option<jiff::Timestamp>,
    /// Only events at or before this time (RFC 3339); events without a time pass through.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    to: Option<jiff::Timestamp>,
    /// Also write the run's summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    summary_json: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum EventsFormat {
    Jsonl,
    Table,
}

#[derive(Args)]
struct EventsArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format; `table` when stdout is a terminal, else `jsonl`.
    #[arg(long, value_enum)]
    format: Option<EventsFormat>,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum FieldsFormat {
    Table,
    Json,
}

#[derive(Args)]
struct FieldsArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: FieldsFormat,
}

/// Runs the command line; the binary's `main` is only this.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap: help and version are not failures; usage errors exit 2 (DESIGN.md).
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Events(args) => events(args),
        Command::Fields(args) => fields(args),
        Command::Simulate(args) => simulate(args),
        Command::Validate(args) => validate(args),
        Command::Config => {
            print!("{}", crate::config::DEFAULTS);
            Ok(ExitCode::SUCCESS)
        }
        Command::Hunt(args) => hunt(args),
        Command::Scan(args) => scan(args),
        Command::Coverage(CoverageCommand::Policy(args)) => coverage_policy(args),
        Command::Coverage(CoverageCommand::Logs(args)) => coverage_logs(args),
        Command::Inventory(InventoryCommand::Rbac(args)) => inventory_rbac(args),
        Command::Inventory(InventoryCommand::WhoCan(args)) => inventory_who_can(args),
        Command::Inventory(InventoryCommand::Workloads(args)) => inventory_workloads(args),
        Command::Inventory(InventoryCommand::Docker(args)) => inventory_docker(args),
        Command::Rules(cmd) => rules_command(cmd),
        Command::DockerProxy(args) => docker_proxy(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("credwatch: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn output_writer(path: Option<&PathBuf>) -> anyhow::Result<Box<dyn Write>> {
    Ok(match path {
        Some(path) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock())),
    })
}

fn docker_proxy(args: DockerProxyArgs) -> anyhow::Result<ExitCode> {
    use crate::docker::proxy::{self, Endpoint, ProxyOptions, tls::TlsFiles};
    let tls = match (args.tls_cert, args.tls_key, args.client_ca) {
        (Some(cert), Some(key), Some(client_ca)) => Some(TlsFiles {
            cert,
            key,
            client_ca,
        }),
        _ => None,
    };
    match (&args.listen, &tls) {
        (Endpoint::Unix(_), Some(_)) => {
            anyhow::bail!(
                "--tls-cert is for a tcp: listener; a Unix socket names its callers itself"
            )
        }
        (Endpoint::Tcp(address), None) => eprintln!(
            "docker-proxy: warning: tcp:{address} without --tls-cert: anyone who reaches it \
             controls Docker, and calls name only a source address"
        ),
        _ => {}
    }
    let deny = if args.deny.is_empty() {
        None
    } else {
        let sources: Vec<RuleSource> = args.deny.iter().cloned().map(RuleSource::File).collect();
        Some(rules::load(&sources).map_err(|e| {
            let details: Vec<String> = e.0.iter().map(|d| d.to_string()).collect();
            anyhow::anyhow!("deny rules: {}", details.join("\n"))
        })?)
    };
    let host = args.host.unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned())
    });
    let events: Box<dyn Write + Send> = if args.events.as_os_str() == "-" {
        Box::new(io::stdout())
    } else {
        Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&args.events)
                .with_context(|| format!("cannot open {}", args.events.display()))?,
        )
    };
    let redactor = Redactor::from_env();
    let upstream = args.upstream.to_string();
    let events_to = args.events.display().to_string();
    proxy::run(
        ProxyOptions {
            listen: args.listen,
            upstream: args.upstream,
            host,
            deny,
            max_connections: args.max_connections.max(1),
            max_per_caller: args.max_per_caller.max(1),
            tls,
        },
        events,
        &redactor,
        |listening| {
            eprintln!(
                "docker-proxy: listening on {listening}, upstream {upstream}, events to {events_to}"
            )
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn ingest_options(args: &InputArgs) -> IngestOptions {
    IngestOptions {
        max_record_bytes: args.max_record_mb.saturating_mul(1 << 20),
        strict: args.strict,
        cluster: args.cluster.clone(),
        max_errors_per_input: if args.all_errors { None } else { Some(10) },
        from: args.from,
        to: args.to,
        progress: None,
    }
}

fn parse_time(text: &str) -> Result<jiff::Timestamp, String> {
    crate::event::parse_timestamp(text)
        .ok_or_else(|| format!("{text:?} is not a time (RFC 3339, e.g. 2026-10-14T09:00:00Z)"))
}

fn events(args: EventsArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        Some(EventsFormat::Jsonl) => EventFormat::Jsonl,
        Some(EventsFormat::Table) => EventFormat::Table,
        None if args.output.is_none() && io::stdout().is_terminal() => EventFormat::Table,
        None => EventFormat::Jsonl,
    };
    let redactor = Redactor::from_env();
    let mut writer = EventWriter::new(output_writer(args.output.as_ref())?, format, &redactor);
    let options = ingest_options(&args.input);
    let mut stderr = io::stderr().lock();
    let outcome = ingest::ingest(&args.input.paths, &options, &mut stderr, |decoded| {
        writer.write(decoded)
    });
    match writer.finish() {
        // A reader that stopped early (`| head`) is not a failure of the run.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("writing events")?,
    }
    let summary = &outcome.summary;
    let _ = writeln!(stderr, "{}", summary.human());
    if let Some(path) = &args.input.summary_json {
        let text = sonic_rs::to_string_pretty(summary).context("serializing the summary")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    match outcome.stopped {
        Some(stop) => Err(stop.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn fields(args: FieldsArgs) -> anyhow::Result<ExitCode> {
    let mut out = output_writer(None)?;
    match args.format {
        FieldsFormat::Table => {
            let width = all_fields().map(|(name, ..)| name.len()).max().unwrap_or(0);
            for (name, ty, description) in all_fields() {
                writeln!(out, "{name:<width$}  {:<9} {description}", ty.as_str())?;
            }
        }
        FieldsFormat::Json => {
            let rows: Vec<_> = all_fields()
                .map(|(name, ty, description)| {
                    sonic_rs::json!({"name": name, "type": ty.as_str(), "description": description})
                })
                .collect();
            writeln!(out, "{}", sonic_rs::to_string(&rows)?)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn load_config(path: Option<&PathBuf>) -> anyhow::Result<Config> {
    Ok(match path {
        Some(path) => Config::load(path)?,
        None => Config::defaults(),
    })
}

fn load_rules(args: &RuleArgs) -> anyhow::Result<rules::RuleSet> {
    let sources: Vec<RuleSource> = args.rules.iter().cloned().map(RuleSource::File).collect();
    let config = load_config(args.config.as_ref())?;
    match rules::load_with_builtin(&sources, !args.no_builtin, &config) {
        Ok(set) => Ok(set),
        Err(e) => {
            let mut stderr = io::stderr().lock();
            for d in &e.0 {
                let _ = writeln!(
                    stderr,
                    "credwatch: {}",
                    crate::text::printable(&d.to_string())
                );
            }
            anyhow::bail!(
                "{} rule error{}; nothing was run (`credwatch rules lint` lists them)",
                e.0.len(),
                if e.0.len() == 1 { "" } else { "s" }
            )
        }
    }
}

/// `--threads`, by default the machine's cores.
fn threads_or_cores(threads: Option<usize>) -> anyhow::Result<usize> {
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        anyhow::bail!("--threads must be at least 1");
    }
    Ok(threads)
}

fn coverage_logs(args: CoverageLogsArgs) -> anyhow::Result<ExitCode> {
    use crate::coverage::logs;
    let threads = threads_or_cores(args.threads)?;
    let options = logs::LogsOptions {
        threads,
        gap_minutes: args.gap.max(1),
        retention_days: args.retention.max(0.0),
    };
    let ingest_options = ingest_options(&args.input);
    let report = logs::logs_report(
        &args.input.paths,
        &ingest_options,
        &options,
        &mut io::stderr(),
    );
    let format = args.report.format();
    let exit = args.report.finish(
        |out| crate::coverage::write_logs_report(out, format, &report),
        crate::coverage::worst(&report.findings),
    );
    let _ = writeln!(io::stderr(), "{}", report.ingest.human());
    exit
}

fn coverage_policy(args: CoveragePolicyArgs) -> anyhow::Result<ExitCode> {
    let path = args.policy.display().to_string();
    let report = crate::coverage::policy_report(&path, args.apiserver.as_deref(), args.event_rate)?;
    let format = args.report.format();
    args.report.finish(
        |out| crate::coverage::write_policy_report(out, format, &report),
        crate::coverage::worst(&report.findings),
    )
}

/// Reads the dumps, naming every object that could not be used on stderr.
fn load_dumps(paths: &[PathBuf]) -> crate::inventory::dump::Dump {
    let dump = crate::inventory::dump::load(paths);
    let mut stderr = io::stderr().lock();
    for error in &dump.errors {
        let _ = writeln!(
            stderr,
            "credwatch: {}",
            crate::text::printable(&error.to_string())
        );
    }
    dump
}

fn dump_summary(dump: &crate::inventory::dump::Dump) {
    let twice = if dump.duplicates > 0 {
        format!(", {} given twice (read once)", dump.duplicates)
    } else {
        String::new()
    };
    let _ = writeln!(
        io::stderr(),
        "read {} objects from {} file(s), {} rejected{twice}",
        dump.objects,
        dump.files.len(),
        dump.errors.len()
    );
}

fn inventory_rbac(args: InventoryRbacArgs) -> anyhow::Result<ExitCode> {
    let dump = load_dumps(&args.dumps);
    let report = crate::inventory::assess::assess(&dump);
    let format = args.report.format();
    let worst = report
        .findings
        .iter()
        .filter(|f| !f.platform)
        .map(|f| f.severity)
        .max();
    let exit = args.report.finish(
        |out| crate::inventory::report::write_rbac(out, format, &report),
        worst,
    );
    dump_summary(&dump);
    exit
}

fn inventory_workloads(args: InventoryRbacArgs) -> anyhow::Result<ExitCode> {
    use crate::inventory::workloads;
    let dump = load_dumps(&args.dumps);
    let rbac = crate::inventory::assess::assess(&dump);
    let report = workloads::report(&dump, &rbac, &Redactor::from_env());
    let format = args.report.format();
    let exit = args.report.finish(
        |out| crate::inventory::report::write_workloads(out, format, &report),
        workloads::worst(&report),
    );
    dump_summary(&dump);
    exit
}

fn inventory_docker(args: InventoryDockerArgs) -> anyhow::Result<ExitCode> {
    use crate::inventory::docker;
    let report = docker::report(&args.files, args.one_host);
    let mut stderr = io::stderr().lock();
    for error in &report.errors {
        let _ = writeln!(stderr, "credwatch: {}", crate::text::printable(error));
    }
    drop(stderr);
    let format = args.report.format();
    let exit = args.report.finish(
        |out| crate::inventory::report::write_docker(out, format, &report),
        docker::worst(&report),
    );
    let s = &report.summary;
    let _ = writeln!(
        io::stderr(),
        "read {} file(s): {} daemon configuration(s), {} container(s), {} unreadable",
        s.files,
        s.daemon_configs,
        s.containers,
        s.errors
    );
    exit
}

fn inventory_who_can(args: WhoCanArgs) -> anyhow::Result<ExitCode> {
    use crate::inventory::rbac::{Rbac, Request};
    let (request, assumed) = Request::query(&args.verb, &args.resource, args.api_group.as_deref());
    if assumed {
        let _ = writeln!(
            io::stderr(),
            "credwatch: {} is not a resource credwatch knows: assuming the core API group (give --api-group or RESOURCE.GROUP)",
            request.resource
        );
    }
    let request = request
        .in_namespace(args.namespace.as_deref())
        .named(args.name.as_deref());
    let dump = load_dumps(&args.dumps);
    let rbac = Rbac::new(&dump);
    let answers = rbac.who_can(&request);
    let mut out = output_writer(args.output.as_ref())?;
    match crate::inventory::report::write_who_can(
        &mut out,
        args.format.format(),
        &request,
        &answers,
    )
    .and_then(|()| out.flush())
    {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("writing the answer")?,
    }
    dump_summary(&dump);
    Ok(ExitCode::SUCCESS)
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    use crate::findings::ReportFormat;
    use crate::scan::ScanOptions;
    let format = match args.format {
        Some(format) => format.format(),
        None if args.output.is_none() && io::stdout().is_terminal() => ReportFormat::Table,
        None => ReportFormat::Jsonl,
    };
    let threads = threads_or_cores(args.threads)?;
    let options = ScanOptions {
        threads,
        include_examples: args.examples,
    };
    let redactor = Redactor::from_env();
    let report = crate::scan::scan_paths(&args.paths, &options, &redactor);
    let mut stderr = io::stderr().lock();
    let notes = report.errors.iter().map(ToString::to_string);
    for line in notes.chain(report.notes.iter().cloned()) {
        let _ = writeln!(stderr, "credwatch: {}", crate::text::printable(&line));
    }
    let mut out = output_writer(args.output.as_ref())?;
    match crate::scan::write_report(&mut out, format, &report).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("writing findings")?,
    }
    let _ = writeln!(stderr, "credwatch: {}", report.summary.human());
    if let Some(min) = args.fail_on {
        let min = min.severity();
        if report
            .findings
            .iter()
            .any(|f| !f.example && f.severity >= min)
        {
            return Ok(ExitCode::from(3));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn hunt(args: HuntArgs) -> anyhow::Result<ExitCode> {
    let set = load_rules(&args.rules)?;
    if set.is_empty() {
        anyhow::bail!("no rules to run (give -r RULES, or drop --no-builtin)");
    }
    let format = match args.format {
        Some(HuntFormat::Jsonl) => AlertFormat::Jsonl,
        Some(HuntFormat::Table) => AlertFormat::Table,
        Some(HuntFormat::Csv) => AlertFormat::Csv,
        None if args.output.is_none() && io::stdout().is_terminal() => AlertFormat::Table,
        None => AlertFormat::Jsonl,
    };
    let threads = threads_or_cores(args.threads)?;
    let options = HuntOptions {
        threads,
        min_level: args.level.map_or(Level::Informational, LevelArg::level),
        prefilter: !args.no_prefilter,
        max_groups: args.max_groups.max(1),
        scan: match &args.scan {
            Some(path) => Some(std::sync::Arc::new(crate::scan::exposure::ScanIndex::load(
                path,
            )?)),
            None => None,
        },
        inventory: if args.inventory.is_empty() {
            None
        } else {
            let loaded = crate::inventory::blast::BlastIndex::load(&args.inventory);
            // Unreadable objects are named whether or not the rest could be used.
            let unreadable = match &loaded {
                Ok((_, errors))
                | Err(crate::inventory::blast::BlastIndexError::Empty { errors }) => errors,
            };
            let mut stderr = io::stderr().lock();
            for error in unreadable {
                let _ = writeln!(
                    stderr,
                    "credwatch: --inventory: {}",
                    crate::text::printable(&error.to_string())
                );
            }
            Some(std::sync::Arc::new(loaded?.0))
        },
        ..HuntOptions::default()
    };
    let redactor = Redactor::from_env();
    let mut ingest_options = ingest_options(&args.input);
    let progress = io::stderr()
        .is_terminal()
        .then(|| Progress::start(&args.input.paths));
    ingest_options.progress = progress.as_ref().map(|p| p.bytes.clone());
    let mut stderr = io::stderr().lock();
    for note in &set.notes {
        let _ = writeln!(
            stderr,
            "credwatch: {}",
            crate::text::printable(&note.to_string())
        );
    }
    drop(stderr);
    // Workers share stderr; an unlocked handle can be sent to them.
    let (outcome, alerts, stats) = engine::hunt(
        &args.input.paths,
        &ingest_options,
        &set,
        &options,
        &redactor,
        &mut io::stderr(),
    );
    drop(progress);
    let mut stderr = io::stderr().lock();
    let mut out = output_writer(args.output.as_ref())?;
    match write_alerts(&mut out, format, alerts, threads > 1).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("writing alerts")?,
    }
    let summary = &outcome.summary;
    let _ = writeln!(stderr, "{}", summary.human());
    let levels: Vec<String> = stats
        .alerts_by_level
        .iter()
        .rev()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        stderr,
        "credwatch: {} rules, {} alert{}{}{}; prefilter {}",
        stats.rules,
        stats.alerts,
        if stats.alerts == 1 { "" } else { "s" },
        if levels.is_empty() {
            String::new()
        } else {
            format!(" ({})", levels.join(", "))
        },
        if stats.suppressed_by_filters > 0 {
            format!(", {} suppressed by filters", stats.suppressed_by_filters)
        } else {
            String::new()
        },
        stats.prefilter
    );
    if stats.correlation_groups_evicted > 0 || stats.correlation_events_without_time > 0 {
        let _ = writeln!(
            stderr,
            "credwatch: correlation: {} groups evicted (--max-groups), {} events without a time not correlated",
            stats.correlation_groups_evicted, stats.correlation_events_without_time
        );
    }
    if let Some(why) = &stats.alert_spill_error {
        let _ = writeln!(
            stderr,
            "credwatch: warning: {why}; the remaining alerts were kept in memory"
        );
    }
    if let Some(path) = &args.input.summary_json {
        let both = serde_json::json!({"input": summary, "hunt": stats});
        let text = serde_json::to_string_pretty(&both).context("serializing the summary")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(stop) = outcome.stopped {
        return Err(stop.into());
    }
    if let Some(fail_on) = args.fail_on {
        let min = fail_on.level();
        let hit = stats
            .alerts_by_level
            .keys()
            .any(|l| Level::parse(l).is_some_and(|l| l >= min));
        if hit {
            return Ok(ExitCode::from(3));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    use crate::validate::{ValidateOptions, run};
    let scenarios = if args.scenarios.is_empty() {
        crate::simulate::scenarios().iter().collect()
    } else {
        let mut picked = Vec::new();
        for name in &args.scenarios {
            match crate::simulate::find(name) {
                Some(s) => picked.push(s),
                None => {
                    let names: Vec<&str> = crate::simulate::scenarios()
                        .iter()
                        .map(|s| s.name)
                        .collect();
                    eprintln!(
                        "credwatch: unknown scenario `{}`; scenarios: {}",
                        crate::text::printable(name),
                        names.join(", ")
                    );
                    return Ok(ExitCode::from(2));
                }
            }
        }
        picked
    };
    let set = load_rules(&RuleArgs {
        rules: Vec::new(),
        no_builtin: false,
        config: args.config.clone(),
    })?;
    let options = ValidateOptions {
        scenarios,
        background: args.background,
        benign: args.benign,
        seed: args.seed,
        format: args.input_format,
        threads: args
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
    };
    let mut out = output_writer(None)?;
    let table = matches!(args.format, FieldsFormat::Table);
    if table {
        writeln!(
            out,
            "{:<30} {:<9} {:<9} {:<22} EXPECTED RULES",
            "SCENARIO", "DETECTED", "LEVEL", "EXPOSURE (expected)"
        )?;
        out.flush()?;
    }
    let report = run(&set, &options, |row| {
        if table {
            let exposure = format!(
                "{} ({})",
                row.exposure.as_deref().unwrap_or("-"),
                row.expected_exposure
            );
            let rules = if row.missing.is_empty() {
                row.expected.join(", ")
            } else {
                format!("MISSING: {}", row.missing.join(", "))
            };
            let _ = writeln!(
                out,
                "{:<30} {:<9} {:<9} {:<22} {rules}",
                row.scenario,
                if row.passed() { "yes" } else { "NO" },
                row.level.as_deref().unwrap_or("-"),
                exposure
            );
            let _ = out.flush();
        }
    })?;
    if table {
        let detected = report.scenarios.iter().filter(|r| r.passed()).count();
        writeln!(
            out,
            "{detected}/{} scenarios detected with the expected exposure ({} format, {} background events each, seed {})",
            report.scenarios.len(),
            options.format.as_str(),
            options.background,
            options.seed
        )?;
        if let Some(b) = &report.benign {
            let high: u64 = b.high_or_above.values().sum();
            writeln!(
                out,
                "benign background: {} events, {} alerts, {high} of level high or above{}",
                b.events,
                b.alerts,
                if high == 0 {
                    String::new()
                } else {
                    format!(
                        ": {}",
                        b.high_or_above
                            .iter()
                            .map(|(k, v)| format!("{k} ×{v}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            )?;
        }
    } else {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    }
    out.flush()?;
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn rules_command(cmd: RulesCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RulesCommand::List {
            rules,
            format,
            filters,
        } => {
            let set = load_rules(&rules)?;
            let mut out = output_writer(None)?;
            if filters {
                list_filters(&set, format, &mut out)?;
                out.flush()?;
                return Ok(ExitCode::SUCCESS);
            }
            match format {
                FieldsFormat::Table => {
                    writeln!(
                        out,
                        "{:<13} {:<16} {:<56} ID / FILE",
                        "LEVEL", "KIND", "TITLE"
                    )?;
                    for r in &set.rules {
                        let kind = if r.emits { "detection" } else { "detection*" };
                        writeln!(
                            out,
                            "{:<13} {:<16} {:<56} {}  {}:{}",
                            r.meta.level.as_str(),
                            kind,
                            r.meta.title,
                            r.meta.key(),
                            r.meta.file,
                            r.meta.line
                        )?;
                    }
                    for c in &set.correlations {
                        writeln!(
                            out,
                            "{:<13} {:<16} {:<56} {}  {}:{}",
                            c.meta.level.as_str(),
                            c.kind.as_str(),
                            c.meta.title,
                            c.meta.key(),
                            c.meta.file,
                            c.meta.line
                        )?;
                    }
                    for f in &set.filters {
                        writeln!(
                            out,
                            "{:<13} {:<16} {:<56} {}  {}:{}",
                            "-",
                            "filter",
                            f.meta.title,
                            f.meta.key(),
                            f.meta.file,
                            f.meta.line
                        )?;
                    }
                    writeln!(
                        out,
                        "prefilter: {}",
                        set.prefilter.off_because.as_deref().map_or_else(
                            || format!("on ({} anchor literals, {} more checked beside them; hunt re-chooses them from the first MiB of its input)", set.prefilter.literals.len(), set.prefilter.checked.len()),
                            |w| format!("off: {w}")
                        )
                    )?;
                }
                FieldsFormat::Json => {
                    let rows: Vec<serde_json::Value> = set
                        .rules
                        .iter()
                        .map(|r| serde_json::json!({"kind": "detection", "id": r.meta.key(), "title": r.meta.title, "level": r.meta.level.as_str(), "tags": r.meta.tags, "file": r.meta.file, "line": r.meta.line, "builtin": r.meta.builtin, "emits": r.emits, "filters": r.filters.len(), "tests": r.tests.len()}))
                        .chain(set.correlations.iter().map(|c| serde_json::json!({"kind": c.kind.as_str(), "id": c.meta.key(), "title": c.meta.title, "level": c.meta.level.as_str(), "tags": c.meta.tags, "file": c.meta.file, "line": c.meta.line, "builtin": c.meta.builtin})))
                        .chain(set.filters.iter().map(|f| serde_json::json!({"kind": "filter", "id": f.meta.key(), "title": f.meta.title, "file": f.meta.file, "line": f.meta.line, "builtin": f.meta.builtin})))
                        .collect();
                    writeln!(out, "{}", serde_json::to_string(&rows)?)?;
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Lint { paths, config } => {
            let sources: Vec<RuleSource> = paths.into_iter().map(RuleSource::File).collect();
            let config = load_config(config.as_ref())?;
            let (diags, count) = match rules::load_configured(&sources, &config) {
                Ok(set) => (
                    set.notes,
                    set.rules.len() + set.correlations.len() + set.filters.len(),
                ),
                Err(e) => (e.0, 0),
            };
            let mut stderr = io::stderr().lock();
            let errors = diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            for d in &diags {
                writeln!(stderr, "{}", crate::text::printable(&d.to_string()))?;
            }
            if errors > 0 {
                writeln!(
                    stderr,
                    "credwatch: {errors} error{}, {} warning{}",
                    if errors == 1 { "" } else { "s" },
                    diags.len() - errors,
                    if diags.len() - errors == 1 { "" } else { "s" }
                )?;
                Ok(ExitCode::from(1))
            } else {
                writeln!(
                    stderr,
                    "credwatch: {count} rules ok, {} warning{}",
                    diags.len(),
                    if diags.len() == 1 { "" } else { "s" }
                )?;
                Ok(ExitCode::SUCCESS)
            }
        }
        RulesCommand::Test {
            paths,
            no_builtin,
            config,
        } => {
            let set = load_rules(&RuleArgs {
                rules: paths,
                no_builtin,
                config,
            })?;
            let results = rules::testing::run(&set);
            let mut out = output_writer(None)?;
            let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
            for r in &failed {
                let what = match (&r.error, r.matched) {
                    (Some(e), _) => e.clone(),
                    (None, Some(true)) => "matched, but the test expects no match".to_owned(),
                    _ => "did not match, but the test expects a match".to_owned(),
                };
                writeln!(out, "FAIL {}: {}: {what}", r.location, r.rule)?;
            }
            let untested: Vec<&str> = set
                .rules
                .iter()
                .filter(|r| r.tests.is_empty())
                .map(|r| r.meta.title.as_str())
                .collect();
            writeln!(
                out,
                "{} tests, {} passed, {} failed; {} rules without tests{}",
                results.len(),
                results.len() - failed.len(),
                failed.len(),
                untested.len(),
                if untested.is_empty() {
                    String::new()
                } else {
                    format!(": {}", untested.join(", "))
                }
            )?;
            out.flush()?;
            Ok(if failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// `rules list --filters`: name, reason (the filter's title) and the rules each applies to.
fn list_filters(
    set: &rules::RuleSet,
    format: FieldsFormat,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let targets = |i: usize| -> Vec<&str> {
        set.rules
            .iter()
            .filter(|r| r.filters.contains(&i))
            .map(|r| r.meta.name.as_deref().unwrap_or(r.meta.key()))
            .collect()
    };
    match format {
        FieldsFormat::Table => {
            for (i, f) in set.filters.iter().enumerate() {
                let name = f.meta.name.as_deref().unwrap_or(f.meta.key());
                writeln!(out, "{name}  ({}:{})", f.meta.file, f.meta.line)?;
                writeln!(out, "  why:        {}", f.meta.title)?;
                if let Some(d) = &f.meta.description {
                    writeln!(out, "  note:       {d}")?;
                }
                writeln!(out, "  applies to: {}", targets(i).join(", "))?;
            }
            writeln!(
                out,
                "{} filters; switch one off with `disabled: [NAME]` in a --config file",
                set.filters.len()
            )?;
        }
        FieldsFormat::Json => {
            let rows: Vec<serde_json::Value> = set
                .filters
                .iter()
                .enumerate()
                .map(|(i, f)| serde_json::json!({"id": f.meta.key(), "reason": f.meta.title, "description": f.meta.description, "builtin": f.meta.builtin, "file": f.meta.file, "line": f.meta.line, "applies_to": targets(i)}))
                .collect();
            writeln!(out, "{}", serde_json::to_string(&rows)?)?;
        }
    }
    Ok(())
}

/// A one-line progress display on a terminal's stderr: bytes read of the inputs' total size.
struct Progress {
    bytes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start(paths: &[PathBuf]) -> Progress {
        use std::sync::atomic::Ordering;
        let total: u64 = paths
            .iter()
            .flat_map(|p| walkdir::WalkDir::new(p).into_iter().flatten())
            .filter_map(|e| e.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum();
        let bytes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (b, d) = (bytes.clone(), done.clone());
        let thread = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let mut shown = false;
            while !d.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(200));
                // Short runs finish before a bar would help.
                if started.elapsed().as_millis() < 500 || d.load(Ordering::Relaxed) {
                    continue;
                }
                let read = b.load(Ordering::Relaxed);
                let mb = read as f64 / 1e6;
                let rate = mb / started.elapsed().as_secs_f64();
                let line = if total > 0 {
                    // Compressed inputs decompress to more than their size; cap the bar.
                    let pct = (read as f64 / total as f64 * 100.0).min(99.0);
                    format!("credwatch: {pct:3.0}%  {mb:.0} MB read, {rate:.0} MB/s")
                } else {
                    format!("credwatch: {mb:.0} MB read, {rate:.0} MB/s")
                };
                eprint!("\r{line}\x1b[K");
                shown = true;
            }
            if shown {
                eprint!("\r\x1b[K");
            }
        });
        Progress {
            bytes,
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    use crate::simulate::{self, SimulateError, SimulateOptions};
    if args.list {
        let mut out = output_writer(None)?;
        let all = simulate::scenarios();
        let rules = |s: &simulate::ScenarioInfo| s.expect.join(", ");
        let name_w = all.iter().map(|s| s.name.len()).max().unwrap_or(8);
        let rules_w = all.iter().map(|s| rules(s).len()).max().unwrap_or(14);
        writeln!(
            out,
            "{:<name_w$}  {:<rules_w$}  {:<9}  DESCRIPTION",
            "SCENARIO", "EXPECTED RULES", "EXPOSURE"
        )?;
        for s in all {
            writeln!(
                out,
                "{:<name_w$}  {:<rules_w$}  {:<9}  {}",
                s.name,
                rules(s),
                s.exposure,
                s.description
            )?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let names = if args.scenarios.is_empty() {
        vec!["all".to_owned()]
    } else {
        args.scenarios
    };
    let mut chosen = Vec::new();
    for name in &names {
        match name.as_str() {
            "all" => chosen.extend(simulate::scenarios()),
            "none" => {}
            other => match simulate::find(other) {
                Some(s) => chosen.push(s),
                None => {
                    let known: Vec<&str> = simulate::scenarios().iter().map(|s| s.name).collect();
                    let message = format!(
                        "unknown scenario '{}'\n\n  known scenarios: {}\n  or: all, none\n",
                        crate::text::printable(other),
                        known.join(", ")
                    );
                    let _ = clap::Error::raw(clap::error::ErrorKind::InvalidValue, message).print();
                    return Ok(ExitCode::from(2));
                }
            },
        }
    }
    let options = SimulateOptions {
        scenarios: chosen,
        background: args.background,
        seed: args.seed,
        format: args.format,
    };
    let started = std::time::Instant::now();
    let mut out = output_writer(args.output.as_ref())?;
    let stats = match simulate::write(&options, &mut out) {
        Err(SimulateError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            return Ok(ExitCode::SUCCESS);
        }
        other => other.context("writing the simulated log")?,
    };
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other.context("writing the simulated log")?,
    }
    eprintln!(
        "credwatch: simulated {} events ({} from {} scenario{}), {} bytes ({}), in {:.2} s",
        stats.events,
        stats.scenario_events,
        options.scenarios.len(),
        if options.scenarios.len() == 1 {
            ""
        } else {
            "s"
        },
        stats.bytes,
        options.format.as_str(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
