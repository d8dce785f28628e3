//! A stop request from a signal, checked by the driver at safe points.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// A stop request from a signal.
#[derive(Default)]
pub struct StopFlag {
    requested: AtomicBool,
    signal: Mutex<String>,
}

impl StopFlag {
    /// Records that `signal` asked the run to stop.
    pub fn request(&self, signal: &str) {
        *self.signal.lock().expect("BUG: poisoned") = signal.to_string();
        self.requested.store(true, Ordering::SeqCst);
    }

    /// Returns the signal's name when a stop was requested.
    pub fn requested(&self) -> Option<String> {
        self.requested.load(Ordering::SeqCst).then(|| self.signal.lock().expect("BUG: poisoned").clone())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_stop_names_its_signal() {
        let stop = super::StopFlag::default();
        assert_eq!(stop.requested(), None);
        stop.request("SIGTERM");
        assert_eq!(stop.requested().as_deref(), Some("SIGTERM"));
    }
}
