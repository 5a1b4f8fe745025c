//! Progress bars on stderr: hidden when stderr is not a terminal or with `-q`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{HumanDuration, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

fn target() -> ProgressDrawTarget {
    if QUIET.load(Ordering::Relaxed) {
        ProgressDrawTarget::hidden()
    } else {
        // indicatif hides this target when stderr is not a terminal.
        ProgressDrawTarget::stderr()
    }
}

/// A spinner with a message, ticking on its own (for work of unknown size).
pub fn spinner(msg: impl Into<String>) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(None, target());
    pb.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .expect("static template")
            .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
    );
    pb.set_message(msg.into());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

/// A bar for `len` units of known work, with rate and ETA.
pub fn bar(len: u64, msg: impl Into<String>) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(len), target());
    pb.set_style(bar_style());
    pb.set_prefix(msg.into());
    pb.enable_steady_tick(Duration::from_millis(250));
    pb
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} ETA {eta} {msg}",
    )
    .expect("static template")
    .progress_chars("=> ")
    .with_key("eta", eta)
}

/// indicatif's `{eta}`, except `--` while no rate is known (before the first
/// update, or after `reset_eta`), where indicatif itself shows `0s`.
fn eta(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let known = state.per_sec() > 0.0 && state.len().is_some();
    let _ = if known {
        write!(w, "{:#}", HumanDuration(state.eta()))
    } else {
        w.write_str("--")
    };
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use indicatif::TermLike;

    use super::*;

    /// A terminal that keeps the last non-blank line drawn.
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<String>>);

    impl Screen {
        fn line(&self) -> String {
            self.0.lock().unwrap().clone()
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            200
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            // indicatif pads with blanks after a line; keep the line.
            if !s.trim().is_empty() {
                *self.0.lock().unwrap() = s.to_string();
            }
            Ok(())
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.write_line(s)
        }
        fn clear_line(&self) -> io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn no_eta_until_a_rate_is_known() {
        let screen = Screen::default();
        let pb = ProgressBar::with_draw_target(
            Some(100),
            ProgressDrawTarget::term_like(Box::new(screen.clone())),
        );
        pb.set_style(bar_style());
        pb.force_draw();
        assert!(screen.line().contains(" 0/100 "), "{}", screen.line());
        assert!(screen.line().contains("ETA -- "), "{}", screen.line());
        std::thread::sleep(Duration::from_millis(20));
        pb.set_position(10);
        pb.force_draw();
        let line = screen.line();
        assert!(line.contains(" 10/100 ") && line.contains("ETA "), "{line}");
        assert!(!line.contains("ETA --"), "{line}");
        // A resumed run: the rate of the steps before the restart is no guide.
        pb.reset_eta();
        pb.force_draw();
        assert!(screen.line().contains("ETA -- "), "{}", screen.line());
    }
}
