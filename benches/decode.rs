//! Decode throughput on a generated audit corpus, beside a line-splitting baseline measured in
//! the same run. Run with `bench/decode.sh` (which makes the corpus), or
//! `cargo bench --bench decode -- FILE [RUNS]`.
//!
//! The baseline reads 4 MiB chunks and only finds line ends (as BASELINES.md's reference harness
//! does); credwatch reads through its own 256 KiB framer, recognises the format and decodes every
//! record into the typed event.

use credwatch::ingest::{IngestOptions, ingest};
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

fn baseline_lines(path: &PathBuf) -> (u64, u64) {
    let mut file = File::open(path).expect("corpus opens");
    let mut buf = vec![0u8; 4 << 20];
    let (mut bytes, mut lines) = (0u64, 0u64);
    loop {
        let n = file.read(&mut buf).expect("corpus reads");
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    (bytes, lines)
}

fn decode_all(path: &PathBuf) -> (u64, u64) {
    let mut events = 0u64;
    let mut sink = std::io::sink();
    let summary = ingest(
        std::slice::from_ref(path),
        &IngestOptions::default(),
        &mut sink,
        |d| {
            // Touch a field so the work cannot be optimised away.
            events += u64::from(d.event.verb.is_some());
            std::ops::ControlFlow::Continue(())
        },
    )
    .summary;
    assert_eq!(summary.rejected, 0, "the corpus decodes cleanly");
    (summary.bytes, events)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs baseline and decode alternately, `runs` rounds after a warm-up round, so both see the
/// same machine state; returns (baseline seconds, decode seconds) per round.
fn measure(runs: usize, path: &PathBuf) -> (Vec<f64>, Vec<f64>, u64, u64, u64) {
    let (mut base, mut dec) = (Vec::new(), Vec::new());
    let (mut bytes, mut lines, mut events) = (0, 0, 0);
    for round in 0..=runs {
        let start = Instant::now();
        (bytes, lines) = baseline_lines(path);
        let base_t = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let (dec_bytes, n) = decode_all(path);
        let dec_t = start.elapsed().as_secs_f64();
        assert_eq!(bytes, dec_bytes, "both paths read the whole file");
        events = n;
        if round > 0 {
            base.push(base_t);
            dec.push(dec_t);
        }
    }
    (base, dec, bytes, lines, events)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let path = PathBuf::from(
        args.first()
            .cloned()
            .or_else(|| std::env::var("CREDWATCH_BENCH_CORPUS").ok())
            .unwrap_or_else(|| "target/bench/audit.jsonl".to_owned()),
    );
    if !path.exists() {
        eprintln!(
            "no corpus at {}: run bench/decode.sh, which generates it",
            path.display()
        );
        std::process::exit(2);
    }
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(7);
    let (base, dec, bytes, lines, events) = measure(runs, &path);
    let ratios: Vec<f64> = base.iter().zip(&dec).map(|(b, d)| d / b).collect();
    let (base_t, dec_t) = (median(base), median(dec));
    let mb = bytes as f64 / 1e6;
    println!(
        "corpus: {} ({mb:.1} MB, {lines} lines); one thread; medians of {runs} alternating rounds",
        path.display()
    );
    println!(
        "{:<36} {:>6.0} MB/s {:>10.0} lines/s",
        "baseline: read + split lines",
        mb / base_t,
        lines as f64 / base_t
    );
    println!(
        "{:<36} {:>6.0} MB/s {:>10.0} events/s",
        "credwatch: frame + detect + decode",
        mb / dec_t,
        events as f64 / dec_t
    );
    println!(
        "decode time / baseline time (median of rounds): {:.2}x",
        median(ratios)
    );
}
