//! Write-behind of finished responses to the store.
//!
//! Answers without outbox entries are written by one background thread in
//! batches, one transaction every few milliseconds, so a callback does not
//! wait for SQLite.
//! A crash loses at most the batch being gathered (a few milliseconds of
//! answers). Their callbacks were already answered, so WeChat does not
//! retry them; the answers only matter for a retry that was already on its
//! way. Answers with outbox entries never take this path.

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
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
    Reply(PendingReply),
    /// Write everything received so far, then signal the sender.
    Flush(Sender<()>),
}

/// How long the writer sleeps between batches. Callbacks never wake it,
/// so a burst of answers costs one thread wake-up, not one each.
const BATCH_INTERVAL: Duration = Duration::from_millis(5);

/// The sending side of the writer thread.
pub(super) struct ReplyWriter {
    sender: Sender<Message>,
    thread: Option<JoinHandle<()>>,
}

impl ReplyWriter {
    /// Starts the writer thread over `store`.
    pub(super) fn start(store: Store) -> ReplyWriter {
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("wxhost-reply-writer".to_owned())
            .spawn(move || write_batches(&store, &receiver))
            .expect("the OS can start the reply writer thread");
        ReplyWriter {
            sender,
            thread: Some(thread),
        }
    }

    /// Queues one answer. Never blocks.
    pub(super) fn push(&self, pending: PendingReply) {
        // The thread only ends when this sender is dropped, so a send
        // error cannot happen while `self` lives.
        let _ = self.sender.send(Message::Reply(pending));
    }

    /// Blocks until every answer queued before this call is written.
    pub(super) fn flush(&self) {
        let (done, wait) = mpsc::channel();
        if self.sender.send(Message::Flush(done)).is_ok() {
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
        drop(std::mem::replace(&mut self.sender, closed));
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

fn write_batches(store: &Store, receiver: &Receiver<Message>) {
    let mut batch = Vec::new();
    let mut flushes = Vec::new();
    loop {
        std::thread::park_timeout(BATCH_INTERVAL);
        let mut closed = false;
        loop {
            match receiver.try_recv() {
                Ok(Message::Reply(pending)) => batch.push(pending),
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
