//! The open connections: how many, from which address, and which are idle (no request in
//! flight, no response streaming). One client must not take the service down, and idle
//! connections are closed before busy ones suffer: an address holds at most `per_address`
//! connections, one more taking the place of that address's longest-idle one; when all `max` are
//! open a new one takes the place of the longest-idle connection of the address holding the most.
//! Only when those it could replace are all busy is a new connection turned away.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Its address holds `per_address` connections already.
    Address,
    /// Every connection is open and busy.
    Full,
}

/// One open connection's state, shared by its task, its requests and the table.
#[derive(Debug)]
pub(crate) struct Connection {
    id: u64,
    addr: IpAddr,
    /// Requests in flight, responses still streaming.
    busy: AtomicUsize,
    /// When it last became idle, in milliseconds since the table began.
    idle_since_ms: AtomicU64,
    /// Set when it was closed to make room.
    evicted: AtomicBool,
    /// Told when it is to close.
    close: Notify,
    epoch: Instant,
}

impl Connection {
    /// Whether a request is in flight or a response streaming on it.
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire) > 0
    }

    /// Whether it was closed to make room for another.
    #[cfg(test)]
    pub(crate) fn evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    /// Resolves when the connection is to close to make room for another.
    pub(crate) async fn closing(&self) {
        self.close.notified().await;
    }

    /// Marks a request in flight until the returned guard is dropped (with the response's body).
    pub(crate) fn request(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A request in flight on a connection; dropped with its response's body.
#[derive(Debug)]
pub(crate) struct Busy(Arc<Connection>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.idle_since_ms.store(self.0.now_ms(), Ordering::Release);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The table of open connections.
#[derive(Debug)]
pub(crate) struct Connections {
    max: usize,
    per_address: usize,
    epoch: Instant,
    next: AtomicU64,
    table: Mutex<Table>,
    /// Told whenever a connection leaves the table.
    left: Notify,
}

#[derive(Debug, Default)]
struct Table {
    open: HashMap<u64, Arc<Connection>>,
    by_address: HashMap<IpAddr, usize>,
}

impl Table {
    fn remove(&mut self, id: u64) -> Option<Arc<Connection>> {
        let c = self.open.remove(&id)?;
        if let Some(n) = self.by_address.get_mut(&c.addr) {
            *n -= 1;
            if *n == 0 {
                self.by_address.remove(&c.addr);
            }
        }
        Some(c)
    }
}

impl Connections {
    /// At most `max` connections, `per_address` from one address (0: no per-address limit).
    pub(crate) fn new(max: usize, per_address: usize) -> Self {
        let max = max.max(1);
        let per_address = if per_address == 0 { max } else { per_address.min(max) };
        Self { max, per_address, epoch: Instant::now(), next: AtomicU64::new(0), table: Mutex::default(), left: Notify::new() }
    }

    /// Admits a connection from `addr`, closing the longest-idle connection of the address
    /// holding the most when all are open; the returned guard keeps its place until dropped.
    pub(crate) fn admit(self: &Arc<Self>, addr: IpAddr) -> Result<Admitted, Refusal> {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        let idle_since = |c: &Arc<Connection>| std::cmp::Reverse(c.idle_since_ms.load(Ordering::Acquire));
        let victim = if table.by_address.get(&addr).copied().unwrap_or(0) >= self.per_address {
            let own = table.open.values().filter(|c| c.addr == addr && !c.is_busy()).max_by_key(|c| idle_since(c));
            Some(own.map(|c| c.id).ok_or(Refusal::Address)?)
        } else if table.open.len() >= self.max {
            let any = table.open.values().filter(|c| !c.is_busy()).max_by_key(|c| (table.by_address.get(&c.addr).copied().unwrap_or(0), idle_since(c)));
            Some(any.map(|c| c.id).ok_or(Refusal::Full)?)
        } else {
            None
        };
        if let Some(c) = victim.and_then(|v| table.remove(v)) {
            c.evicted.store(true, Ordering::Release);
            c.close.notify_one();
            tracing::debug!(peer = %c.addr, "idle connection closed to make room for a new one");
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            id,
            addr,
            busy: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)),
            evicted: AtomicBool::new(false),
            close: Notify::new(),
            epoch: self.epoch,
        });
        table.open.insert(id, connection.clone());
        *table.by_address.entry(addr).or_default() += 1;
        Ok(Admitted { connections: self.clone(), connection })
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).open.len()
    }

    /// Resolves when no connection is open.
    pub(crate) async fn all_closed(&self) {
        loop {
            let left = self.left.notified();
            if self.open() == 0 {
                return;
            }
            left.await;
        }
    }
}

/// A connection's place in the table, given up when dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    connections: Arc<Connections>,
    /// The connection's state.
    pub(crate) connection: Arc<Connection>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.connections.table.lock().unwrap_or_else(PoisonError::into_inner).remove(self.connection.id);
        self.connections.left.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn one_address_holds_at_most_its_share_its_idle_ones_making_room() {
        let c = Arc::new(Connections::new(10, 3));
        let held: Vec<Admitted> = (0..3).map(|_| c.admit(ip(1)).unwrap()).collect();
        let mut busy: Vec<Busy> = held.iter().map(|h| h.connection.request()).collect();
        assert_eq!(c.admit(ip(1)).unwrap_err(), Refusal::Address, "all three busy");
        let other = c.admit(ip(2)).unwrap();
        drop(busy.remove(0));
        let fourth = c.admit(ip(1)).unwrap();
        assert!(held[0].connection.evicted(), "its own idle connection made room");
        assert!(!other.connection.evicted(), "another address's never does");
        assert_eq!(c.open(), 4);
        drop((held, fourth, other, busy));
        assert_eq!(c.open(), 0);
    }

    #[test]
    fn a_full_table_closes_an_idle_connection_of_the_busiest_address_never_a_busy_one() {
        let c = Arc::new(Connections::new(4, 3));
        let a: Vec<Admitted> = (0..3).map(|_| c.admit(ip(1)).unwrap()).collect();
        let b = c.admit(ip(2)).unwrap();
        let _busy_b = b.connection.request();
        let _busy_a: Vec<Busy> = a.iter().skip(1).map(|x| x.connection.request()).collect();
        // Full: the one idle connection (ip 1, the first) makes room.
        let d = c.admit(ip(3)).unwrap();
        assert!(a[0].connection.evicted(), "the idle connection of the address holding most is closed");
        assert!(!b.connection.evicted() && !a[1].connection.evicted() && !a[2].connection.evicted());
        assert_eq!(c.open(), 4);
        // Every connection busy now: a new one is turned away.
        let _busy_d = d.connection.request();
        assert_eq!(c.admit(ip(4)).unwrap_err(), Refusal::Full);
        drop(_busy_d);
        assert!(c.admit(ip(4)).is_ok(), "an idle one again makes room");
        assert!(d.connection.evicted());
    }
}
