//! What keeps a receiver under abuse within bounded memory and file descriptors: the
//! in-flight byte budget both protocols draw from, the connection count, and the body
//! reader that enforces the budget, the size limit and the stall timeout as bytes
//! arrive (so a client cannot make the receiver buffer more than it allows).

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;

/// The bytes of request bodies being read or decoded at once, across both protocols.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    used: AtomicU64,
}

/// Why a [`Reservation`] could not grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Other requests hold the budget: retry later (503 / UNAVAILABLE).
    Busy,
    /// This request alone needs more than the whole budget: retrying cannot help.
    TooLarge,
}

impl Budget {
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            used: AtomicU64::new(0),
        })
    }

    /// An empty reservation; what it grows to is given back when it is dropped.
    pub fn reserve(self: &Arc<Self>) -> Reservation {
        Reservation {
            budget: self.clone(),
            held: AtomicU64::new(0),
        }
    }

    /// Bytes reserved right now.
    pub fn used(&self) -> u64 {
        self.used.load(Relaxed)
    }
}

/// One request's share of the [`Budget`]: held from the first body byte until the
/// request is answered (its body is then in the write-ahead log or dropped).
#[derive(Debug)]
pub struct Reservation {
    budget: Arc<Budget>,
    held: AtomicU64,
}

impl Reservation {
    /// Takes `n` more bytes of the budget, or none.
    pub fn grow(&self, n: u64) -> Result<(), Refusal> {
        let held = self.held.load(Relaxed);
        if held.saturating_add(n) > self.budget.limit {
            return Err(Refusal::TooLarge);
        }
        let limit = self.budget.limit;
        self.budget
            .used
            .fetch_update(Relaxed, Relaxed, |used| {
                let after = used.checked_add(n)?;
                (after <= limit).then_some(after)
            })
            .map_err(|_| Refusal::Busy)?;
        self.held.fetch_add(n, Relaxed);
        Ok(())
    }

    /// Grows the reservation to at least `total` bytes.
    pub fn grow_to(&self, total: u64) -> Result<(), Refusal> {
        let held = self.held.load(Relaxed);
        if total > held {
            self.grow(total - held)
        } else {
            Ok(())
        }
    }

    pub fn held(&self) -> u64 {
        self.held.load(Relaxed)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.held.load(Relaxed), Relaxed);
    }
}

/// Why a request body was not read to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("body exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the receiver is reading too many request bodies at once; retry later")]
    Busy,
    #[error("the body is larger than --max-inflight-bytes ({limit} bytes)")]
    OverBudget { limit: u64 },
    #[error("no body bytes arrived for {0:?} (--body-timeout)")]
    Stalled(Duration),
    #[error("cannot read the body: {0}")]
    Broken(String),
}

impl ReadError {
    pub fn from_refusal(refusal: Refusal, budget: &Budget) -> ReadError {
        match refusal {
            Refusal::Busy => ReadError::Busy,
            Refusal::TooLarge => ReadError::OverBudget {
                limit: budget.limit,
            },
        }
    }
}

/// Reads `body` to its end: at most `limit` bytes, each counted in `reservation`
/// before it is kept, and no more than `stall` between two frames.
pub async fn read_body<B>(
    body: B,
    limit: usize,
    reservation: &Reservation,
    stall: Duration,
) -> Result<Bytes, ReadError>
where
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let mut body = pin!(body);
    let capacity = usize::try_from(reservation.held())
        .unwrap_or(limit)
        .min(limit);
    let mut buf = BytesMut::with_capacity(capacity);
    loop {
        let frame = match tokio::time::timeout(stall, body.frame()).await {
            Err(_) => return Err(ReadError::Stalled(stall)),
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(ReadError::Broken(e.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let total = buf.len() + data.len();
        if total > limit {
            return Err(ReadError::TooLarge { limit });
        }
        reservation
            .grow_to(total as u64)
            .map_err(|r| ReadError::from_refusal(r, &reservation.budget))?;
        buf.extend_from_slice(&data);
    }
    Ok(buf.freeze())
}

/// Open connections across both servers, at most `max`.
#[derive(Debug)]
pub struct Connections {
    max: usize,
    open: AtomicUsize,
}

impl Connections {
    pub fn new(max: usize) -> Arc<Connections> {
        Arc::new(Connections {
            max,
            open: AtomicUsize::new(0),
        })
    }

    /// A slot for one more connection, or None when `max` are open.
    pub fn try_open(self: &Arc<Self>) -> Option<ConnectionSlot> {
        let max = self.max;
        self.open
            .fetch_update(Relaxed, Relaxed, |open| (open < max).then_some(open + 1))
            .ok()?;
        Some(ConnectionSlot(self.clone()))
    }

    pub fn open(&self) -> usize {
        self.open.load(Relaxed)
    }
}

/// Held while a connection is open; frees its slot when dropped.
#[derive(Debug)]
pub struct ConnectionSlot(Arc<Connections>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Relaxed);
    }
}

/// Raises this process's soft limit of open files towards `want` (never past the hard
/// limit: that takes privileges), so that `--max-connections` can be reached rather
/// than every accept failing with EMFILE. Returns the soft limit now in force.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not on every unix
pub fn raise_open_files(want: u64) -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let want = want as libc::rlim_t;
    if limit.rlim_cur >= want {
        return Ok(limit.rlim_cur as u64);
    }
    limit.rlim_cur = want.min(limit.rlim_max);
    // SAFETY: setrlimit only reads the struct it is given.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(limit.rlim_cur as u64)
}

#[cfg(not(unix))]
pub fn raise_open_files(_want: u64) -> std::io::Result<u64> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "no RLIMIT_NOFILE on this platform",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt as _;
    use http_body_util::{Full, StreamBody};
    use hyper::body::Frame;

    #[test]
    fn reservations_share_the_budget_and_give_it_back() {
        let budget = Budget::new(100);
        let a = budget.reserve();
        a.grow(60).unwrap();
        let b = budget.reserve();
        assert_eq!(b.grow(50), Err(Refusal::Busy), "60 + 50 > 100");
        assert_eq!(b.grow(101), Err(Refusal::TooLarge));
        b.grow(40).unwrap();
        assert_eq!(budget.used(), 100);
        drop(a);
        assert_eq!(budget.used(), 40);
        b.grow_to(90).unwrap();
        b.grow_to(10).unwrap();
        assert_eq!(b.held(), 90);
        drop(b);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn connection_slots_are_bounded_and_freed() {
        let conns = Connections::new(2);
        let a = conns.try_open().unwrap();
        let _b = conns.try_open().unwrap();
        assert!(conns.try_open().is_none());
        drop(a);
        assert!(conns.try_open().is_some());
    }

    #[tokio::test]
    async fn a_body_is_read_within_its_limits() {
        let budget = Budget::new(10);
        let r = budget.reserve();
        let body = Full::new(Bytes::from_static(b"12345"));
        let got = read_body(body, 8, &r, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(&got[..], b"12345");
        assert_eq!(r.held(), 5);

        let body = Full::new(Bytes::from_static(b"123456789"));
        let err = read_body(body, 8, &budget.reserve(), Duration::from_secs(5)).await;
        assert_eq!(err, Err(ReadError::TooLarge { limit: 8 }));

        let body = Full::new(Bytes::from_static(b"123456"));
        let err = read_body(body, 8, &budget.reserve(), Duration::from_secs(5)).await;
        assert_eq!(err, Err(ReadError::Busy), "5 of 10 are held by `r`");
        assert_eq!(budget.used(), 5, "a refused body holds nothing");
    }

    #[tokio::test]
    async fn a_stalled_body_times_out() {
        let budget = Budget::new(100);
        let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>(Frame::data(
            Bytes::from_static(b"ab"),
        ))])
        .chain(futures::stream::pending());
        let body = StreamBody::new(chunks);
        let stall = Duration::from_millis(50);
        let err = read_body(body, 100, &budget.reserve(), stall).await;
        assert_eq!(err, Err(ReadError::Stalled(stall)));
        assert_eq!(budget.used(), 0);
    }
}
