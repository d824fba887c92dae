//! The `wxhost` command: see `wxhost --help`.

// mimalloc keeps per-thread free lists, which suits a server that
// allocates small buffers on many threads; with glibc's malloc, allocation
// was the largest single cost in a profile of the callback path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    wxhost::cli::main()
}
