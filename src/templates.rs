//! The templates of what leaves duban as a document or an email: the files
//! under `src/templates/` (`mail/…` for notices, `documents/…` for the
//! bulletin and the assessment), embedded in the binary by `build.rs`, one
//! minijinja engine. An installation overrides any of them with a file of
//! the same relative name under `<data dir>/templates/`. Every template,
//! default or override, is compiled and rendered once with sample data in
//! both languages at start-up (`install`), so a broken override stops
//! `serve` naming its file and line, never a notice at send time.
//!
//! `.html` templates autoescape; `.txt` do not (subjects and plain-text
//! parts). `t(key, …)` is the console pages' catalogue lookup (`i18n`),
//! in the context's `lang`. The settings a document prints (the bulletin's
//! 抄送 and 印发) are the global `settings`.
//!
//! The console pages keep their own engine in `web::templates` (they are
//! part of the console's code, not of an office's paperwork); they share
//! `translate`.

use std::path::Path;
use std::sync::{Arc, LazyLock, RwLock};

use anyhow::Context;
use minijinja::{Environment, State, Value};
use serde::Serialize;

use crate::config::Settings;
use crate::domain::message::Lang;
use crate::i18n;

/// Every default template, by its name under `src/templates/`: the list
/// `build.rs` writes, so a new file is embedded without a line of code.
pub const DEFAULTS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/templates.rs"));

/// The folder under the data directory that overrides the defaults.
pub const OVERRIDES: &str = "templates";

/// What the templates read from the settings (global `settings`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Printed {
    /// 抄送: who receives copies of a bulletin; empty: no 抄送 line.
    pub bulletin_cc: String,
    /// 印发: who prints and issues it; empty: the office named in the bulletin.
    pub bulletin_issuer: String,
}

impl Printed {
    pub fn of(settings: &Settings) -> Printed {
        Printed {
            bulletin_cc: settings.bulletin_cc.trim().to_string(),
            bulletin_issuer: settings.bulletin_issuer.trim().to_string(),
        }
    }
}

/// The engine in use: the defaults until `install` puts the installation's
/// overrides in (one installation per process).
static ACTIVE: LazyLock<RwLock<Option<Arc<Environment<'static>>>>> =
    LazyLock::new(|| RwLock::new(None));

static DEFAULT_ENV: LazyLock<Result<Arc<Environment<'static>>, String>> = LazyLock::new(|| {
    build(&[], Printed::default())
        .map(Arc::new)
        .map_err(|e| format!("{e:#}"))
});

/// A template source and where it came from (for error messages).
struct Source {
    name: String,
    text: String,
    origin: String,
}

fn build(overrides: &[Source], printed: Printed) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    // Text templates read as the text they produce: a `{% if %}` line
    // leaves no blank line behind.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_formatter(escape);
    env.add_function("t", translate);
    env.add_global("settings", Value::from_serialize(&printed));
    for (name, text) in DEFAULTS {
        if overrides.iter().any(|o| o.name == *name) {
            continue;
        }
        env.add_template(name, text)
            .map_err(|e| described(e, &format!("src/templates/{name}")))?;
    }
    for o in overrides {
        env.add_template_owned(o.name.clone(), o.text.clone())
            .map_err(|e| described(e, &o.origin))?;
    }
    Ok(env)
}

/// HTML escaping of `& < > " '`. minijinja's own also escapes `/`, which
/// turns every link in an email into `http:&#x2f;&#x2f;…`: correct, but
/// unreadable in the source a mail client shows and in the tests.
fn escape(
    out: &mut minijinja::Output,
    state: &State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    match value.as_str() {
        Some(text) if state.auto_escape() == minijinja::AutoEscape::Html && !value.is_safe() => out
            .write_str(&html_escape::encode_quoted_attribute(text))
            .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())),
        _ => minijinja::escape_formatter(out, state, value),
    }
}

/// A template error as a person fixes it: the file, the line, what is wrong.
fn described(e: minijinja::Error, origin: &str) -> anyhow::Error {
    match e.line() {
        Some(line) => anyhow::anyhow!("template {origin}, line {line}: {e}"),
        None => anyhow::anyhow!("template {origin}: {e}"),
    }
}

/// The overrides under `<data dir>/templates/`: every file whose relative
/// name is a default template's. Any other file there is refused, so that a
/// misspelt name does not silently leave the default in use.
fn overrides(data_dir: &Path) -> anyhow::Result<Vec<Source>> {
    let root = data_dir.join(OVERRIDES);
    let mut found = Vec::new();
    if !root.is_dir() {
        return Ok(found);
    }
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            anyhow::ensure!(
                DEFAULTS.iter().any(|(n, _)| *n == name),
                "template override {}: duban has no template {name} (see `duban templates export`)",
                path.display()
            );
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading template override {}", path.display()))?;
            found.push(Source {
                name,
                text,
                origin: path.display().to_string(),
            });
        }
    }
    Ok(found)
}

/// A template's name and a context to render it with.
pub type Sample = (&'static str, Value);

/// Compiles the defaults with the installation's overrides and the printed
/// settings, renders every template with the `samples` (every template in
/// both languages: `template_samples::all`), and makes the result the
/// engine in use. `serve` and the one-shot commands call it (through
/// `template_samples::install`) before anything is rendered.
pub fn install(settings: &Settings, samples: &[Sample]) -> anyhow::Result<()> {
    let overrides = overrides(&settings.data_dir)?;
    let env = build(&overrides, Printed::of(settings))?;
    check(&env, &overrides, samples)?;
    let mut active = ACTIVE.write().unwrap_or_else(|e| e.into_inner());
    *active = Some(Arc::new(env));
    Ok(())
}

/// Renders every template that has sample data, in both languages; an
/// error names the template's file and line.
fn check(
    env: &Environment<'static>,
    overrides: &[Source],
    samples: &[Sample],
) -> anyhow::Result<()> {
    for (name, ctx) in samples {
        let origin = overrides
            .iter()
            .find(|o| o.name == *name)
            .map_or_else(|| format!("src/templates/{name}"), |o| o.origin.clone());
        env.get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| described(e, &origin))?;
    }
    Ok(())
}

fn engine() -> anyhow::Result<Arc<Environment<'static>>> {
    if let Some(env) = ACTIVE.read().unwrap_or_else(|e| e.into_inner()).as_ref() {
        return Ok(env.clone());
    }
    DEFAULT_ENV
        .as_ref()
        .map(Arc::clone)
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Renders `name` (e.g. `mail/task.txt`) with `ctx`, which carries `lang`.
pub fn render<S: Serialize>(name: &str, ctx: S) -> anyhow::Result<String> {
    let env = engine()?;
    let template = env.get_template(name)?;
    Ok(template.render(ctx)?)
}

/// An email's subject, plain text and HTML from `<base>.subject.txt`,
/// `<base>.txt` and `<base>.html`.
pub fn email<S: Serialize>(base: &str, ctx: S) -> anyhow::Result<(String, String, String)> {
    let ctx = Value::from_serialize(&ctx);
    let subject = render(&format!("{base}.subject.txt"), &ctx)?;
    // A subject is one line, whatever the template's line breaks.
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = render(&format!("{base}.txt"), &ctx)?;
    let html = render(&format!("{base}.html"), &ctx)?;
    Ok((subject, text + "\n", html))
}

/// Writes every default template under `dir`, as an installation copies
/// them into `<data dir>/templates/` to edit; returns how many.
pub fn export(dir: &Path) -> anyhow::Result<usize> {
    for (name, text) in DEFAULTS {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(DEFAULTS.len())
}

/// `t("key")` or `t("key", n=3)`: the text for `key` in the context's
/// `lang`, with `{n}` placeholders filled from the keyword arguments.
pub fn translate(
    state: &State,
    key: &str,
    args: minijinja::value::Kwargs,
) -> Result<String, minijinja::Error> {
    let lang = match state.lookup("lang").as_ref().and_then(Value::as_str) {
        Some("en") => Lang::En,
        _ => Lang::Zh,
    };
    let mut text = i18n::text(lang, key).to_string();
    for name in args.args() {
        let value: Value = args.get(name)?;
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    Ok(text)
}

/// The tag a context's `lang` carries.
pub fn lang_tag(lang: Lang) -> &'static str {
    i18n::tag(lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_override_names_its_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates/mail")).unwrap();
        std::fs::write(
            dir.path().join("templates/mail/task.txt"),
            "line one\nline two {% if %}\n",
        )
        .unwrap();
        let found = overrides(dir.path()).unwrap();
        let err = build(&found, Printed::default()).unwrap_err().to_string();
        assert!(err.contains("templates/mail/task.txt, line 2"), "{err}");

        std::fs::write(dir.path().join("templates/mail/tsak.txt"), "x").unwrap();
        let err = overrides(dir.path()).err().unwrap().to_string();
        assert!(err.contains("no template mail/tsak.txt"), "{err}");
    }

    #[test]
    fn an_override_replaces_the_default() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates/mail")).unwrap();
        std::fs::write(
            dir.path().join("templates/mail/digest.subject.txt"),
            "本办日报 {{ unit }}",
        )
        .unwrap();
        let found = overrides(dir.path()).unwrap();
        let env = build(&found, Printed::default()).unwrap();
        let out = env
            .get_template("mail/digest.subject.txt")
            .unwrap()
            .render(minijinja::context! { unit => "城关镇", lang => "zh-CN" })
            .unwrap();
        assert_eq!(out, "本办日报 城关镇");
    }

    #[test]
    fn export_writes_every_default() {
        let dir = tempfile::tempdir().unwrap();
        let n = export(dir.path()).unwrap();
        assert_eq!(n, DEFAULTS.len());
        for (name, text) in DEFAULTS {
            assert_eq!(
                std::fs::read_to_string(dir.path().join(name)).unwrap(),
                *text
            );
        }
    }

    #[test]
    fn every_key_a_template_uses_is_in_the_catalogue() {
        i18n::assert_template_keys_exist(DEFAULTS);
    }
}
