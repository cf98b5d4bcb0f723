//! The page templates (minijinja), embedded in the binary and checked once at
//! start-up, so a template error stops `serve` with its name and line instead
//! of failing a person's request. `t(key, …)` inside a template looks the key
//! up in the page's language (see `i18n`).

use std::sync::LazyLock;

use minijinja::{Environment, Value};
use serde::Serialize;

/// Every template, by name. A new page adds its file here.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("error.html", include_str!("templates/error.html")),
    ("login.html", include_str!("templates/login.html")),
    ("password.html", include_str!("templates/password.html")),
    ("home.html", include_str!("templates/home.html")),
    ("plans.html", include_str!("templates/plans.html")),
    ("plan.html", include_str!("templates/plan.html")),
    ("tasks.html", include_str!("templates/tasks.html")),
    ("task.html", include_str!("templates/task.html")),
    ("task_form.html", include_str!("templates/task_form.html")),
    ("import.html", include_str!("templates/import.html")),
    ("notices.html", include_str!("templates/notices.html")),
    (
        "accountability.html",
        include_str!("templates/accountability.html"),
    ),
    (
        "accountability_record.html",
        include_str!("templates/accountability_record.html"),
    ),
    ("bulletins.html", include_str!("templates/bulletins.html")),
    ("bulletin.html", include_str!("templates/bulletin.html")),
    (
        "bulletin_publish.html",
        include_str!("templates/bulletin_publish.html"),
    ),
    ("indicators.html", include_str!("templates/indicators.html")),
    ("leading.html", include_str!("templates/leading.html")),
    ("unit.html", include_str!("templates/unit.html")),
    ("assessment.html", include_str!("templates/assessment.html")),
    ("calendar.html", include_str!("templates/calendar.html")),
    ("admin_tabs.html", include_str!("templates/admin_tabs.html")),
    (
        "admin_macros.html",
        include_str!("templates/admin_macros.html"),
    ),
    (
        "admin_users.html",
        include_str!("templates/admin_users.html"),
    ),
    (
        "admin_unit_fields.html",
        include_str!("templates/admin_unit_fields.html"),
    ),
    (
        "admin_units.html",
        include_str!("templates/admin_units.html"),
    ),
    ("admin_unit.html", include_str!("templates/admin_unit.html")),
    ("queue_tabs.html", include_str!("templates/queue_tabs.html")),
    (
        "queue_index.html",
        include_str!("templates/queue_index.html"),
    ),
    (
        "queue_review.html",
        include_str!("templates/queue_review.html"),
    ),
    (
        "queue_extensions.html",
        include_str!("templates/queue_extensions.html"),
    ),
    (
        "queue_overdue.html",
        include_str!("templates/queue_overdue.html"),
    ),
    (
        "queue_notices.html",
        include_str!("templates/queue_notices.html"),
    ),
    (
        "admin_users_batch.html",
        include_str!("templates/admin_users_batch.html"),
    ),
    (
        "admin_holidays.html",
        include_str!("templates/admin_holidays.html"),
    ),
    (
        "admin_audit.html",
        include_str!("templates/admin_audit.html"),
    ),
    (
        "admin_settings.html",
        include_str!("templates/admin_settings.html"),
    ),
];

static ENV: LazyLock<Result<Environment<'static>, minijinja::Error>> = LazyLock::new(build);

fn build() -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    // A name the page does not provide is an error in tests, not a blank.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    // The same `t` as the documents and emails (`crate::templates`).
    env.add_function("t", crate::templates::translate);
    // duban's own URLs: nothing in them needs escaping.
    env.add_function("asset", |name: &str| {
        Value::from_safe_string(super::assets::url(name))
    });
    Ok(env)
}

/// Every template's name and source (for tests that check them).
#[cfg(test)]
pub fn sources() -> &'static [(&'static str, &'static str)] {
    TEMPLATES
}

/// Compiles every template; `serve` calls this before it listens.
pub fn check() -> anyhow::Result<()> {
    match &*ENV {
        Ok(_) => Ok(()),
        Err(e) => Err(anyhow::anyhow!("console template error: {e:#}")),
    }
}

/// Renders `name` with `ctx`.
pub fn render<S: Serialize>(name: &str, ctx: S) -> anyhow::Result<String> {
    let env = ENV
        .as_ref()
        .map_err(|e| anyhow::anyhow!("console template error: {e:#}"))?;
    Ok(env.get_template(name)?.render(ctx)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n;

    #[test]
    fn every_template_compiles() {
        check().unwrap();
    }

    #[test]
    fn every_key_a_template_uses_is_in_the_catalogue() {
        i18n::assert_template_keys_exist(TEMPLATES);
    }
}
