//! Test plugin that reports what the standard library gets from WASI:
//! environment variables, arguments, stdin, the wall clock, a hash map
//! (which seeds from `wasi:random/insecure-seed`) and the file system.
//! It replies with one line such as `env=0 args=0 stdin=0 time=0 map=1 fs=err`.
//! With config `mode` set to `"sleep"` it sleeps for an hour instead.

wit_bindgen::generate!({ path: "../../../wit", world: "plugin" });

use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use wxhost::plugin::config;
use wxhost::plugin::types::Reply;

struct WasiProbePlugin;

impl Guest for WasiProbePlugin {
    fn handle(_event: Event) -> Vec<Directive> {
        if config::get("mode").as_deref() == Some("\"sleep\"") {
            std::thread::sleep(Duration::from_secs(3600));
        }
        let env = std::env::vars().count();
        let args = std::env::args().count();
        let mut stdin = Vec::new();
        let stdin_bytes = std::io::stdin().read_to_end(&mut stdin).unwrap_or(0);
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(u64::MAX, |elapsed| elapsed.as_secs());
        let mut map = HashMap::new();
        map.insert("key", 1);
        let fs = match std::fs::read("/etc/passwd") {
            Ok(_) => "read",
            Err(_) => "err",
        };
        println!("stdout is discarded");
        let text = format!(
            "env={env} args={args} stdin={stdin_bytes} time={time} map={} fs={fs}",
            map.len()
        );
        vec![Directive::Reply(Reply::Text(text))]
    }
}

export!(WasiProbePlugin);
