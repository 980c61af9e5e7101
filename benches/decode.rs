//! Decode throughput on a generated audit corpus, beside a line-splitting baseline measured in
//! the same run. Run with `bench/decode.sh` (which makes the corpus), or
//! `cargo bench --bench decode -- FILE [RUNS]`.
//!
//! Both paths read the file through the same 4 MiB-chunk reader; the baseline only finds line
//! ends, credwatch frames, recognises the format and decodes every record into the typed event.

use credwatch::ingest::{IngestOptions, ingest};
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

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
        },
    )
    .summary;
    assert_eq!(summary.rejected, 0, "the corpus decodes cleanly");
    (summary.bytes, events)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn measure(runs: usize, f: impl Fn() -> (u64, u64)) -> (Duration, u64, u64) {
    let _ = f(); // warm the page cache
    let mut times = Vec::with_capacity(runs);
    let mut last = (0, 0);
    for _ in 0..runs {
        let start = Instant::now();
        last = f();
        times.push(start.elapsed());
    }
    (median(times), last.0, last.1)
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
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(5);
    let (base_t, bytes, lines) = measure(runs, || baseline_lines(&path));
    let (dec_t, dec_bytes, events) = measure(runs, || decode_all(&path));
    assert_eq!(bytes, dec_bytes, "both paths read the whole file");
    let mb = bytes as f64 / 1e6;
    let rate = |t: Duration| mb / t.as_secs_f64();
    println!(
        "corpus: {} ({:.1} MB, {} lines), median of {runs} runs, one thread",
        path.display(),
        mb,
        lines
    );
    println!(
        "{:<34} {:>9.0} MB/s {:>11.0} lines/s",
        "baseline: read + split lines",
        rate(base_t),
        lines as f64 / base_t.as_secs_f64()
    );
    println!(
        "{:<34} {:>9.0} MB/s {:>11.0} events/s",
        "credwatch decode (typed, borrowed)",
        rate(dec_t),
        events as f64 / dec_t.as_secs_f64()
    );
    println!(
        "decode / baseline time ratio: {:.2}x",
        dec_t.as_secs_f64() / base_t.as_secs_f64()
    );
}
