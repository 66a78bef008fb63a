//! One run at a time per warehouse: a lock file beside the database, created
//! exclusively, holding the owner's pid and start time. A lock whose process is gone
//! (a killed run) is stale and taken over.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A held lock; removed on drop.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock of the warehouse at `database`, describing the holder by `owner`
    /// (e.g. the pipeline name and start time).
    pub fn acquire(database: &Path, owner: &str) -> Result<RunLock> {
        let path = lock_path(database);
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let text = format!("pid={}\n{owner}\n", std::process::id());
                    f.write_all(text.as_bytes())
                        .map_err(|e| Error::io(&path, e))?;
                    return Ok(RunLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let held = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = held
                        .lines()
                        .next()
                        .and_then(|l| l.strip_prefix("pid="))
                        .and_then(|p| p.trim().parse::<u32>().ok());
                    match pid {
                        Some(pid) if process_alive(pid) => {
                            return Err(Error::Run(format!(
                                "another run holds the warehouse lock `{}` (pid {pid}, {}); \
                                 wait for it to finish",
                                path.display(),
                                held.lines().nth(1).unwrap_or("unknown run")
                            )));
                        }
                        _ => {
                            tracing::warn!(
                                "removing stale lock `{}` ({})",
                                path.display(),
                                held.trim()
                            );
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::Run(format!(
            "could not take the warehouse lock `{}`",
            path.display()
        )))
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `<database>.lock`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    database.with_file_name(name)
}

#[cfg(target_os = "linux")]
fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(not(target_os = "linux"))]
fn process_alive(_pid: u32) -> bool {
    // Without a cheap portable check, a lock is assumed held.
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_and_stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("w.duckdb");
        let held = RunLock::acquire(&db, "run A").unwrap();
        let err = RunLock::acquire(&db, "run B").unwrap_err().to_string();
        assert!(
            err.contains("another run holds the warehouse lock") && err.contains("run A"),
            "{err}"
        );
        drop(held);
        assert!(!lock_path(&db).exists());
        // A lock left by a process that no longer exists.
        std::fs::write(lock_path(&db), "pid=4294967\nrun Z\n").unwrap();
        let _taken = RunLock::acquire(&db, "run C").unwrap();
        assert!(std::fs::read_to_string(lock_path(&db))
            .unwrap()
            .contains("run C"));
    }
}
