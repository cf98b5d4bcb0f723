//! Sample data for every template of `templates` (documents and emails),
//! in both languages: what start-up renders each template (default or
//! override) with before serving (`install`), and what the tests render.
//! The names carry markup and quotes (`<script>`, `"&'`), so a template
//! that forgets to escape shows it in the tests. It sits above the slices
//! whose contexts it builds (`mail`, `bulletins`, `assessments`), which
//! themselves only call `templates::render`.

use chrono::NaiveDate;
use minijinja::Value;

use crate::config::Settings;

use crate::assessments::render::{AssessedUnit, AssessmentDoc, DeductionLine};
use crate::bulletins::render::{BulletinDoc, DocOverdue, DocRectification, DocRow};
use crate::domain::ladder::Step;
use crate::domain::message::Lang;
use crate::domain::notice_step::NoticeStep;
use crate::domain::{OrderId, TaskId};
use crate::mail::templates::{
    bulletin_letter_context, digest_context, task_context, BulletinLetter, DigestLine,
    FollowChange, FollowDigest, FollowedChanges, TaskFacts,
};
use crate::orders::document::{Document, Receipt};

/// A unit's name as hostile as a form lets it be.
pub const HOSTILE_UNIT: &str = "<script>alert(1)</script>\"&'镇";
/// A task title likewise.
pub const HOSTILE_TITLE: &str = "<img src=x onerror=alert(1)>农膜\"回收\"&'";

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default()
}

/// Every step a task notice can be about, with what makes it differ.
fn task_facts() -> Vec<TaskFacts> {
    let base = TaskFacts {
        step: NoticeStep::Ladder(Step::Chase(1)),
        code: "2.5.3".into(),
        title: HOSTILE_TITLE.into(),
        lead_unit: HOSTILE_UNIT.into(),
        due_date: Some(day(6, 30)),
        days_overdue: 3,
        link: "http://duban.local/tasks/1?a=1&b=\"2\"".into(),
        leader: Some("王副市长".into()),
        latest: Some("60%，2026-06-28：已回收八成 <b>".into()),
        reply_by: Some(day(7, 4)),
        note: Some("请补充佐证材料 & 照片".into()),
        instruction: None,
        cooperating: false,
        order: None,
    };
    let mut all = Vec::new();
    for step in [
        NoticeStep::Ladder(Step::Reminder(3)),
        NoticeStep::Ladder(Step::Chase(1)),
        NoticeStep::Ladder(Step::Supervise(7)),
        NoticeStep::Ladder(Step::Accountability(15)),
        NoticeStep::AcceptOverdue,
        NoticeStep::ReportMissing,
        NoticeStep::Assigned,
        NoticeStep::Returned,
        NoticeStep::Instruction,
    ] {
        all.push(TaskFacts {
            step,
            ..base.clone()
        });
    }
    all.push(TaskFacts {
        step: NoticeStep::Assigned,
        cooperating: true,
        ..base.clone()
    });
    for step in [
        NoticeStep::Ladder(Step::Chase(1)),
        NoticeStep::Ladder(Step::Accountability(15)),
    ] {
        all.push(TaskFacts {
            step,
            instruction: Some(("李书记".into(), "请于月底前完成 <i>".into())),
            ..base.clone()
        });
    }
    // A supervision order carried (督办) and its receipt chased.
    for step in [
        NoticeStep::Ladder(Step::Supervise(7)),
        NoticeStep::Ladder(Step::Chase(1)),
    ] {
        all.push(TaskFacts {
            step,
            order: Some("督办〔2026〕3号".into()),
            ..base.clone()
        });
    }
    // The least a notice can carry.
    all.push(TaskFacts {
        step: NoticeStep::Ladder(Step::Reminder(1)),
        days_overdue: 0,
        due_date: None,
        leader: None,
        latest: None,
        reply_by: None,
        note: None,
        ..base
    });
    all
}

fn email(base: &'static str, ctx: Value, out: &mut Vec<(&'static str, Value)>) {
    for part in EMAIL_PARTS {
        let name = match (base, part) {
            ("mail/task", "subject") => "mail/task.subject.txt",
            ("mail/task", "txt") => "mail/task.txt",
            ("mail/task", _) => "mail/task.html",
            ("mail/digest", "subject") => "mail/digest.subject.txt",
            ("mail/digest", "txt") => "mail/digest.txt",
            ("mail/digest", _) => "mail/digest.html",
            ("mail/follow_digest", "subject") => "mail/follow_digest.subject.txt",
            ("mail/follow_digest", "txt") => "mail/follow_digest.txt",
            ("mail/follow_digest", _) => "mail/follow_digest.html",
            ("mail/bulletin", "subject") => "mail/bulletin.subject.txt",
            ("mail/bulletin", "txt") => "mail/bulletin.txt",
            (_, _) => "mail/bulletin.html",
        };
        out.push((name, ctx.clone()));
    }
}

const EMAIL_PARTS: [&str; 3] = ["subject", "txt", "html"];

fn ranked(rank: u32, unit: &str, mark: &'static str, light: &'static str) -> DocRow {
    DocRow {
        rank,
        unit: unit.into(),
        due: 12,
        on_time: 9,
        late: 2,
        overdue: 1,
        completion: "91.67%".into(),
        on_time_rate: "75.00%".into(),
        score: "73.90".into(),
        change: "↑2".into(),
        light,
        mark,
    }
}

/// A bulletin with every section filled.
pub fn bulletin(lang: Lang) -> BulletinDoc {
    BulletinDoc {
        lang: crate::i18n::tag(lang),
        title: format!("关于2026年11月重点工作任务落实情况的督查通报 {HOSTILE_TITLE}"),
        number: Some("2026年第2期".into()),
        issuer: "市创建办".into(),
        issued_on: "2026年12月1日".into(),
        foreword: "11月，全市共有到期任务 48 项 <b>。".into(),
        closing: "各单位要对照问题清单 & 抓好整改。".into(),
        ranked: vec![
            ranked(1, "市住房和城乡建设局", "commended", "green"),
            ranked(2, HOSTILE_UNIT, "", "yellow"),
            ranked(3, "城关镇", "criticised", "red"),
        ],
        unranked: vec!["市档案馆".into(), HOSTILE_UNIT.into()],
        previous: Some("2026年第1期".into()),
        overdue: vec![DocOverdue {
            code: "2.5.3".into(),
            title: HOSTILE_TITLE.into(),
            unit: HOSTILE_UNIT.into(),
            due: "2026-11-20".into(),
            days: 11,
            leader: "王副市长".into(),
        }],
        commended: vec!["市住房和城乡建设局".into()],
        criticised: vec![HOSTILE_UNIT.into()],
        rectifications: vec![DocRectification {
            unit: HOSTILE_UNIT.into(),
            requirement: "于整改时限前完成 <u>".into(),
            deadline: "2026年12月15日".into(),
        }],
        charts: String::new(),
    }
}

/// An assessment with a deduction of each kind.
pub fn assessment(lang: Lang) -> AssessmentDoc {
    AssessmentDoc {
        lang: crate::i18n::tag(lang),
        year: 2026,
        running: true,
        judged_on: "2026年12月1日".into(),
        thresholds: [90.0, 75.0, 60.0],
        units: vec![AssessedUnit {
            rank: 1,
            unit: HOSTILE_UNIT.into(),
            task_score: "88.00".into(),
            accountability: "5.00".into(),
            score: "83.00".into(),
            grade: "良好".into(),
            overdue_tasks: vec![format!("2.5.3 {HOSTILE_TITLE}")],
        }],
        deductions: vec![DeductionLine {
            unit: HOSTILE_UNIT.into(),
            kind: "问责".into(),
            count: 1,
            points: "5.00".into(),
            detail: HOSTILE_TITLE.into(),
        }],
        not_assessed: vec!["市档案馆".into()],
    }
}

/// A 督办单 as the ladder issues it, with its receipt or without.
pub fn supervision_order(lang: Lang, receipt: bool) -> Document {
    Document {
        lang: crate::i18n::tag(lang),
        id: OrderId(1),
        task_id: TaskId(7),
        title: crate::orders::number_label(2026, 3),
        year: 2026,
        number: 3,
        issuer: "创建办<script>".into(),
        lead_unit: HOSTILE_UNIT.into(),
        head: Some("张镇长\"".into()),
        leaders: vec!["李副市长".into(), "王副市长".into()],
        cooperating: vec!["市生态环境局".into()],
        code: "2.5.3".into(),
        task_title: HOSTILE_TITLE.into(),
        due_date: Some(day(6, 30)),
        days_overdue: 7,
        requirement: "请于五日内回执 <b>".into(),
        reply_by: day(7, 14),
        issued_on: day(7, 7),
        from_ladder: true,
        receipt: receipt.then(|| Receipt {
            unit: "城关镇".into(),
            author: "刘文书".into(),
            percent: 70,
            body: "已倒排工期<script>".into(),
            on: day(7, 10),
        }),
        link: "http://duban.local/tasks/7#report".into(),
    }
}

/// Installs the templates (`templates::install`), checked with `all()`.
pub fn install(settings: &Settings) -> anyhow::Result<()> {
    crate::templates::install(settings, &all())
}

/// Every template name with a sample context, each in both languages.
pub fn all() -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let link = "http://duban.local/?a=1&b=2";
    for lang in [Lang::Zh, Lang::En] {
        for f in task_facts() {
            email(
                "mail/task",
                Value::from_serialize(task_context(&f, lang)),
                &mut out,
            );
        }
        let lines = vec![
            DigestLine {
                code: "1.1".into(),
                title: HOSTILE_TITLE.into(),
                due_date: day(7, 1),
                days_overdue: 0,
            },
            DigestLine {
                code: "1.2".into(),
                title: "乙".into(),
                due_date: day(6, 28),
                days_overdue: 3,
            },
        ];
        email(
            "mail/digest",
            Value::from_serialize(digest_context(HOSTILE_UNIT, day(7, 1), &lines, link, lang)),
            &mut out,
        );
        let tasks = vec![FollowedChanges {
            code: "2.5.3".into(),
            title: HOSTILE_TITLE.into(),
            lead_unit: HOSTILE_UNIT.into(),
            link: link.into(),
            changes: vec![
                FollowChange {
                    when: "12-01 09:30".into(),
                    what: "报告进展".into(),
                    who: Some(HOSTILE_UNIT.into()),
                    note: Some("完成 60% <b>".into()),
                },
                FollowChange {
                    when: "12-01 10:00".into(),
                    what: "提交办结".into(),
                    who: None,
                    note: None,
                },
            ],
        }];
        email(
            "mail/follow_digest",
            Value::from_serialize(FollowDigest {
                lang: crate::i18n::tag(lang),
                person: HOSTILE_UNIT,
                day: day(12, 1),
                tasks: &tasks,
                link,
            }),
            &mut out,
        );
        for (standing, rectification) in [
            (Some((3, 73.9)), Some((day(12, 15), "于整改时限前完成 <u>"))),
            (None, None),
        ] {
            let letter = BulletinLetter {
                number_label: "2026年第2期",
                title: HOSTILE_TITLE,
                unit_name: HOSTILE_UNIT,
                standing,
                units_ranked: 18,
                rectification,
            };
            email(
                "mail/bulletin",
                Value::from_serialize(bulletin_letter_context(&letter, lang)),
                &mut out,
            );
        }
        out.push((
            "documents/bulletin.html",
            Value::from_serialize(bulletin(lang)),
        ));
        let mut sparse = bulletin(lang);
        sparse.number = None;
        sparse.ranked.clear();
        sparse.unranked.clear();
        sparse.previous = None;
        sparse.overdue.clear();
        sparse.commended.clear();
        sparse.criticised.clear();
        sparse.rectifications.clear();
        out.push(("documents/bulletin.html", Value::from_serialize(sparse)));
        out.push((
            "documents/assessment.html",
            Value::from_serialize(assessment(lang)),
        ));
        for receipt in [false, true] {
            let doc = supervision_order(lang, receipt);
            out.push((
                "documents/supervision_order.html",
                minijinja::context! { year => doc.year, lang => doc.lang, doc => doc },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_renders_its_samples_with_its_settings() {
        let settings = Settings {
            bulletin_cc: "市委办公室，市人大办公室 <b>".into(),
            bulletin_issuer: "市创建工作领导小组办公室".into(),
            data_dir: std::path::PathBuf::from("/nonexistent"),
            ..Settings::default()
        };
        // No override directory: the defaults, rendered with every sample.
        crate::templates::install(&settings, &all()).unwrap();
        let zh = crate::templates::render(
            "documents/bulletin.html",
            Value::from_serialize(bulletin(Lang::Zh)),
        )
        .unwrap();
        assert!(
            zh.contains("抄送：市委办公室，市人大办公室 &lt;b&gt;"),
            "{zh}"
        );
        assert!(zh.contains("<span>市创建工作领导小组办公室</span>"), "{zh}");
    }

    /// Every template renders in both languages, and no HTML output lets
    /// the hostile names through unescaped.
    #[test]
    fn every_template_renders_in_both_languages_with_hostile_names_escaped() {
        let samples = all();
        for (name, ctx) in &samples {
            let out = crate::templates::render(name, ctx).unwrap();
            let lang = ctx.get_attr("lang").unwrap().to_string();
            assert!(!out.trim().is_empty(), "{name} ({lang}) is empty");
            if name.ends_with(".html") {
                for raw in ["<script>", "<img", "<b>", "<i>", "<u>", "\"&'", "&b=2\""] {
                    assert!(
                        !out.contains(raw),
                        "{name} ({lang}) lets {raw} through:\n{out}"
                    );
                }
                assert!(
                    !out.contains("{") || out.contains("<style>"),
                    "{name} ({lang}) shows a placeholder:\n{out}"
                );
            }
            // Every catalogue word was found: no key shows.
            for key in ["mail.", "doc."] {
                assert!(!out.contains(key), "{name} ({lang}) shows a key:\n{out}");
            }
            if lang == "en" {
                // Nothing of the Chinese template text leaks into English,
                // apart from the sample's own data.
                for word in ["逾期天数", "督查通报</div>", "抄送", "任务编号"] {
                    assert!(!out.contains(word), "{name} (en) says {word}:\n{out}");
                }
            }
        }
        // Each template is rendered at least in both languages.
        for (name, _) in crate::templates::DEFAULTS {
            if name.rsplit('/').next().is_some_and(|f| f.starts_with('_')) {
                continue;
            }
            for lang in ["zh-CN", "en"] {
                assert!(
                    samples.iter().any(|(n, c)| n == name
                        && c.get_attr("lang").is_ok_and(|l| l.as_str() == Some(lang))),
                    "{name} is never rendered in {lang}"
                );
            }
        }
    }

    #[test]
    fn the_printed_bulletin_has_its_parts() {
        let zh = crate::templates::render("documents/bulletin.html", bulletin(Lang::Zh)).unwrap();
        assert!(zh.contains("名次升降与上期（2026年第1期）相比。"), "{zh}");
        assert!(zh.contains("本期无到期任务、未参加排名的单位（2个）：市档案馆、"));
        assert!(!zh.contains("未排名"), "no zero rows");
        assert!(zh.contains("2026年12月1日印发"));
        assert!(zh.contains("size: A4"));
        let en = crate::templates::render("documents/bulletin.html", bulletin(Lang::En)).unwrap();
        assert!(
            en.contains("Rank changes are against the previous bulletin (2026年第1期)."),
            "{en}"
        );
    }

    #[test]
    fn the_supervision_order_has_its_parts_in_both_languages() {
        let render = |lang, receipt| {
            crate::orders::document::render(&supervision_order(lang, receipt)).unwrap()
        };
        for lang in [Lang::Zh, Lang::En] {
            for receipt in [false, true] {
                let html = render(lang, receipt);
                assert!(html.contains("督办〔2026〕3号"), "{html}");
                assert!(html.contains("@page") && html.contains("size: A4"));
                assert!(
                    !html.contains("<script>") && !html.contains("<img"),
                    "{html}"
                );
                assert!(html.contains("李副市长、王副市长"));
                assert_eq!(html.contains("已倒排工期"), receipt);
                assert!(!html.contains("order."), "{html}");
            }
        }
        let zh = render(Lang::Zh, false);
        assert!(zh.contains("回 执") && zh.contains("抄送") && zh.contains("逾期 7 天"));
        let en = render(Lang::En, false);
        assert!(en.contains("RECEIPT") && en.contains("7 days overdue"));
    }
}
