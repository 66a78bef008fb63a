//! Ctrl-C during a run: the first press interrupts the statement DuckDB is running and
//! makes the run stop at its next step, so it is rolled back and logged as failed
//! (`interrupted`), its lock released, exit code 130; a second press ends the process at
//! once (the next run then finds the run abandoned, as after a kill). Once the run is
//! committed (or rolled back) and only its outputs and log are left to write, a press
//! says so and a second one quits; outside a run, a press quits at once.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, Once};

use crate::error::{Error, Result, EXIT_INTERRUPTED};

/// No run: a press quits.
const IDLE: u8 = 0;
/// A run that a press stops.
const RUNNING: u8 = 1;
/// Stopped by a press: the next press quits.
const STOPPING: u8 = 2;
/// Committed or rolled back, writing its outputs and log: a press is told to wait.
const FINISHING: u8 = 3;
/// Pressed while finishing: the next press quits.
const FINISHING_PRESSED: u8 = 4;

static STATE: AtomicU8 = AtomicU8::new(IDLE);
static HANDLE: Mutex<Option<Arc<duckdb::InterruptHandle>>> = Mutex::new(None);
static INSTALL: Once = Once::new();

fn set_handle(handle: Option<Arc<duckdb::InterruptHandle>>) {
    if let Ok(mut h) = HANDLE.lock() {
        *h = handle;
    }
}

fn on_press() {
    match STATE.load(Ordering::SeqCst) {
        RUNNING => {
            STATE.store(STOPPING, Ordering::SeqCst);
            eprintln!("interrupted: rolling the run back (Ctrl-C again to quit at once)");
            if let Ok(h) = HANDLE.lock() {
                if let Some(h) = h.as_ref() {
                    h.interrupt();
                }
            }
        }
        FINISHING => {
            STATE.store(FINISHING_PRESSED, Ordering::SeqCst);
            eprintln!(
                "the run's data is settled; writing its outputs and log (Ctrl-C again to \
                 quit at once)"
            );
        }
        _ => std::process::exit(EXIT_INTERRUPTED),
    }
}

/// A run starts: from now until [`Watch`] is dropped, Ctrl-C stops it (interrupting
/// `handle`'s connection). The guard ends the watch whatever way the run ends.
pub fn watch(handle: Arc<duckdb::InterruptHandle>) -> Watch {
    set_handle(Some(handle));
    STATE.store(RUNNING, Ordering::SeqCst);
    INSTALL.call_once(|| {
        if let Err(e) = ctrlc::set_handler(on_press) {
            tracing::debug!("Ctrl-C is not watched: {e}");
        }
    });
    Watch
}

/// The run's data is committed or rolled back: a press no longer stops anything.
pub fn finishing() {
    set_handle(None);
    let _ = STATE.compare_exchange(RUNNING, FINISHING, Ordering::SeqCst, Ordering::SeqCst);
    let _ = STATE.compare_exchange(STOPPING, FINISHING, Ordering::SeqCst, Ordering::SeqCst);
}

/// Ends a run's watch when dropped.
pub struct Watch;

impl Drop for Watch {
    fn drop(&mut self) {
        set_handle(None);
        STATE.store(IDLE, Ordering::SeqCst);
    }
}

/// Whether Ctrl-C stopped the current run.
pub fn interrupted() -> bool {
    STATE.load(Ordering::SeqCst) == STOPPING
}

/// Stops the run at a step boundary once Ctrl-C was pressed.
pub fn check() -> Result<()> {
    if interrupted() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A press stops the run; once it is finishing, a press stops nothing; the next run
    /// starts clean (the state does not leak from one run to the next in a process).
    #[test]
    fn a_press_stops_a_run_and_the_next_run_starts_clean() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        {
            let _w = watch(conn.interrupt_handle());
            assert!(check().is_ok());
            on_press();
            assert!(matches!(check(), Err(Error::Interrupted)));
            finishing();
            assert!(!interrupted());
        }
        // The watch ended with its guard: idle, no connection held.
        assert_eq!(STATE.load(Ordering::SeqCst), IDLE);
        assert!(HANDLE.lock().unwrap().is_none());
        let _w = watch(conn.interrupt_handle());
        assert!(check().is_ok());
        finishing();
        on_press();
        assert!(check().is_ok(), "a press while finishing stops nothing");
    }
}
