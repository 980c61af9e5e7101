//! Runs the credwatch binary as a user would and captures what it printed.

#![allow(dead_code)] // each test binary uses a different part

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Peak resident memory of the process, in KiB.
    pub max_rss_kib: i64,
}

pub fn project_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `credwatch ARGS` in the project directory, feeding `stdin` if given. Uses a fixed
/// fingerprint key file under `key_dir` so no test writes to the user's home.
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which also reads its rusage
pub fn credwatch(args: &[&str], stdin: Option<&[u8]>, key_dir: &Path) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_credwatch"))
        .args(args)
        .current_dir(project_dir())
        .env("CREDWATCH_KEY_FILE", key_dir.join("fingerprint.key"))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("credwatch binary starts");
    let writer = stdin.map(|data| {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        })
    });
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out_pipe.read_to_end(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err_pipe.read_to_end(&mut s);
        s
    });
    let (code, max_rss_kib) = wait_with_rusage(child.id() as i32);
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = String::from_utf8_lossy(&out_thread.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&err_thread.join().expect("stderr reader")).into_owned();
    Run {
        code,
        stdout,
        stderr,
        max_rss_kib,
    }
}

/// Waits for the child and reads its own resource usage (not the test process's).
fn wait_with_rusage(pid: i32) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child we started.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4 on credwatch");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    (code, usage.ru_maxrss)
}

/// One parsed line of `events --format jsonl`.
pub fn events(stdout: &str) -> Vec<sonic_rs::Value> {
    stdout
        .lines()
        .map(|l| {
            sonic_rs::from_str(l).unwrap_or_else(|e| panic!("events output is JSON ({e}): {l}"))
        })
        .collect()
}

/// The summary written by `--summary-json`.
pub fn summary(path: &Path) -> sonic_rs::Value {
    let text = std::fs::read_to_string(path).expect("summary file written");
    sonic_rs::from_str(&text).expect("summary is JSON")
}

/// A fixed fingerprint key under `dir`, so outputs with fingerprints can be pinned.
pub fn fixed_key(dir: &Path) {
    std::fs::write(dir.join("fingerprint.key"), [42u8; 32]).expect("key written");
}

/// Compares `actual` with the golden file `tests/golden/NAME` (`UPDATE_GOLDEN=1` rewrites it).
pub fn golden(name: &str, actual: &str) {
    let path = project_dir().join("tests/golden").join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("golden written");
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        actual,
        expected,
        "output differs from {} (UPDATE_GOLDEN=1 to accept)",
        path.display()
    );
}

/// Runs each command line, asserting that it succeeds and that none of `secrets` appears in
/// what it printed (stdout or stderr).
pub fn assert_never_shown(runs: &[Vec<&str>], secrets: &[&str], key_dir: &Path) {
    for args in runs {
        let run = credwatch(args, None, key_dir);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        for secret in secrets {
            assert!(!run.stdout.contains(secret), "{args:?} shows {secret}");
            assert!(!run.stderr.contains(secret), "{args:?} shows {secret}");
        }
    }
}
