//! `wxhost-load`: drives a running wxhost and a running `baseline-server`,
//! both on 127.0.0.1, and prints throughput, latency and the host's memory
//! as Markdown. `scripts/load.sh` starts the servers and runs it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use clap::{Parser, ValueEnum};
use wxhost_tests::load::BASELINE_REPLY;
use wxhost_tests::load::check::Expected;
use wxhost_tests::load::reload::Reloader;
use wxhost_tests::load::report::{
    RssSummary, reload_passed, render_reload, render_soak, render_suite,
};
use wxhost_tests::load::requests::{AccountKeys, RequestFactory, Scenario};
use wxhost_tests::load::rss::RssSampler;
use wxhost_tests::load::soak::soak;
use wxhost_tests::load::suite::{
    ReloadResult, SuiteSettings, Target, TargetResult, measure, measure_under_reload,
};

/// Load suite for wxhost: W1 plaintext text, W2 safe-mode text and W3
/// subscribe events, each compared with the baseline server.
#[derive(Debug, Parser)]
struct Args {
    /// Address of the wxhost under test (loopback only).
    #[arg(long)]
    host: SocketAddr,
    /// Address of `baseline-server` (loopback only).
    #[arg(long)]
    baseline: SocketAddr,
    /// Process id of the wxhost under test, for its `VmRSS`.
    #[arg(long)]
    host_pid: Option<u32>,
    /// Open connections, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Warm-up before each full-speed run, in seconds.
    #[arg(long, default_value_t = 3)]
    warmup_secs: u64,
    /// Length of each full-speed and each half-rate run, in seconds.
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    /// Highest throughput to prepare requests for, in requests per second.
    /// Each prepared request takes about 0.5 to 1 KiB of memory.
    #[arg(long, default_value_t = 150_000.0)]
    rate_cap: f64,
    /// Requests per target whose replies are checked exactly before timing.
    #[arg(long, default_value_t = 20)]
    sample: usize,
    /// Threads of the generator's async runtime.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Account that receives W1 and W3 (security `any`).
    #[arg(long, default_value = "plain")]
    plain_account: String,
    /// Account that receives W2 (security `safe`).
    #[arg(long, default_value = "safe")]
    safe_account: String,
    /// The accounts' Token.
    #[arg(long, default_value = "faketoken")]
    token: String,
    /// The accounts' EncodingAESKey.
    #[arg(long, default_value = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")]
    encoding_aes_key: String,
    /// The accounts' AppID.
    #[arg(long, default_value = "wx1234567890abcdef")]
    appid: String,
    /// The accounts' original id, the callbacks' `ToUserName`.
    #[arg(long, default_value = "gh_fakeacct001")]
    original_id: String,
    /// Content of the W1 and W2 text messages.
    #[arg(long, default_value = "hello")]
    text: String,
    /// The keyword reply that W1 and W2 expect.
    #[arg(long, default_value = "Hello from the wxhost load account.")]
    text_reply: String,
    /// Name of the plugin that replies to W3, for the results table.
    #[arg(long, default_value = "welcome")]
    w3_plugin: String,
    /// QR scene of the W3 subscribe events.
    #[arg(long, default_value = "load_campaign")]
    scene: String,
    /// The text reply that W3 expects, with `{scene}` replaced by the QR scene.
    #[arg(long, default_value = "Welcome, load campaign follower.")]
    w3_reply: String,
    /// Plugin reloads during the reload check, a full-speed W1 run after
    /// W1's phases (0 skips the check). Needs `--reload-file`.
    #[arg(long, default_value_t = 0)]
    reloads: u32,
    /// The W1 plugin's component file, as the host's config names it. The
    /// reload check replaces it with copies that differ in one custom
    /// section, and restores it at the end.
    #[arg(long)]
    reload_file: Option<PathBuf>,
    /// Plugins loaded from `--reload-file`, each of which must serve the
    /// replacement after a reload.
    #[arg(long, value_delimiter = ',', default_value = "keyword,fallback")]
    reload_plugins: Vec<String>,
    /// Bearer key of the host's admin endpoints, for
    /// `POST /admin/plugins/reload`.
    #[arg(long, default_value = "load-admin-key-0123456789")]
    admin_key: String,
    /// Minutes of the soak run after the suite (0 skips it).
    #[arg(long, default_value_t = 0)]
    soak_minutes: u32,
    /// Rate of the soak run in requests per second; defaults to half of the
    /// lowest full-speed throughput of W1 to W3.
    #[arg(long)]
    soak_rate: Option<f64>,
    /// Targets to measure, in order: any of baseline, w1, w2, w3. The
    /// ratios need the baseline.
    #[arg(long, value_delimiter = ',', default_value = "baseline,w1,w2,w3")]
    targets: Vec<TargetKey>,
    /// File to write the Markdown results to, besides standard output.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

/// The targets that `--targets` selects from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TargetKey {
    Baseline,
    W1,
    W2,
    W3,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for (flag, address) in [("--host", args.host), ("--baseline", args.baseline)] {
        ensure!(
            address.ip().is_loopback(),
            "{flag} {address} is not a loopback address; the load suite drives only servers on 127.0.0.1"
        );
    }
    ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    ensure!(
        args.client_threads > 0,
        "--client-threads must be at least 1"
    );
    ensure!(
        args.reloads == 0 || args.reload_file.is_some(),
        "--reloads needs --reload-file, the component file that the host loads the W1 plugin from"
    );

    let runtime = if args.client_threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.client_threads)
            .enable_all()
            .build()?
    };
    let (output, passed) = runtime.block_on(run(&args))?;
    print!("{output}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &output)
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    ensure!(
        passed,
        "requests failed or a reload did not apply during the reload check (see above)"
    );
    Ok(())
}

/// Runs the suite and returns its Markdown output and whether the reload
/// check passed (true when it did not run).
async fn run(args: &Args) -> anyhow::Result<(String, bool)> {
    let settings = SuiteSettings {
        concurrency: args.concurrency,
        warmup: Duration::from_secs(args.warmup_secs),
        duration: Duration::from_secs(args.duration_secs),
        rate_cap: args.rate_cap,
        sample: args.sample,
        build_threads: std::thread::available_parallelism().map_or(1, |count| count.get()),
    };
    let targets = targets(args)?;
    let sampler = args.host_pid.map(RssSampler::start);

    let mut results: Vec<TargetResult> = Vec::with_capacity(args.targets.len());
    let mut reload: Option<ReloadResult> = None;
    let mut rss_start = None;
    for key in &args.targets {
        let (_, target) = targets
            .iter()
            .find(|(candidate, _)| candidate == key)
            .expect("targets() lists every key");
        if *key != TargetKey::Baseline
            && rss_start.is_none()
            && let Some(sampler) = &sampler
        {
            rss_start = Some(sampler.current_kib());
            sampler.reset_peak();
        }
        eprintln!("measuring {}", target.name);
        let result = measure(target, &settings).await?;
        if *key == TargetKey::W1
            && args.reloads > 0
            && let Some(file) = &args.reload_file
        {
            eprintln!("measuring {} while reloading its plugin", target.name);
            let reloader = Reloader {
                host: args.host,
                admin_key: args.admin_key.clone(),
                file: file.clone(),
                plugins: args.reload_plugins.clone(),
            };
            let throughput = result.full.throughput();
            reload = Some(
                measure_under_reload(target, &settings, throughput, &reloader, args.reloads)
                    .await?,
            );
        }
        results.push(result);
    }
    let rss = sampler.as_ref().map(|sampler| RssSummary {
        start_kib: rss_start.unwrap_or_else(|| sampler.current_kib()),
        peak_kib: sampler.peak_kib(),
        end_kib: sampler.current_kib(),
    });
    let mut output = render_suite(&results, rss);
    if let Some(reload) = &reload {
        output.push('\n');
        output.push_str(&render_reload(reload));
    }
    let passed = reload.as_ref().is_none_or(reload_passed);

    if args.soak_minutes > 0 {
        let Some(sampler) = &sampler else {
            bail!("--soak-minutes needs --host-pid, because the soak reports the host's VmRSS");
        };
        let lowest = results
            .iter()
            .filter(|result| !result.is_baseline)
            .map(|result| result.full.throughput())
            .fold(f64::INFINITY, f64::min);
        let rate = match args.soak_rate {
            Some(rate) => rate,
            None if lowest.is_finite() => lowest / 2.0,
            None => bail!("--soak-minutes needs --soak-rate when --targets lists no workload"),
        };
        let factories = targets
            .iter()
            .filter(|(key, _)| *key != TargetKey::Baseline)
            .map(|(_, target)| {
                RequestFactory::new(
                    target.scenario,
                    target.keys.clone(),
                    &args.text,
                    &args.scene,
                )
            })
            .collect();
        let start_kib = sampler.current_kib();
        let minutes = soak(
            args.host,
            factories,
            rate,
            args.soak_minutes,
            args.concurrency,
            sampler,
        )
        .await;
        output.push('\n');
        output.push_str(&render_soak(&minutes, rate, start_kib));
    }
    Ok((output, passed))
}

/// Lists every target: the baseline, then W1 to W3 on the host.
fn targets(args: &Args) -> anyhow::Result<Vec<(TargetKey, Target)>> {
    let keys = |account: &str| {
        AccountKeys::new(
            &format!("/wechat/{account}"),
            &args.token,
            &args.encoding_aes_key,
            &args.appid,
            &args.original_id,
        )
    };
    let plain = keys(&args.plain_account)?;
    let safe = keys(&args.safe_account)?;
    let target = |name: String, address, scenario, keys: &AccountKeys, expected| Target {
        name,
        address,
        scenario,
        keys: keys.clone(),
        expected,
        text: args.text.clone(),
        scene: args.scene.clone(),
    };
    let text_reply = Expected::Text(args.text_reply.clone());
    Ok(vec![
        (
            TargetKey::Baseline,
            target(
                "baseline (axum, constant reply)".to_owned(),
                args.baseline,
                Scenario::PlainText,
                &plain,
                Expected::Constant(BASELINE_REPLY.to_owned()),
            ),
        ),
        (
            TargetKey::W1,
            target(
                "W1 plaintext text → keyword".to_owned(),
                args.host,
                Scenario::PlainText,
                &plain,
                text_reply.clone(),
            ),
        ),
        (
            TargetKey::W2,
            target(
                "W2 safe-mode text → keyword".to_owned(),
                args.host,
                Scenario::SafeText,
                &safe,
                text_reply,
            ),
        ),
        (
            TargetKey::W3,
            target(
                format!("W3 QR subscribe → {}", args.w3_plugin),
                args.host,
                Scenario::Subscribe,
                &plain,
                Expected::Text(args.w3_reply.clone()),
            ),
        ),
    ])
}
