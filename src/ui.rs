//! Operator output: progress of a run and final reports. Never tracing.
//!
//! On a terminal, progress is a live spinner line per step (indicatif); otherwise one
//! plain line per phase transition, so logs of scripted runs read well. Progress goes to
//! stderr; results that a script may parse (status tables, JSON) go to stdout, through
//! [`out`]. Everything shown passes through [`printable`] first.

mod escape;
pub mod out;

pub use escape::printable;

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

/// Where operator-facing progress is written.
pub struct Ui {
    bar: Option<indicatif::ProgressBar>,
    out: Mutex<()>,
}

impl Ui {
    /// Returns a Ui that animates when stderr is a terminal.
    pub fn new() -> Ui {
        let bar = if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").expect("BUG: template"));
            bar.enable_steady_tick(Duration::from_millis(120));
            Some(bar)
        } else {
            None
        };
        Ui { bar, out: Mutex::new(()) }
    }

    /// Returns a Ui that only prints plain lines (tests, pipes).
    pub fn plain() -> Ui {
        Ui { bar: None, out: Mutex::new(()) }
    }

    /// Shows a transient status (spinner message on a terminal, nothing otherwise).
    pub fn status(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(printable(message).into_owned());
        }
    }

    /// Prints a permanent progress line.
    pub fn line(&self, message: &str) {
        let _guard = self.out.lock();
        let message = printable(message);
        match &self.bar {
            Some(bar) => bar.println(message),
            None => {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "{message}");
            }
        }
    }

    /// Removes the spinner before the final report.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Default for Ui {
    fn default() -> Ui {
        Ui::new()
    }
}
