//! Declared text encodings other than UTF-8: the file is transcoded with encoding_rs,
//! streaming, into a temporary UTF-8 copy that the readers then scan. Malformed input
//! is an error naming the file and byte offset, never replacement characters loaded
//! silently.
//!
//! For files declared UTF-8 that a reader failed on: where the first invalid byte is,
//! and, for NDJSON, where each line is its own record, a copy whose invalid lines are
//! written lossily so that they become rejects with their line numbers.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use encoding_rs::{DecoderResult, GB18030, GBK};
use tempfile::NamedTempFile;

use crate::config::Encoding;
use crate::error::{Error, Result};

/// The encoding whose byte-order mark starts the file at `path`, if any: UTF-8's or
/// either UTF-16's.
pub fn bom(path: &Path) -> Result<Option<Encoding>> {
    let mut head = Vec::with_capacity(3);
    std::fs::File::open(path)
        .map_err(|e| Error::io(path, e))?
        .take(3)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    Ok(match head.as_slice() {
        [0xEF, 0xBB, 0xBF] => Some(Encoding::Utf8),
        [0xFF, 0xFE, ..] => Some(Encoding::Utf16Le),
        [0xFE, 0xFF, ..] => Some(Encoding::Utf16Be),
        _ => None,
    })
}

/// Transcodes `path` from `encoding` into a temporary UTF-8 file.
pub fn to_utf8(path: &Path, encoding: Encoding) -> Result<NamedTempFile> {
    let enc = match encoding {
        Encoding::Gbk => GBK,
        Encoding::Gb18030 => GB18030,
        Encoding::Utf8 => encoding_rs::UTF_8,
        Encoding::Utf16Le => encoding_rs::UTF_16LE,
        Encoding::Utf16Be => encoding_rs::UTF_16BE,
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut out = NamedTempFile::new().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    // A UTF-16 byte-order mark is dropped (the readers would see U+FEFF otherwise).
    let mut decoder = match encoding {
        Encoding::Utf16Le | Encoding::Utf16Be => enc.new_decoder_with_bom_removal(),
        _ => enc.new_decoder_without_bom_handling(),
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut text = String::with_capacity(1 << 21);
    let mut offset: u64 = 0;
    loop {
        let n = reader.read(&mut buf).map_err(|e| Error::io(path, e))?;
        let last = n == 0;
        let mut input = &buf[..n];
        let mut consumed = 0usize;
        loop {
            text.clear();
            let needed = decoder
                .max_utf8_buffer_length_without_replacement(input.len())
                .unwrap_or(input.len() * 3 + 16);
            text.reserve(needed);
            let (result, read) =
                decoder.decode_to_string_without_replacement(input, &mut text, last);
            out.write_all(text.as_bytes())
                .map_err(|e| Error::io(out.path(), e))?;
            match result {
                DecoderResult::InputEmpty => break,
                DecoderResult::OutputFull => {
                    consumed += read;
                    input = &input[read..];
                }
                DecoderResult::Malformed(bad, after) => {
                    let at = offset + (consumed + read) as u64 - u64::from(bad) - u64::from(after);
                    return Err(Error::Run(format!(
                        "`{}`: not valid {} text at byte {at}; check the source's `encoding`",
                        path.display(),
                        enc.name()
                    )));
                }
            }
        }
        offset += n as u64;
        if last {
            break;
        }
    }
    out.flush().map_err(|e| Error::io(out.path(), e))?;
    Ok(out)
}

/// Where a file stops being valid UTF-8: the offset of the first invalid byte and its
/// line (from 1), or `None` when the whole file is valid. Read in chunks; a sequence cut
/// by a chunk's end is completed from the next chunk.
pub fn first_invalid_utf8(path: &Path) -> Result<Option<(u64, u64)>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; 1 << 20];
    // Bytes of an incomplete sequence carried over from the previous chunk.
    let mut carry = 0usize;
    let mut offset: u64 = 0; // file offset of buf[0]
    let mut lines: u64 = 1; // line at buf[0]
    loop {
        let n = reader
            .read(&mut buf[carry..])
            .map_err(|e| Error::io(path, e))?;
        let len = carry + n;
        let last = n == 0;
        let (valid, bad) = match std::str::from_utf8(&buf[..len]) {
            Ok(_) => (len, false),
            // An incomplete sequence at the very end: more bytes may complete it.
            Err(e) if e.error_len().is_none() && !last => (e.valid_up_to(), false),
            Err(e) => (e.valid_up_to(), true),
        };
        let newlines = memchr::memchr_iter(b'\n', &buf[..valid]).count() as u64;
        if bad {
            return Ok(Some((offset + valid as u64, lines + newlines)));
        }
        if last {
            return Ok(None);
        }
        lines += newlines;
        offset += valid as u64;
        buf.copy_within(valid..len, 0);
        carry = len - valid;
    }
}

/// A UTF-8 copy of a line-oriented file whose invalid lines (bytes that are not UTF-8)
/// are written lossily, each invalid sequence as U+FFFD, with the numbers of those lines
/// (from 1); the other lines are copied as they are, so line numbers are kept. `None`
/// when the file is valid UTF-8. Meant for the rare file that fails; the scan stops at
/// the first invalid byte otherwise.
pub fn lossy_lines(path: &Path) -> Result<Option<(NamedTempFile, Vec<u64>)>> {
    if first_invalid_utf8(path)?.is_none() {
        return Ok(None);
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut out = NamedTempFile::new().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, out.as_file_mut());
    let mut bad = Vec::new();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        number += 1;
        let text = match std::str::from_utf8(&line) {
            Ok(_) => std::borrow::Cow::Borrowed(&line[..]),
            Err(_) => {
                bad.push(number);
                std::borrow::Cow::Owned(String::from_utf8_lossy(&line).into_owned().into_bytes())
            }
        };
        writer
            .write_all(&text)
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    }
    writer
        .flush()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    drop(writer);
    Ok(Some((out, bad)))
}
