//! The `wxhost` command line.

mod compile_plugin;
mod demo_qa;
mod fake;
mod import;
mod menu;
mod ops;
pub mod plugin;
mod replay;
mod simulate;
pub mod stats;
mod thp;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// Host for WeChat Official Account callbacks with sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "wxhost", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve WeChat callbacks with the plugins named in the config.
    Serve {
        /// Path of the TOML config file.
        #[arg(long, short, default_value = "wxhost.toml")]
        config: PathBuf,
    },
    /// Validate a config file and its plugins without serving.
    Check {
        /// Path of the TOML config file.
        #[arg(long, short, default_value = "wxhost.toml")]
        config: PathBuf,
    },
    /// Play WeChat against a running host: send a signed callback and print the reply.
    Simulate(simulate::SimulateArgs),
    /// Show an account's API usage today against each limit.
    Quota(ops::QuotaArgs),
    /// List outbox entries or queue a dead one again.
    Outbox(ops::OutboxArgs),
    /// Print the welcome plugin's channel counts or the referral plugin's top inviters.
    Stats(stats::StatsArgs),
    /// Run a new plugin build against a recording and print every directive that changed.
    Replay(replay::ReplayArgs),
    /// Run the fake of WeChat's API (demos and tests only) and print its base URL.
    FakeWechat(fake::FakeArgs),
    /// Create, check and run plugins locally.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Run the reference Q&A service for the qa-bridge plugin (demos and tests only).
    DemoQa(demo_qa::DemoQaArgs),
    /// Push an account's configured custom menu to WeChat.
    Menu(menu::MenuArgs),
    /// Convert rules from WeChat's admin panel into plugin config.
    Import(import::ImportArgs),
    /// Compile the component on stdin for the host that started this
    /// process (internal).
    #[command(hide = true)]
    CompilePlugin(compile_plugin::CompilePluginArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    crate::runtime::enable_child_compilation();
    let cli = Cli::parse();
    if let Command::CompilePlugin(args) = &cli.command {
        return compile_plugin_main(args);
    }
    if !matches!(cli.command, Command::Serve { .. }) {
        exit_quietly_on_closed_stdout();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: failed to start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command));
    crate::logging::flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `compile-plugin` without an async runtime, whose worker threads
/// it does not need.
fn compile_plugin_main(args: &compile_plugin::CompilePluginArgs) -> ExitCode {
    match compile_plugin::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Restores the default action of SIGPIPE, so a command whose output is
/// piped into `head` ends quietly when the reader closes the pipe instead
/// of panicking in `println!`. `serve` keeps Rust's default (ignored), so
/// a client that hangs up only fails that one write.
fn exit_quietly_on_closed_stdout() {
    // SAFETY: called before any other thread exists; it only changes how
    // the process reacts to SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { config } => {
            let loaded = Config::load(&config)?;
            crate::logging::init(loaded.server.log_format == "json");
            thp::disable_transparent_huge_pages();
            crate::app::serve_reloadable(loaded, Some(config)).await
        }
        Command::Check { config } => {
            let loaded = Config::load(&config)?;
            crate::logging::init(false);
            crate::app::Host::build(&loaded)?;
            println!(
                "{}: valid ({}, {})",
                config.display(),
                crate::config::counted(loaded.accounts.len(), "account"),
                crate::config::counted(loaded.plugins.len(), "plugin")
            );
            Ok(())
        }
        Command::Simulate(args) => simulate::run(args).await,
        Command::Quota(args) => ops::quota(&args),
        Command::Outbox(args) => ops::outbox(&args),
        Command::Stats(args) => stats::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::FakeWechat(args) => {
            crate::logging::init(false);
            fake::run(args).await
        }
        Command::Plugin(command) => {
            crate::logging::init(false);
            // `plugin run` calls the plugin synchronously, and a fetch import
            // blocks on the fetch runtime, which must not happen inside this
            // runtime's worker thread.
            if tokio::task::block_in_place(|| plugin::execute(command))? {
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "the plugin check or run failed; see the report above"
                ))
            }
        }
        Command::DemoQa(args) => demo_qa::run(args).await,
        Command::Menu(args) => {
            crate::logging::init(false);
            menu::run(args).await
        }
        Command::Import(args) => import::run(&args),
        Command::CompilePlugin(args) => compile_plugin::run(&args),
    }
}
