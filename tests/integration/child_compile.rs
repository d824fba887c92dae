//! Plugins compiled in a `compile-plugin` child process: through the real
//! command line at start and at a reload, and with fake compilers that
//! run too long or fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wxhost::lifecycle::content_hash;
use wxhost::runtime::{ArtifactCache, Error, PluginRuntime, PluginSettings, RuntimeConfig};
use wxhost_tests::load::reload::with_custom_section;
use wxhost_tests::plugins;

use crate::support::wechat::text_xml;
use crate::support::{
    AES_KEY, APPID, CallbackClient, Mode, ORIGINAL_ID, TOKEN, USER_1, normalize_create_time,
};

const STEP_TIMEOUT: Duration = Duration::from_secs(60);

/// The log line of a compilation inside the host process.
const IN_PROCESS_WARNING: &str = "plugins compile inside the host process";

fn config_text(port: u16) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:{port}"

[store]
path = "wxhost.db"

[reload]
poll_interval_ms = 50
compile_timeout_secs = 120

[[accounts]]
name = "demo"
appid = "{APPID}"
original_id = "{ORIGINAL_ID}"
token = "fake:{TOKEN}"
encoding_aes_key = "fake:{AES_KEY}"

[[plugins]]
name = "keyword"
path = "keyword.wasm"
messages = ["text"]

[[plugins.config.groups]]
name = "greeting"
priority = 10
phrases = [{{ match = "exact", text = "ping" }}]
reply = {{ text = "pong" }}
"#
    )
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    listener.local_addr().expect("local address").port()
}

/// The `wxhost serve` process of `wxhost-cli`, killed on drop.
struct ServeProcess {
    child: Child,
    log: PathBuf,
}

impl ServeProcess {
    /// Starts `serve` in the config's directory with a relative config
    /// path, as `scripts/demo.sh` does, so every path in the config is
    /// relative to the working directory too.
    fn start(config: &Path, log: &Path) -> ServeProcess {
        let log_file = std::fs::File::create(log).expect("create the host log");
        let child = Command::new(env!("CARGO_BIN_EXE_wxhost-cli"))
            .args(["serve", "--config"])
            .arg(config.file_name().expect("config file name"))
            .current_dir(config.parent().expect("config directory"))
            .env("RUST_LOG", "wxhost=info")
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("start wxhost-cli serve");
        ServeProcess {
            child,
            log: log.to_owned(),
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).expect("read the host log")
    }

    /// Panics with the log when the process has exited.
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("poll the host") {
            panic!("wxhost serve exited with {status}:\n{}", self.log_text());
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns the sorted file names in `dir`.
fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list the artifact directory")
        .map(|entry| {
            entry
                .expect("read a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Returns the cache files of the component whose SHA-256 is `hash`.
fn artifacts_of(dir: &Path, hash: &str) -> Vec<String> {
    file_names(dir)
        .into_iter()
        .filter(|name| name.starts_with(&format!("{hash}-wasmtime")) && name.ends_with(".cwasm"))
        .collect()
}

async fn wait_for_port(host: &mut ServeProcess, port: u16) {
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        host.assert_running();
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "nothing listens on port {port}:\n{}",
            host.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_reply(host: &mut ServeProcess, client: &CallbackClient, msg_id: u64) -> String {
    let started = Instant::now();
    loop {
        host.assert_running();
        let answer = client
            .post(Mode::Plain, &text_xml(USER_1, "ping", msg_id))
            .await;
        if answer.status == 200 {
            return normalize_create_time(&answer.text());
        }
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "no reply within {STEP_TIMEOUT:?}:\n{}",
            host.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_artifact(host: &mut ServeProcess, dir: &Path, hash: &str) {
    let started = Instant::now();
    while artifacts_of(dir, hash).is_empty() {
        host.assert_running();
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "no artifact for {hash} in {}:\n{}",
            dir.display(),
            host.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn expected_reply() -> String {
    format!(
        "<xml><ToUserName><![CDATA[{USER_1}]]></ToUserName><FromUserName><![CDATA[{ORIGINAL_ID}]]></FromUserName><CreateTime>NOW</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[pong]]></Content></xml>"
    )
}

#[tokio::test]
async fn serve_compiles_in_child() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let port = free_port();
    let config = dir.path().join("wxhost.toml");
    std::fs::write(&config, config_text(port)).expect("write the config");
    let plugin_file = dir.path().join("keyword.wasm");
    let original = std::fs::read(plugins::KEYWORD).expect("read the keyword plugin");
    std::fs::write(&plugin_file, &original).expect("write the plugin file");
    let artifact_dir = dir.path().join("wxhost-artifacts");

    let mut host = ServeProcess::start(&config, &dir.path().join("wxhost.log"));
    wait_for_port(&mut host, port).await;
    let client = CallbackClient::new(&format!("http://127.0.0.1:{port}/wechat/demo"));
    let reply = wait_for_reply(&mut host, &client, 26_000_000_000_000_001).await;
    assert_eq!(reply, expected_reply());
    let first_hash = content_hash(&original);
    assert_eq!(artifacts_of(&artifact_dir, &first_hash).len(), 1);
    assert_eq!(file_names(&artifact_dir).len(), 1);

    // The watcher detects the changed file, and another child compiles it.
    let replacement = with_custom_section(&original, 1);
    let staged = dir.path().join("keyword.wasm.new");
    std::fs::write(&staged, &replacement).expect("write the replacement");
    std::fs::rename(&staged, &plugin_file).expect("replace the plugin file");
    let second_hash = content_hash(&replacement);
    wait_for_artifact(&mut host, &artifact_dir, &second_hash).await;
    assert_eq!(artifacts_of(&artifact_dir, &second_hash).len(), 1);
    let reply = wait_for_reply(&mut host, &client, 26_000_000_000_000_002).await;
    assert_eq!(reply, expected_reply());

    let started = Instant::now();
    while !host.log_text().contains(&second_hash) {
        assert!(
            started.elapsed() < STEP_TIMEOUT,
            "the reload was not logged:\n{}",
            host.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(file_names(&artifact_dir).len(), 2);
    let log = host.log_text();
    assert!(!log.contains(IN_PROCESS_WARNING), "{log}");
    assert!(!log.contains("failed to compile"), "{log}");
}

/// Writes an executable shell script named `name` into `dir`.
fn write_script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;

    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write the script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("make the script executable");
    path
}

fn small_runtime() -> PluginRuntime {
    PluginRuntime::new(RuntimeConfig {
        max_instances: 2,
        ..RuntimeConfig::default()
    })
    .expect("runtime starts")
}

/// Returns whether process `pid` has ended: it is gone or a zombie.
fn has_ended(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn compile_timeout_kills_group() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let helper_pid = scripts.path().join("helper.pid");
    let compiler = write_script(
        scripts.path(),
        "slow-compiler",
        &format!(
            "sleep 60 &\necho $! > {}\nexec sleep 60",
            helper_pid.display()
        ),
    );
    let cache_dir = tempfile::tempdir().expect("temporary directory");
    let cache = ArtifactCache::open(cache_dir.path())
        .expect("cache opens")
        .with_compiler(compiler)
        .with_compile_timeout(Duration::from_millis(500));
    let wasm = plugins::read(plugins::KEYWORD);

    let started = Instant::now();
    let result =
        small_runtime().load_cached("keyword", &wasm, PluginSettings::default(), Some(&cache));
    let elapsed = started.elapsed();

    let Err(error) = result else {
        panic!("the load succeeded");
    };
    assert!(matches!(error, Error::CompileTimeout { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "failed to compile plugin keyword: the compiler process timed out after 500 ms and was killed; raise reload.compile_timeout_secs if the component is large or the machine is busy"
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_eq!(file_names(cache_dir.path()), Vec::<String>::new());
    let pid = std::fs::read_to_string(&helper_pid).expect("read the helper's pid");
    let pid = pid.trim();
    let killed = Instant::now();
    while !has_ended(pid) {
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "process {pid} of the compiler's group still runs"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn compiler_failure_names_plugin() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let compiler = write_script(
        scripts.path(),
        "failing-compiler",
        "cat > /dev/null\necho 'error: the component does not compile' >&2\nexit 3",
    );
    let cache_dir = tempfile::tempdir().expect("temporary directory");
    let cache = ArtifactCache::open(cache_dir.path())
        .expect("cache opens")
        .with_compiler(compiler);
    let wasm = plugins::read(plugins::KEYWORD);

    let result =
        small_runtime().load_cached("keyword", &wasm, PluginSettings::default(), Some(&cache));

    let Err(error) = result else {
        panic!("the load succeeded");
    };
    assert!(matches!(error, Error::Compile { .. }), "{error:?}");
    assert_eq!(error.to_string(), "failed to compile plugin keyword");
    let source = std::error::Error::source(&error).expect("the error has a source");
    assert_eq!(
        source.to_string(),
        "compile-plugin failed (exit status: 3): error: the component does not compile"
    );
    assert_eq!(file_names(cache_dir.path()), Vec::<String>::new());
}

#[test]
fn child_compile_of_cli_loads() {
    let cache_dir = tempfile::tempdir().expect("temporary directory");
    let cache = ArtifactCache::open(cache_dir.path())
        .expect("cache opens")
        .with_compiler(PathBuf::from(env!("CARGO_BIN_EXE_wxhost-cli")));
    let wasm = plugins::read(plugins::KEYWORD);
    let runtime = small_runtime();

    let (plugin, _) = runtime
        .load_cached("keyword", &wasm, PluginSettings::default(), Some(&cache))
        .expect("the keyword plugin loads");

    assert_eq!(plugin.content_hash(), content_hash(&wasm));
    let names = file_names(cache_dir.path());
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with(&content_hash(&wasm)), "{names:?}");
    assert!(names[0].ends_with(".cwasm"), "{names:?}");
    plugin
        .check_instantiates()
        .expect("the plugin instantiates");
}
