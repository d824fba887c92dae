//! The `wxhost` command: see `wxhost --help`.

fn main() -> std::process::ExitCode {
    wxhost::cli::main()
}
