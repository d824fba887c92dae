//! Transparent huge pages for `wxhost serve`.

/// The variable that keeps transparent huge pages enabled. mimalloc (the
/// version in libmimalloc-sys 0.1.49) reads it for its `allow_thp` option
/// and, when it is 0, disables them itself.
const ALLOW_THP_VARIABLE: &str = "MIMALLOC_ALLOW_THP";

/// Disables transparent huge pages for this process and the processes it
/// starts, unless `MIMALLOC_ALLOW_THP` is set. With them, the kernel backs
/// mimalloc's segments with 2 MiB pages, and a few small allocations make
/// a whole 2 MiB resident.
#[cfg(target_os = "linux")]
pub(super) fn disable_transparent_huge_pages() {
    if std::env::var_os(ALLOW_THP_VARIABLE).is_some() {
        tracing::debug!("{ALLOW_THP_VARIABLE} is set; transparent huge pages stay as configured");
        return;
    }
    // SAFETY: `PR_SET_THP_DISABLE` takes integer arguments only and sets a
    // flag of this process, which its children inherit.
    let result = unsafe {
        libc::prctl(
            libc::PR_SET_THP_DISABLE,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if result == 0 {
        tracing::debug!("transparent huge pages disabled for this process");
    } else {
        let error = std::io::Error::last_os_error();
        tracing::debug!(%error, "failed to disable transparent huge pages");
    }
}

/// Does nothing: transparent huge pages are a Linux feature.
#[cfg(not(target_os = "linux"))]
pub(super) fn disable_transparent_huge_pages() {}
