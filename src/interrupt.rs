//! Ctrl-C during a run: the first press interrupts the statement DuckDB is running and
//! makes the run stop at its next step, so it is rolled back and logged as failed
//! (`interrupted`), its lock released, exit code 130; a second press ends the process at
//! once (the next run then finds the run abandoned, as after a kill).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};

use crate::error::{Error, Result};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static HANDLE: Mutex<Option<Arc<duckdb::InterruptHandle>>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// Watches for Ctrl-C from now on, interrupting `handle`'s connection when it comes.
pub fn watch(handle: Arc<duckdb::InterruptHandle>) {
    if let Ok(mut h) = HANDLE.lock() {
        *h = Some(handle);
    }
    INSTALL.call_once(|| {
        let installed = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(crate::error::EXIT_INTERRUPTED);
            }
            eprintln!("interrupted: rolling the run back (Ctrl-C again to quit at once)");
            if let Ok(h) = HANDLE.lock() {
                if let Some(h) = h.as_ref() {
                    h.interrupt();
                }
            }
        });
        if let Err(e) = installed {
            tracing::debug!("Ctrl-C is not watched: {e}");
        }
    });
}

/// Whether Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Stops the run at a step boundary once Ctrl-C was pressed.
pub fn check() -> Result<()> {
    if interrupted() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}
