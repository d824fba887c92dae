//! Compiling a component in a child process, `wxhost compile-plugin`.
//!
//! Cranelift allocates tens of MiB while it compiles a component, and the
//! allocator returns only part of that to the OS, so every hot reload
//! raised the host's resident memory. A child process returns all of it
//! when it exits. The child reads the `.wasm` bytes on stdin, compiles
//! them with the host's engine settings and writes the serialized
//! component to a temporary file in the artifact directory. The host
//! loads that file, which checks its header against the engine, and only
//! then renames it to its cache name.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::engine::{PoolTuning, RuntimeConfig};

/// The hidden subcommand of the `wxhost` command line that compiles.
pub const COMPILE_SUBCOMMAND: &str = "compile-plugin";

/// Bytes of the child's stderr kept for the error message.
const STDERR_TAIL_BYTES: usize = 1024;

/// Maximum pause between two checks of whether the child has exited.
const MAX_POLL_PAUSE: Duration = Duration::from_millis(20);

/// Set by the `wxhost` command line, whose executable has the
/// [`COMPILE_SUBCOMMAND`]. Test and bench binaries that embed the library
/// do not set it, so they compile in-process.
static SUBCOMMAND_AVAILABLE: AtomicBool = AtomicBool::new(false);

/// Distinguishes the temporary files of compilations running at once.
static TEMPORARY_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// Lets [`PluginRuntime::load_cached`](super::PluginRuntime::load_cached) run `wxhost compile-plugin` from
/// the current executable. Only a binary whose command line has that
/// subcommand may call this.
pub fn enable_child_compilation() {
    SUBCOMMAND_AVAILABLE.store(true, Ordering::Relaxed);
}

/// Returns the executable that can run [`COMPILE_SUBCOMMAND`], or the
/// reason why there is none.
pub(super) fn compiler_executable(configured: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = configured {
        return Ok(path.to_owned());
    }
    if !SUBCOMMAND_AVAILABLE.load(Ordering::Relaxed) {
        return Err(format!(
            "this executable has no `{COMPILE_SUBCOMMAND}` subcommand"
        ));
    }
    // NOTE: when the executable file was replaced since the host started,
    // this runs the new file. Its artifacts then fail the header check on
    // load unless it has the same wasmtime version and engine settings.
    std::env::current_exe()
        .map_err(|err| format!("the path of the current executable is unknown: {err}"))
}

/// A failed run of the compiler process.
#[derive(Debug, thiserror::Error)]
pub(super) enum ChildError {
    /// The executable did not start.
    #[error("failed to start {} compile-plugin: {source}", .exe.display())]
    Spawn {
        exe: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The child did not exit within the timeout and was killed.
    #[error("timed out")]
    TimedOut,
    /// Waiting for the child failed.
    #[error("failed to wait for compile-plugin: {0}")]
    Wait(#[source] std::io::Error),
    /// The child exited with a failure status or was killed by a signal.
    #[error("compile-plugin failed ({status}){}", stderr_suffix(.stderr_tail))]
    Failed {
        status: ExitStatus,
        stderr_tail: String,
    },
}

fn stderr_suffix(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!(": {tail}")
    }
}

/// Returns a fresh path for the child's output in `dir`.
// NOTE: a host that is killed during a compilation leaves this file in
// the artifact directory, and nothing removes it later.
pub(super) fn temporary_path(dir: &Path, content_hash: &str) -> PathBuf {
    let sequence = TEMPORARY_SEQUENCE.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        "{content_hash}.tmp{}-{sequence}",
        std::process::id()
    ))
}

/// Runs `exe compile-plugin` on `wasm` with the engine settings of
/// `config`, so that it writes the compiled component to `output`. Kills
/// the child's process group when it runs longer than `timeout`.
pub(super) fn run_compiler(
    exe: &Path,
    config: &RuntimeConfig,
    wasm: &[u8],
    output: &Path,
    timeout: Duration,
) -> Result<(), ChildError> {
    // The child runs in the output's directory, where a relative output
    // path would resolve a second time.
    let output = std::path::absolute(output).map_err(|source| ChildError::Spawn {
        exe: exe.to_owned(),
        source,
    })?;
    let working_dir = output.parent().unwrap_or(Path::new("/"));
    let mut child = Command::new(exe)
        .args(compiler_arguments(config, &output))
        .env_clear()
        .current_dir(working_dir)
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| ChildError::Spawn {
            exe: exe.to_owned(),
            source,
        })?;

    let stdin = child.stdin.take();
    let stderr = child.stderr.take();
    std::thread::scope(|scope| {
        scope.spawn(move || write_input(stdin, wasm));
        let reader = scope.spawn(move || read_tail(stderr));
        let waited = wait_or_kill(&mut child, timeout);
        // The pipe closes once the child (and its group) has exited.
        let stderr_tail = reader.join().unwrap_or_default();
        match waited? {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(ChildError::Failed {
                status,
                stderr_tail,
            }),
            None => Err(ChildError::TimedOut),
        }
    })
}

/// Returns the arguments of [`COMPILE_SUBCOMMAND`], which
/// `cli::compile_plugin` parses.
fn compiler_arguments(config: &RuntimeConfig, output: &Path) -> Vec<OsString> {
    let pool_tuning = match config.pool_tuning {
        PoolTuning::Tuned => "tuned",
        PoolTuning::WasmtimeDefaults => "wasmtime-defaults",
    };
    vec![
        COMPILE_SUBCOMMAND.into(),
        "--max-instances".into(),
        config.max_instances.to_string().into(),
        "--max-memory-bytes".into(),
        config.max_memory_bytes.to_string().into(),
        "--pool-tuning".into(),
        pool_tuning.into(),
        "--output".into(),
        output.into(),
    ]
}

/// Writes `wasm` to the child's stdin and closes it. A child that exits
/// early closes the pipe, and the write then fails with `EPIPE`, which is
/// ignored because the exit status reports the failure.
fn write_input(stdin: Option<std::process::ChildStdin>, wasm: &[u8]) {
    let Some(mut stdin) = stdin else {
        return;
    };
    block_sigpipe_on_this_thread();
    let _ = stdin.write_all(wasm);
}

/// Blocks SIGPIPE for the calling thread, so a write to a closed pipe
/// returns `EPIPE` instead of ending the process. Commands other than
/// `serve` restore SIGPIPE's default action, which ends the process.
fn block_sigpipe_on_this_thread() {
    // SAFETY: the signal set is a local that `sigemptyset` initializes
    // before use, and `pthread_sigmask` changes only this thread's mask.
    // A SIGPIPE raised by a write is directed at the writing thread, so it
    // stays pending here and is discarded when the thread ends.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Reads the child's stderr to its end and returns its last lines as one
/// line of printable text.
fn read_tail(stderr: Option<ChildStderr>) -> String {
    let Some(mut stderr) = stderr else {
        return String::new();
    };
    let mut collected: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read) = stderr.read(&mut buffer) {
        if read == 0 {
            break;
        }
        collected.extend_from_slice(&buffer[..read]);
        if collected.len() > 2 * STDERR_TAIL_BYTES {
            collected.drain(..collected.len() - STDERR_TAIL_BYTES);
        }
    }
    let start = collected.len().saturating_sub(STDERR_TAIL_BYTES);
    one_line(&String::from_utf8_lossy(&collected[start..]))
}

/// Joins the non-empty lines of `text` with spaces and drops control
/// characters.
fn one_line(text: &str) -> String {
    text.lines()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// Waits for the child until `timeout` and returns its status, or kills
/// its process group and returns `None` when the time is up.
fn wait_or_kill(child: &mut Child, timeout: Duration) -> Result<Option<ExitStatus>, ChildError> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        let polled = child.try_wait();
        if polled.is_err() {
            // Without a status the child may still run and keep its stderr
            // open, and the reader of that pipe would wait forever.
            kill_group(child);
        }
        if let Some(status) = polled.map_err(ChildError::Wait)? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            kill_group(child);
            child.wait().map_err(ChildError::Wait)?;
            return Ok(None);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(MAX_POLL_PAUSE);
    }
}

fn kill_group(child: &Child) {
    let Ok(group) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: `kill` takes no pointers. The child was started with
    // `process_group(0)`, so its id is the id of a group that contains
    // only the child and its descendants, and the child is not reaped yet,
    // so the id cannot belong to another process.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// Formats a timeout for an error message: whole seconds, or
/// milliseconds below one second or with a fraction.
pub(super) fn format_timeout(timeout: &Duration) -> String {
    if timeout.subsec_nanos() == 0 {
        format!("{} s", timeout.as_secs())
    } else {
        format!("{} ms", timeout.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_tail_joins_lines() {
        assert_eq!(
            one_line("error: invalid expected=[\n    0x0,\n\n] at byte 12\x1b[0m\n"),
            "error: invalid expected=[ 0x0, ] at byte 12[0m"
        );
    }

    #[test]
    fn timeout_formats_seconds_or_millis() {
        assert_eq!(format_timeout(&Duration::from_secs(300)), "300 s");
        assert_eq!(format_timeout(&Duration::from_millis(250)), "250 ms");
    }

    #[test]
    fn compiler_arguments_carry_engine_settings() {
        let arguments = compiler_arguments(&RuntimeConfig::default(), Path::new("/cache/a.tmp"));
        let arguments: Vec<&str> = arguments.iter().filter_map(|a| a.to_str()).collect();
        assert_eq!(
            arguments,
            [
                "compile-plugin",
                "--max-instances",
                "64",
                "--max-memory-bytes",
                "67108864",
                "--pool-tuning",
                "tuned",
                "--output",
                "/cache/a.tmp",
            ]
        );
    }
}
