//! The per-call store data: WASI state, host import state and the memory
//! limiter.

use wasmtime::component::HasData;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtxView, WasiView};

use super::host_api::HostCtx;
use super::wasi::WasiState;

/// Everything one plugin call owns. A new one is built for every call and
/// dropped with its `Store`.
pub(crate) struct CallCtx {
    pub(crate) wasi: WasiState,
    pub(crate) host: HostCtx,
    pub(crate) limiter: MemoryCap,
}

impl WasiView for CallCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.wasi.view()
    }
}

/// Selects [`HostCtx`] as the data of the plugin world's imports.
pub(crate) struct HostImports;

impl HasData for HostImports {
    type Data<'a> = &'a mut HostCtx;
}

/// A [`StoreLimits`] memory cap that remembers whether it refused a growth,
/// so a trap that follows can be reported as a memory-limit fault.
pub(crate) struct MemoryCap {
    limits: StoreLimits,
    refused: bool,
    peak_bytes: usize,
}

impl MemoryCap {
    pub(crate) fn new(max_memory_bytes: usize) -> Self {
        let limits = StoreLimitsBuilder::new()
            .memory_size(max_memory_bytes)
            .build();
        Self {
            limits,
            refused: false,
            peak_bytes: 0,
        }
    }

    /// Returns true when the guest asked for more memory than the cap.
    pub(crate) fn refused(&self) -> bool {
        self.refused
    }

    /// Returns the largest size, in bytes, that the cap allowed any one
    /// linear memory to reach, including its initial size.
    pub(crate) fn peak_bytes(&self) -> usize {
        self.peak_bytes
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.peak_bytes = self.peak_bytes.max(desired);
        } else {
            self.refused = true;
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // The pool refuses growth past its slot size after the cap allowed
        // it; that is the same fault for the caller.
        self.refused = true;
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}
