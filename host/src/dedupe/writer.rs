//! Write-behind of finished responses to the store.
//!
//! Answers without outbox entries are written by one background thread in
//! batches, one transaction every few milliseconds, so a callback does not
//! wait for SQLite.
//! A crash loses at most the batch being gathered (a few milliseconds of
//! answers). Their callbacks were already answered, so WeChat does not
//! retry them; the answers only matter for a retry that was already on its
//! way. Answers with outbox entries never take this path.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::store::{Store, StoredReply};

/// Maximum number of responses written in one transaction.
const MAX_BATCH: usize = 512;

/// One response to store.
pub(super) struct PendingReply {
    pub key: String,
    pub reply: StoredReply,
    pub expires_at: u64,
}

/// A message to the writer thread.
enum Message {
    /// A response and its sequence number, from 1 up in the order sent.
    Reply(PendingReply, u64),
    /// Write everything received so far, then signal the sender.
    Flush(Sender<()>),
}

/// How long the writer sleeps between batches. Callbacks never wake it,
/// so a burst of answers costs one thread wake-up, not one each.
const BATCH_INTERVAL: Duration = Duration::from_millis(5);

/// The sending side of the writer thread.
pub(super) struct ReplyWriter {
    /// The sender and the last sequence number handed out, locked
    /// together so that sequence numbers reach the thread in order.
    sender: Mutex<(Sender<Message>, u64)>,
    /// The highest sequence number whose response the thread has
    /// written (or failed to write and logged).
    written: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl ReplyWriter {
    /// Starts the writer thread over `store`.
    pub(super) fn start(store: Store) -> ReplyWriter {
        let (sender, receiver) = mpsc::channel();
        let written = Arc::new(AtomicU64::new(0));
        let thread = {
            let written = written.clone();
            std::thread::Builder::new()
                .name("wxhost-reply-writer".to_owned())
                .spawn(move || write_batches(&store, &receiver, &written))
                .expect("the OS can start the reply writer thread")
        };
        ReplyWriter {
            sender: Mutex::new((sender, 0)),
            written,
            thread: Some(thread),
        }
    }

    /// Queues one answer and returns its sequence number. Never blocks
    /// beyond a short lock.
    pub(super) fn push(&self, pending: PendingReply) -> u64 {
        let mut sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
        sender.1 += 1;
        let sequence = sender.1;
        // The thread only ends when this sender is dropped, so a send
        // error cannot happen while `self` lives.
        let _ = sender.0.send(Message::Reply(pending, sequence));
        sequence
    }

    /// Returns the highest sequence number whose answer is written: every
    /// answer up to it is in the store or was logged as failed.
    pub(super) fn written(&self) -> u64 {
        self.written.load(Ordering::Acquire)
    }

    /// Blocks until every answer queued before this call is written.
    pub(super) fn flush(&self) {
        let (done, wait) = mpsc::channel();
        let sent = self
            .sender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .send(Message::Flush(done));
        if sent.is_ok() {
            if let Some(thread) = &self.thread {
                thread.thread().unpark();
            }
            let _ = wait.recv();
        }
    }
}

impl Drop for ReplyWriter {
    fn drop(&mut self) {
        // Closing the channel makes the thread write what is left and end.
        let (closed, _) = mpsc::channel();
        let sender = self
            .sender
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        drop(std::mem::replace(&mut sender.0, closed));
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

fn write_batches(store: &Store, receiver: &Receiver<Message>, written: &AtomicU64) {
    let mut batch = Vec::new();
    let mut flushes = Vec::new();
    loop {
        std::thread::park_timeout(BATCH_INTERVAL);
        let mut closed = false;
        let mut last_sequence = None;
        loop {
            match receiver.try_recv() {
                Ok(Message::Reply(pending, sequence)) => {
                    batch.push(pending);
                    last_sequence = Some(sequence);
                }
                Ok(Message::Flush(done)) => flushes.push(done),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        for chunk in batch.chunks(MAX_BATCH) {
            write_batch(store, chunk);
        }
        batch.clear();
        if let Some(sequence) = last_sequence {
            written.store(sequence, Ordering::Release);
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
        if closed {
            return;
        }
    }
}

fn write_batch(store: &Store, batch: &[PendingReply]) {
    if batch.is_empty() {
        return;
    }
    let rows: Vec<(&str, &StoredReply, u64)> = batch
        .iter()
        .map(|pending| (pending.key.as_str(), &pending.reply, pending.expires_at))
        .collect();
    if let Err(err) = store.reply_put_batch(&rows) {
        tracing::error!(replies = rows.len(), error = %err, "failed to store finished responses");
    }
}
