//! Standard output: what the report commands print (tables, JSON, exports, completion
//! scripts) and the `--events-json` stream of a run.
//!
//! Every write is checked. A report that cannot be written (stdout closed or on a full
//! disk) is a [`StdoutError`], which the command returns like any error (exit 1, one
//! `error:` line on stderr). The event stream of a run is different: a broken stream must
//! not disturb the run, so [`EventStream`] records the first error, drops the events after
//! it, and says so when asked ([`EventStream::broken`]).

use std::io::{self, Write};
use std::sync::{Mutex, OnceLock};

use super::printable;

/// Standard output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {source}")]
pub struct StdoutError {
    pub source: io::Error,
}

/// Prints `text` as a terminal may show it (control characters escaped, see
/// [`printable`]) and flushes.
pub fn print(text: &str) -> Result<(), StdoutError> {
    write_raw(printable(text).as_bytes())
}

/// Prints `text` and a newline, like [`print`]. The [`outln!`](crate::outln) macro formats and calls this.
pub fn print_line(text: &str) -> Result<(), StdoutError> {
    let mut line = printable(text).into_owned();
    line.push('\n');
    write_raw(line.as_bytes())
}

/// Writes bytes ringmaster generated itself (completion scripts, man pages) unchanged, and flushes.
pub fn write_raw(bytes: &[u8]) -> Result<(), StdoutError> {
    let mut out = io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).map_err(|source| StdoutError { source })
}

/// Prints `text` on stderr, control characters escaped; a stderr that cannot be written is
/// ignored (there is nowhere left to say so).
pub fn eprint(text: &str) {
    let _ = io::stderr().lock().write_all(printable(text).as_bytes());
}

/// Prints `text` and a newline on stderr, like [`eprint`].
pub fn eprint_line(text: &str) {
    eprint(&format!("{text}\n"));
}

/// `println!` for reports: formats, prints through [`print_line`] and returns its `Result`.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::ui::out::print_line("")
    };
    ($($arg:tt)*) => {
        $crate::ui::out::print_line(&format!($($arg)*))
    };
}

/// A stream of JSON lines (the `--events-json` events) that never fails its caller: the
/// first write error is kept, every later line is counted as lost, and [`broken`](Self::broken)
/// tells the run, at its end, what to say.
pub struct EventStream {
    state: Mutex<StreamState>,
}

struct StreamState {
    out: Box<dyn Write + Send>,
    written: usize,
    lost: usize,
    error: Option<io::Error>,
}

impl EventStream {
    /// Returns a stream to standard output.
    pub fn stdout() -> EventStream {
        EventStream::to(io::stdout())
    }

    /// Returns a stream to `out`.
    pub fn to(out: impl Write + Send + 'static) -> EventStream {
        EventStream { state: Mutex::new(StreamState { out: Box::new(out), written: 0, lost: 0, error: None }) }
    }

    /// Writes one line and flushes it; after a failed write, only counts the line as lost.
    pub fn emit(&self, line: &str) {
        let mut s = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if s.error.is_some() {
            s.lost += 1;
            return;
        }
        let out = &mut s.out;
        match out.write_all(line.as_bytes()).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()) {
            Ok(()) => s.written += 1,
            Err(e) => {
                s.error = Some(e);
                s.lost += 1;
            }
        }
    }

    /// Returns what to tell the operator when a write failed, `None` while the stream is whole.
    pub fn broken(&self) -> Option<String> {
        let s = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        s.error.as_ref().map(|e| {
            format!("cannot write the event stream to standard output: {e} ({} events streamed, {} not streamed)", s.written, s.lost)
        })
    }
}

/// The process's one event stream on standard output.
pub fn stdout_events() -> &'static EventStream {
    static STREAM: OnceLock<EventStream> = OnceLock::new();
    STREAM.get_or_init(EventStream::stdout)
}

#[cfg(test)]
mod tests {
    use super::EventStream;
    use std::io::{self, Write};
    use std::sync::{Arc, Mutex};

    /// A writer that accepts `room` writes, then fails like a full disk.
    struct Full {
        room: usize,
        got: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            self.room -= 1;
            self.got.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn recover_1_a_broken_event_stream_keeps_the_first_error_and_counts_the_lost_lines() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let stream = EventStream::to(Full { room: 2, got: got.clone() });
        stream.emit("{\"seq\":1}");
        assert_eq!(stream.broken(), None);
        for seq in 2..=4 {
            stream.emit(&format!("{{\"seq\":{seq}}}"));
        }
        assert_eq!(&*got.lock().unwrap(), b"{\"seq\":1}\n");
        let why = stream.broken().expect("the stream broke");
        assert!(why.contains("No space left on device"), "{why}");
        assert!(why.contains("1 events streamed, 3 not streamed"), "{why}");
    }
}
