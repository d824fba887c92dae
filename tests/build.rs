//! Builds the plugin components for the integration tests and exports
//! their paths as `PLUGIN_<NAME>` environment variables at compile time.
//!
//! The nested `cargo build` uses its own target directory,
//! `<workspace>/target/plugin-build`, so it never waits for the lock of the
//! outer build's directory. It runs with the build-script variables of the
//! outer build removed, because those would retarget or reconfigure it.

use std::env;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Package names of the plugins to build, with the name of the environment
/// variable that carries each component's path.
const PLUGINS: &[(&str, &str)] = &[
    ("plugin-keyword", "PLUGIN_KEYWORD"),
    ("plugin-welcome", "PLUGIN_WELCOME"),
    ("plugin-referral", "PLUGIN_REFERRAL"),
    ("plugin-services-probe", "PLUGIN_SERVICES_PROBE"),
    ("plugin-menu", "PLUGIN_MENU"),
    ("plugin-qa-bridge", "PLUGIN_QA_BRIDGE"),
    ("plugin-fetch-probe", "PLUGIN_FETCH_PROBE"),
    ("plugin-actions", "PLUGIN_ACTIONS"),
    ("plugin-echo", "PLUGIN_ECHO"),
    ("plugin-hog", "PLUGIN_HOG"),
    ("plugin-kv-counter", "PLUGIN_KV_COUNTER"),
    ("plugin-spin", "PLUGIN_SPIN"),
    ("plugin-trap", "PLUGIN_TRAP"),
    ("plugin-wasi-probe", "PLUGIN_WASI_PROBE"),
];

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let workspace = manifest_dir
        .parent()
        .expect("tests/ sits inside the workspace")
        .to_path_buf();
    for watched in ["plugins", "wit", "Cargo.toml", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    // NB: worktrees of this repository that share one CARGO_TARGET_DIR
    // share this script's output directory too, because cargo derives it
    // from the package's path relative to the workspace. Without a rerun,
    // one worktree would pick up the component paths that another wrote.
    // The shell's PWD differs between worktrees, so watching it reruns the
    // script after a build from another worktree (and, harmlessly, after a
    // build from another subdirectory).
    println!("cargo:rerun-if-env-changed=PWD");

    let target_dir = workspace.join("target").join("plugin-build");
    build_plugins(&workspace, &target_dir);

    let python_echo = target_dir.join("python").join("python_echo.wasm");
    build_python_plugin(&workspace, &python_echo);
    println!(
        "cargo:rustc-env=PLUGIN_PYTHON_ECHO={}",
        python_echo.display()
    );

    for (package, variable) in PLUGINS {
        let file = format!("{}.wasm", package.replace('-', "_"));
        let path = target_dir.join(TARGET).join(PROFILE).join(file);
        assert!(
            path.is_file(),
            "missing plugin component {}",
            path.display()
        );
        println!("cargo:rustc-env={variable}={}", path.display());
    }
}

fn build_plugins(workspace: &Path, target_dir: &Path) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args(["build", "--profile", PROFILE, "--target", TARGET])
        .arg("--target-dir")
        .arg(target_dir);
    for (package, _) in PLUGINS {
        command.args(["-p", package]);
    }
    for (key, _) in env::vars_os() {
        if leaks_into_nested_build(&key) {
            command.env_remove(&key);
        }
    }

    let output = command
        .output()
        .expect("failed to run cargo for the plugin build");
    if !output.status.success() {
        panic!(
            "plugin build failed with {}:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Builds `plugins/python-echo` with its script, which installs the pinned
/// componentize-py from PyPI into `target/python-venv` when missing.
fn build_python_plugin(workspace: &Path, output: &Path) {
    let script = workspace
        .join("plugins")
        .join("python-echo")
        .join("build.sh");
    let result = Command::new("bash")
        .arg(&script)
        .arg(output)
        .current_dir(workspace)
        .output()
        .expect("failed to run bash for the Python plugin build");
    if !result.status.success() {
        panic!(
            "{} failed with {}; it needs python3 with venv and access to PyPI:\n{}",
            script.display(),
            result.status,
            String::from_utf8_lossy(&result.stderr)
        );
    }
}

/// Returns true for variables that the outer cargo sets for this build
/// script, or that change how rustc compiles, and so must not reach the
/// nested build. `CARGO_HOME` and the registry and network settings stay.
fn leaks_into_nested_build(key: &OsStr) -> bool {
    let Some(key) = key.to_str() else {
        return false;
    };
    const KEEP_PREFIXES: &[&str] = &["CARGO_HOME", "CARGO_NET_", "CARGO_HTTP_", "CARGO_REGISTR"];
    const REMOVE: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_LINKER",
        "RUSTDOC",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "OPT_LEVEL",
        "PROFILE",
        "DEBUG",
        "NUM_JOBS",
        "MAKEFLAGS",
        "MFLAGS",
    ];
    if key.starts_with("CARGO_") {
        return !KEEP_PREFIXES.iter().any(|prefix| key.starts_with(prefix));
    }
    REMOVE.contains(&key)
}
