//! The WASI preview 2 imports, linked to a context that grants nothing.
//!
//! Rust's standard library on `wasm32-wasip2` imports `wasi:cli` and
//! `wasi:io` for its panic and allocation-failure paths, so plugins built
//! with std need them to load. What a guest gets:
//!
//! - no environment variables, no arguments, no preopened directories;
//! - stdin is closed, stdout is discarded, and stderr is kept up to
//!   [`STDERR_CAPTURE_BYTES`] so a panic message can be reported with the
//!   trap;
//! - sockets: TCP, UDP and name lookup are disabled;
//! - the wall clock always reads the Unix epoch and the monotonic clock
//!   always reads 0;
//! - `wasi:random/insecure` returns zero bytes and `insecure-seed` returns 0,
//!   so hash maps still work, deterministically;
//! - `wasi:random/random` (secure random) and the monotonic clock's
//!   `subscribe-duration` and `subscribe-instant` trap. Secure random would
//!   be fake, and a sleep would block the host thread, where the epoch
//!   deadline cannot stop it.

use std::time::Duration;

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::{
    Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView,
};

use super::stderr::CappedPipe;

/// How much of the guest's stderr the runtime keeps per call (1 KiB).
pub(crate) const STDERR_CAPTURE_BYTES: usize = 1024;

/// The WASI package version that wasmtime-wasi 48.0.8 defines. Guests built
/// against an older 0.2.x version link to it by semver.
const WASI_VERSION: &str = "0.2.12";

/// Builds the per-call WASI context described in the module docs. The guest's
/// stderr lands in `stderr`.
pub(crate) fn deny_all_ctx(stderr: CappedPipe) -> WasiCtx {
    let mut builder = WasiCtx::builder();
    builder
        .stderr(stderr)
        .wall_clock(FixedWallClock)
        .monotonic_clock(FixedMonotonicClock)
        .secure_random(Deterministic::new(vec![0]))
        .insecure_random(Deterministic::new(vec![0]))
        .insecure_random_seed(0)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    builder.build()
}

/// Links all of WASI preview 2, then replaces the functions that must trap.
pub(crate) fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);

    let mut clock = linker.instance(&format!("wasi:clocks/monotonic-clock@{WASI_VERSION}"))?;
    clock.func_wrap(
        "subscribe-duration",
        |_, (_,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
            wasmtime::bail!("plugins cannot sleep: wasi:clocks/monotonic-clock is fixed at 0")
        },
    )?;
    clock.func_wrap(
        "subscribe-instant",
        |_, (_,): (u64,)| -> wasmtime::Result<(Resource<DynPollable>,)> {
            wasmtime::bail!("plugins cannot sleep: wasi:clocks/monotonic-clock is fixed at 0")
        },
    )?;

    let mut random = linker.instance(&format!("wasi:random/random@{WASI_VERSION}"))?;
    random.func_wrap(
        "get-random-bytes",
        |_, (_,): (u64,)| -> wasmtime::Result<(Vec<u8>,)> {
            wasmtime::bail!("plugins get no secure random numbers from the host")
        },
    )?;
    random.func_wrap("get-random-u64", |_, (): ()| -> wasmtime::Result<(u64,)> {
        wasmtime::bail!("plugins get no secure random numbers from the host")
    })?;

    linker.allow_shadowing(false);
    Ok(())
}

/// The part of the per-call state that WASI host functions use.
pub(crate) struct WasiState {
    pub(crate) ctx: WasiCtx,
    pub(crate) table: wasmtime::component::ResourceTable,
}

impl WasiState {
    pub(crate) fn view(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

struct FixedWallClock;

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}
