//! Time windows: cutting a range into the first search windows (the whole range, or
//! pieces as wide as the backend allows), and the rule for splitting a window whose
//! search came back full (the backends cap results at `limit` and never say that they
//! truncated, so a full answer must be assumed truncated). A sparse range is answered
//! by one search per first window; only where the traces are dense does a pull pay
//! for narrower windows.

use crate::source::backend::api::Window;

/// Cuts `[start_ns, end_ns)` into consecutive windows of at most `width_ns`.
pub fn plan(start_ns: i64, end_ns: i64, width_ns: i64) -> Vec<Window> {
    let width = width_ns.max(1);
    let mut windows = Vec::new();
    let mut t = start_ns;
    while t < end_ns {
        let e = t.saturating_add(width).min(end_ns);
        windows.push(Window {
            start_ns: t,
            end_ns: e,
        });
        t = e;
    }
    windows
}

/// What to do with a search answer of `hits` results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    /// Fewer than `limit`: the answer is complete.
    Complete,
    /// Full: search these halves instead.
    Halves(Window, Window),
    /// Full at the minimum width: keep what came back and report it as partial.
    Partial,
}

/// Decides whether a window's answer is complete.
pub fn split(window: Window, hits: usize, limit: usize, min_width_ns: i64) -> Split {
    if hits < limit {
        return Split::Complete;
    }
    let half = window.width_ns() / 2;
    if half < min_width_ns.max(1) {
        return Split::Partial;
    }
    let mid = window.start_ns + half;
    Split::Halves(
        Window {
            start_ns: window.start_ns,
            end_ns: mid,
        },
        Window {
            start_ns: mid,
            end_ns: window.end_ns,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_covers_the_range_exactly() {
        let w = plan(0, 25, 10);
        assert_eq!(w.len(), 3);
        assert_eq!((w[0].start_ns, w[2].end_ns), (0, 25));
        assert!(w.windows(2).all(|p| p[0].end_ns == p[1].start_ns));
        assert!(plan(5, 5, 10).is_empty());
    }

    #[test]
    fn full_windows_split_until_the_minimum_width() {
        let w = Window {
            start_ns: 0,
            end_ns: 100,
        };
        assert_eq!(split(w, 9, 10, 1), Split::Complete);
        let Split::Halves(a, b) = split(w, 10, 10, 1) else {
            panic!("expected halves");
        };
        assert_eq!(
            (a.start_ns, a.end_ns, b.start_ns, b.end_ns),
            (0, 50, 50, 100)
        );
        assert_eq!(split(w, 10, 10, 60), Split::Partial);
    }
}
