//! What notices say: each email's facts as the context of its templates
//! (`src/templates/mail/…`, overridable per installation, see `templates`),
//! in zh-CN (default) and English, as plain text and as HTML with every
//! value escaped.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::ladder::Step;
use crate::domain::message::Lang;
use crate::domain::notice_step::NoticeStep;
use crate::templates;

/// What a task notice says.
#[derive(Debug, Clone)]
pub struct TaskFacts {
    /// A rung of the ladder, a late signing-for, a missing progress report,
    /// an assignment or a returned submission.
    pub step: NoticeStep,
    pub code: String,
    pub title: String,
    pub lead_unit: String,
    pub due_date: Option<NaiveDate>,
    pub days_overdue: i64,
    /// Where the reader acts, a full URL: the task's page in the console (or
    /// the indicator's); for an accountability proposal, the record's page,
    /// where the office confirms or dismisses it.
    pub link: String,
    /// The responsible leader (then the co-responsible ones, 、-separated),
    /// named in a supervision order.
    pub leader: Option<String>,
    /// The lead unit's latest progress report as one line ("60%，2026-06-20：…").
    pub latest: Option<String>,
    /// Chase and supervision: the date by which the unit must reply.
    pub reply_by: Option<NaiveDate>,
    /// A returned submission: the office's note.
    pub note: Option<String>,
    /// A leader's instruction (批示) the notice is about: its author and text.
    /// A ladder step with it chases the instruction's reply, not the task.
    pub instruction: Option<(String, String)>,
    /// The notice goes to a cooperating unit, not the lead.
    pub cooperating: bool,
    /// The supervision order (督办单) the notice carries or chases, by its
    /// number (督办〔2026〕3号). A chase notice with it chases the order's
    /// receipt (回执), not the task.
    pub order: Option<String>,
}

/// The notice's name, by step: `mail.label.<key>` in the catalogue.
fn label_key(step: NoticeStep) -> &'static str {
    use NoticeStep::*;
    match step {
        Ladder(Step::Reminder(_)) => "reminder",
        Ladder(Step::Chase(_)) => "chase",
        Ladder(Step::Supervise(_)) => "supervise",
        Ladder(Step::Accountability(_)) => "accountability",
        AcceptOverdue => "accept_overdue",
        ReportMissing => "report_missing",
        Assigned => "assigned",
        Returned => "returned",
        Instruction => "instruction",
        // A digest and a bulletin have templates of their own.
        Digest | FollowDigest | Bulletin => "notice",
    }
}

/// What the notice asks of its reader, by step (`mail.intro.<kind>`): a
/// reminder reminds, a chase states how late the task is and asks for a
/// reply by a date, a supervision order is addressed to the unit's head,
/// and an accountability proposal asks the office to decide.
fn intro_kind(f: &TaskFacts) -> &'static str {
    match (f.step, f.cooperating) {
        (NoticeStep::Assigned, false) => return "assigned",
        (NoticeStep::Assigned, true) => return "assigned_cooperating",
        (NoticeStep::Returned, _) => return "returned",
        (NoticeStep::Instruction, _) => return "instruction",
        _ => {}
    }
    if f.instruction.is_some() {
        match f.step.rung() {
            Some(Step::Accountability(_)) => return "instruction_accountability",
            Some(_) => return "instruction_late",
            None => {}
        }
    }
    match f.step.rung() {
        Some(Step::Reminder(_)) => "reminder",
        Some(Step::Chase(_)) => "chase",
        // An order the office issued by hand on a task not yet late.
        Some(Step::Supervise(_)) if f.days_overdue <= 0 => "supervise_open",
        Some(Step::Supervise(_)) => "supervise",
        Some(Step::Accountability(_)) => "accountability",
        None => "other",
    }
}

/// What `mail/task.*` is given: the facts as text, and which wording fits.
#[derive(Debug, Serialize)]
pub struct TaskNotice {
    pub lang: &'static str,
    /// `mail.label.<label>`: the notice's name (催办通知…).
    pub label: &'static str,
    /// `mail.intro.<intro>`: the opening sentence.
    pub intro: &'static str,
    /// A ladder step about a leader's instruction's reply (its name says so).
    pub instruction_reply: bool,
    /// Days before the deadline, for a reminder.
    pub reminder_days: u32,
    pub code: String,
    pub title: String,
    pub lead_unit: String,
    pub leader: Option<String>,
    pub due: String,
    /// Late: the days overdue are stated (and the latest progress, even if none).
    pub late: bool,
    pub days_overdue: i64,
    pub latest: Option<String>,
    pub instruction_author: Option<String>,
    pub instruction_text: Option<String>,
    pub reply_by: Option<String>,
    pub note: Option<String>,
    /// An accountability proposal: the link is to decide, not to handle.
    pub proposal: bool,
    pub link: String,
    /// The supervision order (督办〔2026〕3号) the notice carries or chases.
    pub order: Option<String>,
    /// A chase of that order's receipt (回执): its name says so.
    pub order_receipt: bool,
}

/// The context of a task notice.
pub fn task_context(f: &TaskFacts, lang: Lang) -> TaskNotice {
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    // A 督办 notice is late but for an order issued by hand on a task not
    // yet due, which states no days overdue.
    let late = matches!(
        f.step.rung(),
        Some(Step::Chase(_) | Step::Accountability(_))
    ) || f.days_overdue > 0;
    TaskNotice {
        lang: crate::i18n::tag(lang),
        label: label_key(f.step),
        intro: intro_kind(f),
        instruction_reply: f.instruction.is_some() && f.step.rung().is_some(),
        reminder_days: match f.step.rung() {
            Some(Step::Reminder(n)) => n,
            _ => 0,
        },
        code: f.code.clone(),
        title: f.title.clone(),
        lead_unit: f.lead_unit.clone(),
        leader: f.leader.clone(),
        due: f.due_date.map_or_else(|| "—".to_string(), day),
        late,
        days_overdue: f.days_overdue,
        latest: f.latest.clone(),
        instruction_author: f.instruction.as_ref().map(|(a, _)| a.clone()),
        instruction_text: f.instruction.as_ref().map(|(_, t)| t.clone()),
        reply_by: f.reply_by.map(day),
        note: f.note.clone(),
        proposal: matches!(f.step.rung(), Some(Step::Accountability(_))),
        link: f.link.clone(),
        order: f.order.clone(),
        order_receipt: f.order.is_some() && matches!(f.step.rung(), Some(Step::Chase(_))),
    }
}

/// Subject, plain text and HTML of a task notice (`mail/task.*`). The text
/// part carries the link's URL, the HTML part an `<a href>` to it, named
/// for what the reader does there: handle the task, or decide on the proposal.
pub fn task_notice(f: &TaskFacts, lang: Lang) -> anyhow::Result<(String, String, String)> {
    templates::email("mail/task", task_context(f, lang))
}

/// One line of a daily digest.
#[derive(Debug, Clone, Serialize)]
pub struct DigestLine {
    pub code: String,
    pub title: String,
    pub due_date: NaiveDate,
    pub days_overdue: i64,
}

/// What `mail/digest.*` is given.
#[derive(Debug, Serialize)]
pub struct Digest<'a> {
    pub lang: &'static str,
    pub unit: &'a str,
    pub day: NaiveDate,
    pub total: usize,
    pub overdue: usize,
    pub lines: &'a [DigestLine],
    pub link: &'a str,
}

/// Subject, plain text and HTML of a unit's daily digest of due and overdue
/// tasks (`mail/digest.*`).
pub fn digest(
    unit: &str,
    day: NaiveDate,
    lines: &[DigestLine],
    link: &str,
    lang: Lang,
) -> anyhow::Result<(String, String, String)> {
    templates::email("mail/digest", digest_context(unit, day, lines, link, lang))
}

pub fn digest_context<'a>(
    unit: &'a str,
    day: NaiveDate,
    lines: &'a [DigestLine],
    link: &'a str,
    lang: Lang,
) -> Digest<'a> {
    Digest {
        lang: crate::i18n::tag(lang),
        unit,
        day,
        total: lines.len(),
        overdue: lines.iter().filter(|l| l.days_overdue > 0).count(),
        lines,
        link,
    }
}

/// One change in a followed task, as the follower's digest lists it.
#[derive(Debug, Clone, Serialize)]
pub struct FollowChange {
    /// Local time, e.g. `12-01 09:30`.
    pub when: String,
    /// What happened, in the timeline's words (报告进展, 提交办结…).
    pub what: String,
    pub who: Option<String>,
    pub note: Option<String>,
}

/// A followed task that changed, with its changes oldest first.
#[derive(Debug, Clone, Serialize)]
pub struct FollowedChanges {
    pub code: String,
    pub title: String,
    pub lead_unit: String,
    /// The task's page in the console, a full URL.
    pub link: String,
    pub changes: Vec<FollowChange>,
}

/// What `mail/follow_digest.*` is given.
#[derive(Debug, Serialize)]
pub struct FollowDigest<'a> {
    pub lang: &'static str,
    pub person: &'a str,
    pub day: NaiveDate,
    pub tasks: &'a [FollowedChanges],
    pub link: &'a str,
}

/// Subject, plain text and HTML of a follower's daily digest
/// (`mail/follow_digest.*`): what changed during the last day in the tasks
/// followed and the tasks of the units followed.
pub fn follow_digest(
    person: &str,
    day: NaiveDate,
    tasks: &[FollowedChanges],
    link: &str,
    lang: Lang,
) -> anyhow::Result<(String, String, String)> {
    templates::email(
        "mail/follow_digest",
        FollowDigest {
            lang: crate::i18n::tag(lang),
            person,
            day,
            tasks,
            link,
        },
    )
}

/// What the letter carrying a published bulletin says to one unit, taken
/// from the bulletin by its publisher.
pub struct BulletinLetter<'a> {
    /// 2026年第3期
    pub number_label: &'a str,
    pub title: &'a str,
    pub unit_name: &'a str,
    /// The unit's rank and score, when it was ranked.
    pub standing: Option<(u32, f64)>,
    pub units_ranked: u32,
    /// The deadline and requirement, when the unit is criticised.
    pub rectification: Option<(NaiveDate, &'a str)>,
}

/// What `mail/bulletin.*` is given.
#[derive(Debug, Serialize)]
pub struct BulletinLetterContext {
    pub lang: &'static str,
    pub number_label: String,
    pub title: String,
    pub unit_name: String,
    pub ranked: bool,
    pub rank: u32,
    /// Two decimals.
    pub score: String,
    pub units_ranked: u32,
    pub criticised: bool,
    /// 2026年7月10日 in Chinese, 2026-07-10 in English.
    pub rectify_by: String,
    pub requirement: String,
}

pub fn bulletin_letter_context(letter: &BulletinLetter, lang: Lang) -> BulletinLetterContext {
    let (rank, score) = letter.standing.unwrap_or((0, 0.0));
    BulletinLetterContext {
        lang: crate::i18n::tag(lang),
        number_label: letter.number_label.to_string(),
        title: letter.title.to_string(),
        unit_name: letter.unit_name.to_string(),
        ranked: letter.standing.is_some(),
        rank,
        score: format!("{score:.2}"),
        units_ranked: letter.units_ranked,
        criticised: letter.rectification.is_some(),
        rectify_by: letter
            .rectification
            .map_or_else(String::new, |(d, _)| match lang {
                Lang::Zh => crate::domain::period::zh_date(d),
                Lang::En => d.to_string(),
            }),
        requirement: letter
            .rectification
            .map_or_else(String::new, |(_, r)| r.to_string()),
    }
}

/// Subject, plain text and HTML of the letter that carries a published
/// bulletin to a unit (`mail/bulletin.*`); the bulletin itself is attached
/// (printable HTML and the workbook), so each notice row stays small.
pub fn bulletin_notice(
    letter: &BulletinLetter,
    lang: Lang,
) -> anyhow::Result<(String, String, String)> {
    templates::email("mail/bulletin", bulletin_letter_context(letter, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(title: &str) -> TaskFacts {
        TaskFacts {
            step: NoticeStep::Ladder(Step::Chase(1)),
            code: "2.5.3".into(),
            title: title.into(),
            lead_unit: "城关镇".into(),
            due_date: NaiveDate::from_ymd_opt(2026, 6, 30),
            days_overdue: 1,
            link: "http://duban.local/tasks/1".into(),
            leader: None,
            latest: Some("60%，2026-06-28：已回收八成".into()),
            reply_by: NaiveDate::from_ymd_opt(2026, 7, 4),
            note: None,
            instruction: None,
            cooperating: false,
            order: None,
        }
    }

    #[test]
    fn chinese_by_default_with_every_fact() {
        let (subject, text, _) = task_notice(&facts("农膜回收"), Lang::Zh).unwrap();
        assert_eq!(subject, "【催办通知】2.5.3 农膜回收");
        for part in [
            "城关镇",
            "2026-06-30",
            "逾期天数：1",
            "最新进展：60%，2026-06-28：已回收八成",
            "回复期限：2026-07-04",
            "http://duban.local/tasks/1",
        ] {
            assert!(text.contains(part), "{part}");
        }
        let (_, _, html) = task_notice(&facts("农膜回收"), Lang::Zh).unwrap();
        assert!(
            html.contains("<a href=\"http://duban.local/tasks/1\">"),
            "{html}"
        );
        let (subject, _, _) = task_notice(&facts("x"), Lang::En).unwrap();
        assert!(subject.starts_with("[Chase notice: overdue]"));
    }

    #[test]
    fn each_step_reads_as_what_it_is() {
        let reminder = TaskFacts {
            step: NoticeStep::Ladder(Step::Reminder(3)),
            days_overdue: 0,
            latest: None,
            reply_by: None,
            ..facts("农膜回收")
        };
        let (_, text, _) = task_notice(&reminder, Lang::Zh).unwrap();
        assert!(text.contains("还有 3 天"), "{text}");
        assert!(
            !text.contains("逾期天数"),
            "a reminder is no overdue notice: {text}"
        );
        let supervise = TaskFacts {
            step: NoticeStep::Ladder(Step::Supervise(7)),
            days_overdue: 9,
            leader: Some("王副县长".into()),
            ..facts("农膜回收")
        };
        let (_, text, _) = task_notice(&supervise, Lang::Zh).unwrap();
        assert!(text.starts_with("城关镇负责同志"), "{text}");
        assert!(text.contains("责任领导：王副县长") && text.contains("回复期限"));
        let proposal = TaskFacts {
            step: NoticeStep::Ladder(Step::Accountability(15)),
            days_overdue: 15,
            link: "http://duban.local/accountability/4".into(),
            ..facts("农膜回收")
        };
        let (_, text, html) = task_notice(&proposal, Lang::Zh).unwrap();
        assert!(text.contains("请督查室审定"), "{text}");
        assert!(!text.contains("抓紧办理") && !text.contains("办理入口"));
        assert!(text.contains("审定入口：http://duban.local/accountability/4"));
        assert!(
            html.contains("<a href=\"http://duban.local/accountability/4\">打开问责建议审定</a>"),
            "{html}"
        );
    }

    #[test]
    fn a_digest_lists_every_task() {
        let day = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let lines = [
            DigestLine {
                code: "1".into(),
                title: "<b>甲</b>".into(),
                due_date: day,
                days_overdue: 0,
            },
            DigestLine {
                code: "2".into(),
                title: "乙".into(),
                due_date: day,
                days_overdue: 3,
            },
        ];
        let (subject, text, html) = digest("城关镇", day, &lines, "http://x", Lang::Zh).unwrap();
        assert_eq!(
            subject,
            "【督办日报】城关镇 2026-07-01：2 项任务到期或逾期（逾期 1 项）"
        );
        assert!(text.contains("2  乙  2026-07-01  3"));
        assert!(html.contains("&lt;b&gt;甲"));
        assert!(html.contains("<a href=\"http://x\">"), "{html}");
    }

    #[test]
    fn html_is_escaped() {
        let (_, _, html) = task_notice(&facts("<script>alert(1)</script>&"), Lang::Zh).unwrap();
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
    }
}
