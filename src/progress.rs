//! Progress of a run on the terminal: an overall bar over the sources' steps (read and
//! clean, then load), one line per source with its row counts as each step completes,
//! and the current stage (models, exports, reports). Drawn on stderr only when stderr
//! is a terminal and `--quiet` is not given; otherwise [`Progress`] holds no bars and
//! every call is a no-op. DuckDB's own progress bar stays off (see `warehouse`).
//!
//! Log lines (warnings) are written through [`LogWriter`], which lifts the bars while a
//! line is printed so the two do not garble each other.

use std::io::{IsTerminal as _, Write};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::util::format_count;

/// The bars being drawn, for [`LogWriter`].
static ACTIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Progress of one run; a no-op when hidden.
pub struct Progress {
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    /// Steps over all sources: 2 per source (read and clean, load).
    overall: ProgressBar,
    /// One line per source, added when the source starts.
    sources: Vec<Option<ProgressBar>>,
    names: Vec<String>,
    /// What each source's line says so far.
    done: Vec<String>,
}

impl Progress {
    /// Progress for a run over `sources`, drawn on stderr when it is a terminal and
    /// `quiet` is false.
    pub fn for_run(quiet: bool, sources: &[String]) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let p = Progress::with_target(ProgressDrawTarget::stderr(), sources);
        if let Some(b) = &p.bars {
            b.overall.enable_steady_tick(Duration::from_millis(120));
            *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = Some(b.multi.clone());
        }
        p
    }

    /// No bars at all.
    pub fn hidden() -> Progress {
        Progress { bars: None }
    }

    /// Bars drawn to `target` (tests use a hidden target to read the bars back).
    fn with_target(target: ProgressDrawTarget, sources: &[String]) -> Progress {
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(2 * sources.len() as u64));
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed}] sources {bar:24} {pos}/{len} steps  {msg}",
        ) {
            overall.set_style(style.progress_chars("=> "));
        }
        Progress {
            bars: Some(Bars {
                multi,
                overall,
                sources: vec![None; sources.len()],
                names: sources.to_vec(),
                done: vec![String::new(); sources.len()],
            }),
        }
    }

    /// A stage of the run (also logged at info level).
    pub fn stage(&self, msg: &str) {
        tracing::info!("{msg}");
        if let Some(b) = &self.bars {
            b.overall.set_message(msg.to_string());
        }
    }

    /// Source `i` starts reading `files` files.
    pub fn reading(&mut self, i: usize, files: usize) {
        let name = self.name(i);
        self.stage(&format!("reading {name} ({files} files)"));
        self.set_line(i, format!("reading {files} file{}", plural(files as i64)));
    }

    /// Source `i` was read: `rows` records.
    pub fn read(&mut self, i: usize, rows: i64) {
        let name = self.name(i);
        self.stage(&format!("cleaning {name} ({} rows)", format_count(rows)));
        self.push(i, format!("read {}", format_count(rows)));
        self.show(i, "cleaning");
    }

    /// Source `i` was cleaned: `rejected` rows set aside, `dropped` duplicates.
    pub fn cleaned(&mut self, i: usize, rejected: i64, dropped: i64) {
        self.push(i, format!("rejected {}", format_count(rejected)));
        self.push(i, format!("duplicates {}", format_count(dropped)));
        self.show(i, "waiting to load");
        self.step();
    }

    /// Source `i` has no new or changed file: nothing to read or load.
    pub fn unchanged(&mut self, i: usize) {
        self.set_line(i, "unchanged since the last load".into());
        self.step();
        self.step();
    }

    /// Source `i` starts loading.
    pub fn loading(&mut self, i: usize) {
        let name = self.name(i);
        self.stage(&format!("loading {name}"));
        self.show(i, "loading");
    }

    /// Source `i` was loaded: `rows` rows written.
    pub fn loaded(&mut self, i: usize, rows: i64) {
        self.push(i, format!("loaded {}", format_count(rows)));
        self.show(i, "");
        self.step();
    }

    /// Clears the bars (the summary follows on stdout).
    pub fn finish(&mut self) {
        if let Some(b) = self.bars.take() {
            *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = None;
            // Clear everything at once, then stop drawing.
            let _ = b.multi.clear();
            b.multi.set_draw_target(ProgressDrawTarget::hidden());
            for bar in b.sources.iter().flatten() {
                bar.finish_and_clear();
            }
            b.overall.finish_and_clear();
        }
    }

    fn name(&self, i: usize) -> String {
        self.bars
            .as_ref()
            .and_then(|b| b.names.get(i).cloned())
            .unwrap_or_default()
    }

    fn step(&self) {
        if let Some(b) = &self.bars {
            b.overall.inc(1);
        }
    }

    /// Appends a completed step to source `i`'s line.
    fn push(&mut self, i: usize, step: String) {
        if let Some(done) = self.bars.as_mut().and_then(|b| b.done.get_mut(i)) {
            if !done.is_empty() {
                done.push_str(" · ");
            }
            done.push_str(&step);
        }
    }

    /// Shows source `i`'s completed steps, then `now` (the step under way), if any.
    fn show(&mut self, i: usize, now: &str) {
        let Some(done) = self.bars.as_ref().and_then(|b| b.done.get(i)).cloned() else {
            return;
        };
        let line = match (done.is_empty(), now.is_empty()) {
            (_, true) => done,
            (true, false) => format!("{now}..."),
            (false, false) => format!("{done} · {now}..."),
        };
        self.set_line(i, line);
    }

    /// Sets source `i`'s line, adding it below the others on first use.
    fn set_line(&mut self, i: usize, msg: String) {
        let Some(b) = self.bars.as_mut() else { return };
        let Some(slot) = b.sources.get_mut(i) else {
            return;
        };
        let bar = slot.get_or_insert_with(|| {
            let bar = b.multi.add(ProgressBar::new_spinner());
            if let Ok(style) = ProgressStyle::with_template("  {prefix:<22} {msg}") {
                bar.set_style(style);
            }
            bar.set_prefix(b.names[i].clone());
            bar
        });
        bar.set_message(msg);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Writes log lines to stderr, lifting the progress bars (if drawn) around each line.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let active = ACTIVE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match active {
            Some(multi) => multi.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> LogWriter {
        LogWriter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(p: &Progress) -> Vec<String> {
        let b = p.bars.as_ref().unwrap();
        b.sources
            .iter()
            .map(|s| s.as_ref().map(|bar| bar.message()).unwrap_or_default())
            .collect()
    }

    #[test]
    fn each_source_line_shows_its_steps_with_row_counts() {
        let names = vec!["orders".to_string(), "products".to_string()];
        let mut p = Progress::with_target(ProgressDrawTarget::hidden(), &names);
        p.unchanged(1);
        p.reading(0, 1);
        assert_eq!(
            lines(&p),
            vec!["reading 1 file", "unchanged since the last load"]
        );
        p.read(0, 7111);
        assert_eq!(lines(&p)[0], "read 7,111 · cleaning...");
        p.cleaned(0, 84, 98);
        assert_eq!(
            lines(&p)[0],
            "read 7,111 · rejected 84 · duplicates 98 · waiting to load..."
        );
        p.loading(0);
        p.loaded(0, 6929);
        assert_eq!(
            lines(&p)[0],
            "read 7,111 · rejected 84 · duplicates 98 · loaded 6,929"
        );
        let overall = &p.bars.as_ref().unwrap().overall;
        assert_eq!((overall.position(), overall.length()), (4, Some(4)));
        assert_eq!(overall.message(), "loading orders");
        p.finish();
        assert!(p.bars.is_none());
    }

    #[test]
    fn hidden_progress_does_nothing() {
        let mut p = Progress::hidden();
        p.reading(0, 3);
        p.read(0, 10);
        p.cleaned(0, 1, 0);
        p.loaded(0, 9);
        p.stage("building 2 models");
        assert!(p.bars.is_none());
    }
}
