//! `wxhost plugin new`: writes a plugin crate that uses the SDK.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};

use super::NewArgs;

const CARGO_TOML: &str = include_str!("template/Cargo.toml.in");
const LIB_RS: &str = include_str!("template/lib.rs.in");
const README: &str = include_str!("template/README.md.in");
const PLUGIN_TOML: &str = include_str!("template/plugin.toml");
const TEXT_EVENT: &str = include_str!("template/text.xml");
const SUBSCRIBE_EVENT: &str = include_str!("template/subscribe.xml");

/// The SDK's manifest, relative to the root of a wxhost checkout.
const SDK_MANIFEST: &str = "plugins/sdk/Cargo.toml";

/// A plugin crate that `create` wrote.
#[derive(Debug, Clone)]
pub struct CreatedPlugin {
    /// The plugin's name, also its package name.
    pub name: String,
    /// The crate's directory.
    pub dir: PathBuf,
    /// The SDK path written into `Cargo.toml`.
    pub sdk_path: String,
    /// The component path that `cargo build --release` produces, relative to `dir`.
    pub component: String,
}

/// Writes the crate `args.dir/args.name`: `Cargo.toml` with a path
/// dependency on the SDK, `src/lib.rs`, `README.md`, `plugin.toml` and two
/// sample events under `events/`. When the SDK lies in a wxhost checkout,
/// the checkout's `Cargo.lock` is copied too, so the plugin builds with the
/// dependency versions the repository tests.
///
/// Fails when the name is invalid, the directory exists, or no SDK is
/// found: neither `--sdk` nor a wxhost checkout above DIR or above the
/// running `wxhost` binary.
pub fn create(args: &NewArgs) -> anyhow::Result<CreatedPlugin> {
    validate_name(&args.name)?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("failed to create {}", args.dir.display()))?;
    let parent = args
        .dir
        .canonicalize()
        .with_context(|| format!("failed to resolve {}", args.dir.display()))?;
    let dir = parent.join(&args.name);
    if dir.exists() {
        bail!(
            "{} already exists; choose another NAME or --dir",
            dir.display()
        );
    }

    let sdk = find_sdk(args.sdk.as_deref(), &parent)?;
    let sdk_path = relative_path(&dir, &sdk);
    let file_stem = args.name.replace('-', "_");
    let fill = |template: &str| {
        template
            .replace("{{name}}", &args.name)
            .replace("{{type_name}}", &type_name(&args.name))
            .replace("{{file_stem}}", &file_stem)
            .replace("{{sdk_path}}", &sdk_path)
    };

    let files = [
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(LIB_RS)),
        ("README.md", fill(README)),
        ("plugin.toml", PLUGIN_TOML.to_owned()),
        ("events/text.xml", TEXT_EVENT.to_owned()),
        ("events/subscribe.xml", SUBSCRIBE_EVENT.to_owned()),
    ];
    for (relative, contents) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create {}", parent.display()))?;
        }
        std::fs::write(&path, contents)
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    copy_lockfile(&sdk, &dir)?;

    Ok(CreatedPlugin {
        name: args.name.clone(),
        component: format!("target/wasm32-wasip2/release/{file_stem}.wasm"),
        dir,
        sdk_path,
    })
}

/// Accepts lowercase ASCII letters, digits and `-`, starting with a letter,
/// up to 64 characters: a valid package name that needs no quoting.
fn validate_name(name: &str) -> anyhow::Result<()> {
    let mut chars = name.chars();
    let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_valid = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !starts_with_letter || !rest_valid || name.len() > 64 || name.ends_with('-') {
        bail!(
            "invalid plugin name {name:?}: use lowercase letters, digits and '-', starting with a letter, for example \"welcome-reply\""
        );
    }
    Ok(())
}

/// Returns `welcome-reply` as `WelcomeReplyPlugin`, the name of the plugin
/// type. The suffix keeps it apart from the SDK names the template imports.
fn type_name(name: &str) -> String {
    name.split('-')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .chain(std::iter::once("Plugin".to_owned()))
        .collect()
}

/// Returns the SDK directory: `explicit` when given, else `plugins/sdk` of
/// the first wxhost checkout above `dir`, else above the running binary.
fn find_sdk(explicit: Option<&Path>, dir: &Path) -> anyhow::Result<PathBuf> {
    if let Some(path) = explicit {
        let manifest = path.join("Cargo.toml");
        if !is_sdk_manifest(&manifest) {
            bail!(
                "--sdk {}: no wxhost-plugin crate there; pass the plugins/sdk directory of a wxhost checkout",
                path.display()
            );
        }
        return path
            .canonicalize()
            .with_context(|| format!("failed to resolve {}", path.display()));
    }
    let exe_dir = std::env::current_exe().ok();
    let starts = std::iter::once(dir.to_owned()).chain(exe_dir);
    for start in starts {
        for ancestor in start.ancestors() {
            if is_sdk_manifest(&ancestor.join(SDK_MANIFEST)) {
                return Ok(ancestor.join("plugins").join("sdk"));
            }
        }
    }
    bail!(
        "the wxhost-plugin SDK was not found above {} or above the wxhost binary; pass --sdk PATH with the plugins/sdk directory of a wxhost checkout",
        dir.display()
    )
}

fn is_sdk_manifest(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.lines()
            .any(|line| line.trim() == "name = \"wxhost-plugin\"")
    })
}

/// Copies `Cargo.lock` of the checkout that contains `sdk` (two levels up)
/// into `dir`, when there is one.
fn copy_lockfile(sdk: &Path, dir: &Path) -> anyhow::Result<()> {
    let Some(root) = sdk.parent().and_then(Path::parent) else {
        return Ok(());
    };
    let lockfile = root.join("Cargo.lock");
    if lockfile.is_file() {
        std::fs::copy(&lockfile, dir.join("Cargo.lock"))
            .with_context(|| format!("failed to copy {}", lockfile.display()))?;
    }
    Ok(())
}

/// Returns `to` relative to `from` when both are absolute paths, written
/// with `/`. Both must be free of `.` and `..`, as canonical paths are.
fn relative_path(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = std::iter::repeat_n("..".to_owned(), from.len() - common);
    let downs = to[common..]
        .iter()
        .map(|part| part.as_os_str().to_string_lossy().into_owned());
    let parts: Vec<String> = ups.chain(downs).collect();
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

impl fmt::Display for CreatedPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "created plugin {} in {}", self.name, self.dir.display())?;
        writeln!(f, "SDK dependency: path = \"{}\"", self.sdk_path)?;
        writeln!(f, "next:")?;
        writeln!(f, "  cd {}", self.dir.display())?;
        writeln!(f, "  cargo build --release --target wasm32-wasip2")?;
        writeln!(
            f,
            "  wxhost plugin run {} --event events/text.xml --config plugin.toml",
            self.component
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules() {
        assert!(validate_name("welcome-reply").is_ok());
        assert!(validate_name("a1").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("1abc").is_err());
        assert!(validate_name("Abc").is_err());
        assert!(validate_name("a_b").is_err());
        assert!(validate_name("abc-").is_err());
        assert!(validate_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn type_name_camel_case() {
        assert_eq!(type_name("welcome-reply"), "WelcomeReplyPlugin");
        assert_eq!(type_name("event"), "EventPlugin");
        assert_eq!(type_name("a1-b2"), "A1B2Plugin");
    }

    #[test]
    fn relative_path_cases() {
        let from = Path::new("/repo/target/tmp/demo");
        assert_eq!(
            relative_path(from, Path::new("/repo/plugins/sdk")),
            "../../../plugins/sdk"
        );
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/a/b/c")), "c");
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/a/b")), ".");
    }
}
