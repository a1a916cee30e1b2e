//! Ctrl-C: the first press stops the load and keeps what was measured; a second one exits at once.

use plumb_load::StopSignal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static SIGNAL: OnceLock<StopSignal> = OnceLock::new();
static PRESSED: AtomicBool = AtomicBool::new(false);

/// The process-wide stop signal, fired by Ctrl-C (the handler is installed once).
pub fn stop_on_ctrl_c() -> StopSignal {
    SIGNAL
        .get_or_init(|| {
            let signal = StopSignal::new();
            let for_handler = signal.clone();
            let installed = ctrlc::set_handler(move || {
                if PRESSED.swap(true, Ordering::SeqCst) {
                    std::process::exit(130);
                }
                eprintln!("\ninterrupted: stopping and reporting what was measured (Ctrl-C again to quit now)");
                for_handler.stop("interrupted (Ctrl-C)");
            });
            if let Err(e) = installed {
                eprintln!("warning: cannot handle Ctrl-C ({e}); an interrupt will lose the run");
            }
            signal
        })
        .clone()
}
