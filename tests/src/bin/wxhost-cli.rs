//! `wxhost-cli`: the `wxhost` command line built in this package. Cargo
//! sets `CARGO_BIN_EXE_<name>` for integration tests only for the binaries
//! of their own package, so the end-to-end tests start this one where they
//! need the real command line, for example its hidden `compile-plugin`
//! subcommand.

fn main() -> std::process::ExitCode {
    wxhost::cli::main()
}
