//! Group commit for the callback path.
//!
//! A callback's plugin route may write the store several times: the
//! follower ledger, then a plugin's `kv` marker and counters. Committing
//! each write on its own costs one WAL append per write. Inside
//! [`Store::deferred`], writes instead join one shared open transaction,
//! the batch. Concurrent routes add to the same batch, and it commits once
//! when the first of them calls [`Store::make_durable`], or when any
//! code outside a deferred scope takes the connection.
//!
//! Nothing of a batch leaves the process before it commits: a route's
//! caller sends the reply only after [`Store::make_durable`] returns, and
//! [`Store::lock`] outside a deferred scope commits the open batch before
//! it reads. A route may see writes of another route that are not
//! committed yet, but both wait for the same commit, and when it fails
//! both report the failure.

use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::sync::MutexGuard;

use rusqlite::Connection;

use super::{Store, StoreError};

/// The connection and the state of the open batch, behind the store's mutex.
pub(super) struct Db {
    pub(super) connection: Connection,
    /// The number of the open batch, if a batch is open.
    open: Option<u64>,
    /// The number the next batch gets; batch numbers start at 1.
    next: u64,
    /// Every batch up to this number has ended, committed or rolled back.
    ended: u64,
    /// The highest batch number whose commit failed, 0 when none did.
    failed: u64,
}

impl Db {
    pub(super) fn new(connection: Connection) -> Db {
        Db {
            connection,
            open: None,
            next: 1,
            ended: 0,
            failed: 0,
        }
    }

    /// Opens a batch unless one is open and returns its number. Returns
    /// `None` when SQLite refuses the transaction (another process holds
    /// the write lock past the busy timeout); the caller's statements then
    /// commit on their own.
    fn open_batch(&mut self) -> Option<u64> {
        if self.open.is_none() {
            control(&self.connection, "BEGIN IMMEDIATE")
                .inspect_err(|err| {
                    tracing::warn!(error = %err, "failed to open a shared transaction; each write commits on its own");
                })
                .ok()?;
            self.open = Some(self.next);
            self.next += 1;
        }
        self.open
    }

    /// Commits the open batch, if any. A failed commit rolls the batch
    /// back and is remembered for [`Store::make_durable`].
    fn commit_open(&mut self) {
        let Some(batch) = self.open.take() else {
            return;
        };
        if let Err(err) = control(&self.connection, "COMMIT") {
            tracing::error!(batch, error = %err, "failed to commit a shared transaction");
            // A failed COMMIT may leave the transaction open; end it.
            let _ = control(&self.connection, "ROLLBACK");
            self.failed = batch;
        }
        self.ended = batch;
    }
}

/// The batches a deferred scope touched, from the first to the last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending {
    batches: Option<(u64, u64)>,
}

impl Pending {
    fn touch(&mut self, batch: u64) {
        self.batches = Some(match self.batches {
            None => (batch, batch),
            Some((first, last)) => (first.min(batch), last.max(batch)),
        });
    }

    /// Returns true when the scope wrote nothing through the shared batch.
    pub fn is_empty(&self) -> bool {
        self.batches.is_none()
    }
}

/// The deferred scope of the current thread: the store it belongs to and
/// the batches it touched.
struct Scope {
    store: usize,
    pending: Pending,
}

thread_local! {
    static SCOPE: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

/// Returns true when the current thread has a deferred scope for `store`.
fn in_scope(store: usize) -> bool {
    SCOPE.with_borrow(|scope| scope.as_ref().is_some_and(|scope| scope.store == store))
}

/// Records `batch` in the current thread's scope when that scope belongs
/// to `store`.
fn touch_scope(store: usize, batch: u64) {
    SCOPE.with_borrow_mut(|scope| {
        if let Some(scope) = scope.as_mut().filter(|scope| scope.store == store) {
            scope.pending.touch(batch);
        }
    });
}

/// The locked connection. It dereferences to [`Connection`], and
/// statements that must apply together go through [`Locked::atomic`].
pub(crate) struct Locked<'a> {
    db: MutexGuard<'a, Db>,
}

impl Deref for Locked<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.db.connection
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.db.connection
    }
}

impl Locked<'_> {
    /// Runs `work` so that its statements apply together or not at all:
    /// as a savepoint inside an open batch, otherwise as an immediate
    /// transaction, which takes the write lock before the first read.
    pub(crate) fn atomic<T>(
        &mut self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let statements = if self.db.open.is_some() {
            SAVEPOINT
        } else {
            TRANSACTION
        };
        let connection = &self.db.connection;
        control(connection, statements.begin)?;
        let mut open = Open {
            connection,
            undo: Some(statements.undo),
        };
        let value = work(connection)?;
        control(connection, statements.end)?;
        open.undo = None;
        Ok(value)
    }
}

/// The statements that begin, end and undo one [`Locked::atomic`] step.
struct Statements {
    begin: &'static str,
    end: &'static str,
    undo: &'static str,
}

/// An atomic step inside an open batch.
const SAVEPOINT: Statements = Statements {
    begin: "SAVEPOINT wxhost_atomic",
    end: "RELEASE wxhost_atomic",
    undo: "ROLLBACK TO wxhost_atomic; RELEASE wxhost_atomic",
};

/// An atomic step on its own. `IMMEDIATE` takes the write lock before
/// the first read.
const TRANSACTION: Statements = Statements {
    begin: "BEGIN IMMEDIATE",
    end: "COMMIT",
    undo: "ROLLBACK",
};

/// An atomic step that has begun. Dropped before its end statement runs,
/// because the step failed or panicked, it undoes the step's writes.
struct Open<'a> {
    connection: &'a Connection,
    undo: Option<&'static str>,
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if let Some(undo) = self.undo
            && let Err(err) = self.connection.execute_batch(undo)
        {
            tracing::error!(error = %err, "failed to undo an atomic store step");
        }
    }
}

/// Runs a transaction control statement from the connection's statement
/// cache, so the callback path does not parse it again on every use.
fn control(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(drop)
}

impl Store {
    /// Locks the connection. Inside a [`Store::deferred`] scope of this
    /// store, the caller's statements join the open batch. Outside one,
    /// the open batch commits first, so the caller sees only committed data.
    pub(crate) fn lock(&self) -> Locked<'_> {
        let mut db = self.db();
        if in_scope(self.id()) {
            if let Some(batch) = db.open_batch() {
                touch_scope(self.id(), batch);
            }
        } else {
            db.commit_open();
        }
        Locked { db }
    }

    /// Runs `work` with this thread's writes to the store joining the
    /// shared batch, and returns what the caller must pass to
    /// [`Store::make_durable`] before anything of `work` leaves the process.
    /// A nested scope for the same store returns an empty [`Pending`],
    /// because the outer scope records its writes.
    pub fn deferred<T>(&self, work: impl FnOnce() -> T) -> (T, Pending) {
        if in_scope(self.id()) {
            return (work(), Pending::default());
        }
        let outer = SCOPE.replace(Some(Scope {
            store: self.id(),
            pending: Pending::default(),
        }));
        // Puts the outer scope back when `work` returns or panics.
        struct Restore(Option<Scope>);
        impl Drop for Restore {
            fn drop(&mut self) {
                SCOPE.set(self.0.take());
            }
        }
        let _restore = Restore(outer);
        let value = work();
        let pending = SCOPE.take().map(|scope| scope.pending).unwrap_or_default();
        (value, pending)
    }

    /// Commits the batches of `pending` unless they have ended, and
    /// returns an error when one of them failed to commit.
    pub fn make_durable(&self, pending: Pending) -> Result<(), StoreError> {
        let Some((first, last)) = pending.batches else {
            return Ok(());
        };
        let mut db = self.db();
        if db.ended < last {
            db.commit_open();
        }
        if db.failed >= first {
            return Err(StoreError::NotCommitted);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(store: &Store) -> i64 {
        store
            .lock()
            .query_row("SELECT count(*) FROM kv", [], |row| row.get(0))
            .expect("count")
    }

    #[test]
    fn deferred_writes_share_one_batch() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("group.db");
        let store = Store::open(&path)?;
        let ((), first) = store.deferred(|| {
            store.kv_set("demo", "p", "a", b"1", None).expect("set a");
            store
                .kv_increment("demo", "p", "n", 2, 0)
                .expect("increment");
        });
        let ((), second) = store.deferred(|| {
            store.kv_set("demo", "p", "b", b"2", None).expect("set b");
        });
        assert_eq!(first.batches, Some((1, 1)));
        assert_eq!(second.batches, Some((1, 1)));

        // A second connection reads no rows before the commit.
        let other = Store::open(&path)?;
        assert_eq!(count(&other), 0);
        store.make_durable(first)?;
        assert_eq!(count(&other), 3);
        store.make_durable(second)?;
        Ok(())
    }

    #[test]
    fn lock_outside_scope_commits_the_batch() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let ((), pending) = store.deferred(|| {
            store.kv_set("demo", "p", "a", b"1", None).expect("set");
        });
        assert_eq!(store.db().open, Some(1));
        assert_eq!(count(&store), 1);
        assert_eq!(store.db().open, None);
        store.make_durable(pending)?;

        let ((), later) = store.deferred(|| {
            store.kv_set("demo", "p", "b", b"2", None).expect("set");
        });
        assert_eq!(later.batches, Some((2, 2)));
        store.make_durable(later)?;
        Ok(())
    }

    #[test]
    fn failed_atomic_step_keeps_the_batch() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let ((), pending) = store.deferred(|| {
            store.kv_set("demo", "p", "a", b"1", None).expect("set");
            let failed = store.lock().atomic(|connection| {
                connection.execute("INSERT INTO kv (account) VALUES ('x')", [])?;
                Ok(())
            });
            assert!(failed.is_err());
        });
        store.make_durable(pending)?;
        assert_eq!(store.kv_get("demo", "p", "a", 0)?, Some(b"1".to_vec()));
        assert_eq!(count(&store), 1);
        Ok(())
    }

    #[test]
    fn failed_commit_is_reported() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        store.lock().execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (parent INTEGER REFERENCES parent (id));",
        )?;
        let ((), pending) = store.deferred(|| {
            store.kv_set("demo", "p", "a", b"1", None).expect("set");
            // A deferred foreign key violation makes the COMMIT fail.
            store
                .lock()
                .execute_batch("PRAGMA defer_foreign_keys = ON; INSERT INTO child VALUES (7);")
                .expect("statements");
        });
        assert!(matches!(
            store.make_durable(pending),
            Err(StoreError::NotCommitted)
        ));
        assert_eq!(store.kv_get("demo", "p", "a", 0)?, None);

        // The next batch commits.
        let ((), next) = store.deferred(|| {
            store.kv_set("demo", "p", "b", b"2", None).expect("set");
        });
        store.make_durable(next)?;
        assert_eq!(store.kv_get("demo", "p", "b", 0)?, Some(b"2".to_vec()));
        Ok(())
    }

    #[test]
    fn panicking_atomic_step_is_undone() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let insert_then_panic = || {
            let _ = store.lock().atomic(|connection| -> Result<(), StoreError> {
                connection.execute(
                    "INSERT INTO kv (account, plugin, key, value) VALUES ('demo', 'p', 'x', x'31')",
                    [],
                )?;
                panic!("plugin host code panicked mid-step");
            });
        };
        // On its own, and as a savepoint inside an open batch.
        let alone = std::panic::catch_unwind(std::panic::AssertUnwindSafe(insert_then_panic));
        assert!(alone.is_err());
        assert_eq!(count(&store), 0);
        let ((), pending) = store.deferred(|| {
            store.kv_set("demo", "p", "a", b"1", None).expect("set");
            let inside = std::panic::catch_unwind(std::panic::AssertUnwindSafe(insert_then_panic));
            assert!(inside.is_err());
        });
        store.make_durable(pending)?;
        assert_eq!(count(&store), 1);
        assert_eq!(store.kv_get("demo", "p", "x", 0)?, None);
        Ok(())
    }

    #[test]
    fn empty_scope_needs_no_commit() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let (value, pending) = store.deferred(|| 5);
        assert_eq!(value, 5);
        assert!(pending.is_empty());
        store.make_durable(pending)?;
        Ok(())
    }
}
