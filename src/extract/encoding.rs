//! Declared text encodings other than UTF-8: the file is transcoded with encoding_rs,
//! streaming, into a temporary UTF-8 copy that the readers then scan. Malformed input
//! is an error naming the file and byte offset, never replacement characters loaded
//! silently.

use std::io::{BufReader, Read, Write};
use std::path::Path;

use encoding_rs::{DecoderResult, GB18030, GBK};
use tempfile::NamedTempFile;

use crate::config::Encoding;
use crate::error::{Error, Result};

/// Transcodes `path` from `encoding` into a temporary UTF-8 file.
pub fn to_utf8(path: &Path, encoding: Encoding) -> Result<NamedTempFile> {
    let enc = match encoding {
        Encoding::Gbk => GBK,
        Encoding::Gb18030 => GB18030,
        Encoding::Utf8 => encoding_rs::UTF_8,
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut out = NamedTempFile::new().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let mut decoder = enc.new_decoder_without_bom_handling();
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
