//! The command line: verbs parsed here, each handed to its domain module. This is the edge where
//! library errors become messages and exit codes.

use crate::event::fields::FIELDS;
use crate::ingest::{self, IngestOptions};
use crate::redact::Redactor;
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
    /// List the event fields rules and outputs can use.
    Fields(FieldsArgs),
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
        Some(path) => Box::new(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock())),
    })
}

fn ingest_options(args: &InputArgs) -> IngestOptions {
    IngestOptions {
        max_record_bytes: args.max_record_mb.saturating_mul(1 << 20),
        strict: args.strict,
        cluster: args.cluster.clone(),
        max_errors_per_input: if args.all_errors { None } else { Some(10) },
        from: args.from,
        to: args.to,
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
            let width = FIELDS.iter().map(|f| f.name.len()).max().unwrap_or(0);
            for f in FIELDS {
                writeln!(
                    out,
                    "{:<width$}  {:<9} {}",
                    f.name,
                    f.ty.as_str(),
                    f.description
                )?;
            }
        }
        FieldsFormat::Json => {
            let rows: Vec<_> = FIELDS
                .iter()
                .map(|f| {
                    sonic_rs::json!({"name": f.name, "type": f.ty.as_str(), "description": f.description})
                })
                .collect();
            writeln!(out, "{}", sonic_rs::to_string(&rows)?)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
