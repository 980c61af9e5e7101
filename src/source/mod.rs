//! Sources: the paths a user names (files, directories walked recursively in a stable order,
//! `-` for stdin), opened with decompression chosen by magic bytes, never by file name.

pub mod framing;
pub mod mapped;

use flate2::bufread::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
/// The starts of the compressed inputs `open` undoes.
pub const COMPRESSION_MAGICS: &[&[u8]] = &[GZIP_MAGIC, ZSTD_MAGIC];
const READ_BUFFER: usize = 256 << 10;

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The name used in locations (`file:line`).
    pub fn display_name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_owned(),
            Input::File(path) => path.display().to_string(),
        }
    }
}

/// A path that could not be listed or opened.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct SourceError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// Expands the user's paths into inputs: directories are walked recursively, entries sorted by
/// name so runs are repeatable. Entries that cannot be listed are returned as errors; the rest
/// go on.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<SourceError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut inputs, &mut errors),
            Ok(_) => inputs.push(Input::File(path.clone())),
            Err(source) => errors.push(SourceError {
                path: path.display().to_string(),
                source,
            }),
        }
    }
    (inputs, errors)
}

fn walk(root: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<SourceError>) {
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walker {
        match entry {
            Ok(entry) if entry.file_type().is_file() => inputs.push(Input::File(entry.into_path())),
            Ok(entry) if entry.file_type().is_dir() => {}
            Ok(entry) => errors.push(SourceError {
                path: entry.path().display().to_string(),
                source: io::Error::other("not a regular file (a fifo, socket or device); not read"),
            }),
            Err(e) => {
                let path = e.path().unwrap_or(root).display().to_string();
                let source = e.into_io_error().unwrap_or_else(|| {
                    io::Error::other("filesystem loop (a symlink to a parent directory)")
                });
                errors.push(SourceError { path, source });
            }
        }
    }
}

/// How an input was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Opens an input and undoes its compression, recognised by magic bytes. Concatenated gzip
/// members (CloudWatch exports, Firehose objects) and zstd frames are read through.
pub fn open(input: &Input) -> Result<(Box<dyn Read + Send>, Compression), SourceError> {
    let error = |source| SourceError {
        path: input.display_name(),
        source,
    };
    let mut raw: Box<dyn Read + Send> = match input {
        Input::Stdin => Box::new(io::stdin()),
        Input::File(path) => Box::new(File::open(path).map_err(error)?),
    };
    // Read the magic bytes (retrying short reads from pipes), then put them back in front.
    let mut head = Vec::with_capacity(ZSTD_MAGIC.len());
    (&mut raw)
        .take(ZSTD_MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(error)?;
    let compression = if head.starts_with(GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    };
    let reader = BufReader::with_capacity(READ_BUFFER, io::Cursor::new(head).chain(raw));
    let reader: Box<dyn Read + Send> = match compression {
        Compression::Gzip => Box::new(MultiGzDecoder::new(reader)),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(reader).map_err(error)?)
        }
        // The framer reads in large chunks itself; a second buffer would only copy.
        Compression::None => Box::new(reader.into_inner()),
    };
    Ok((reader, compression))
}
