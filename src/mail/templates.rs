//! The text of notices, in zh-CN (default) and English, as plain text and as
//! HTML with every value escaped.

use chrono::NaiveDate;
use html_escape::encode_text;

use crate::domain::ladder::Step;
use crate::domain::message::Lang;
use crate::domain::notice_step::NoticeStep;

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

fn label(step: NoticeStep, lang: Lang) -> String {
    use NoticeStep::*;
    match (step, lang) {
        (Ladder(Step::Reminder(n)), Lang::Zh) => format!("到期提醒（距完成时限 {n} 天）"),
        (Ladder(Step::Reminder(n)), Lang::En) => format!("Reminder: due in {n} days"),
        (Ladder(Step::Chase(_)), Lang::Zh) => "催办通知".into(),
        (Ladder(Step::Chase(_)), Lang::En) => "Chase notice: overdue".into(),
        (Ladder(Step::Supervise(_)), Lang::Zh) => "督办通知".into(),
        (Ladder(Step::Supervise(_)), Lang::En) => "Supervision order".into(),
        (Ladder(Step::Accountability(_)), Lang::Zh) => "问责建议".into(),
        (Ladder(Step::Accountability(_)), Lang::En) => "Accountability proposal".into(),
        (AcceptOverdue, Lang::Zh) => "签收提醒".into(),
        (AcceptOverdue, Lang::En) => "Reminder: task not signed for".into(),
        (ReportMissing, Lang::Zh) => "进展报送提醒".into(),
        (ReportMissing, Lang::En) => "Reminder: progress report missing".into(),
        (Assigned, Lang::Zh) => "交办通知".into(),
        (Assigned, Lang::En) => "Task assigned".into(),
        (Returned, Lang::Zh) => "退回通知".into(),
        (Returned, Lang::En) => "Submission returned".into(),
        (Instruction, Lang::Zh) => "领导批示".into(),
        (Instruction, Lang::En) => "Leader's instruction".into(),
        // A digest and a bulletin have templates of their own.
        (Digest | FollowDigest | Bulletin, Lang::Zh) => "督办通知".into(),
        (Digest | FollowDigest | Bulletin, Lang::En) => "Notice".into(),
    }
}

/// What the notice asks of its reader, by step: a reminder reminds, a chase
/// states how late the task is and asks for a reply by a date, a supervision
/// order is addressed to the unit's head, and an accountability proposal asks
/// the office to decide.
fn intro(f: &TaskFacts, label: &str, lang: Lang) -> String {
    let n = f.days_overdue;
    match (f.step, f.cooperating, lang) {
        (NoticeStep::Assigned, false, Lang::Zh) => {
            return format!("{label}：现将以下任务交由贵单位牵头办理，请及时签收，按时办结并报送进展。")
        }
        (NoticeStep::Assigned, false, Lang::En) => {
            return format!("{label}: your unit leads the task below. Please sign for it, finish it on time and report progress.")
        }
        (NoticeStep::Assigned, true, Lang::Zh) => {
            return format!("{label}：以下任务由{}牵头，请贵单位配合办理，并报送配合进展。", f.lead_unit)
        }
        (NoticeStep::Assigned, true, Lang::En) => {
            return format!("{label}: {} leads the task below; your unit cooperates. Please report your progress.", f.lead_unit)
        }
        (NoticeStep::Returned, _, Lang::Zh) => {
            return format!("{label}：贵单位的办结申请已被退回，请按督查室意见补充完善后重新提交。")
        }
        (NoticeStep::Returned, _, Lang::En) => {
            return format!("{label}: your unit's submission was returned. Please complete it as the office asks and submit it again.")
        }
        (NoticeStep::Instruction, _, Lang::Zh) => {
            return format!("{label}：领导对贵单位牵头的以下任务作出批示，请认真抓好落实，并在进展反馈中报告批示落实情况。")
        }
        (NoticeStep::Instruction, _, Lang::En) => {
            return format!("{label}: a leader has given an instruction on the task below, which your unit leads. Please act on it and report how in a progress report marked as its reply.")
        }
        _ => {}
    }
    if f.instruction.is_some() {
        match (f.step.rung(), lang) {
            (Some(Step::Accountability(_)), Lang::Zh) => {
                return format!("{label}：以下任务的领导批示逾期 {n} 天未反馈落实情况，已按规定形成问责建议，请督查室审定（确认或驳回）。")
            }
            (Some(Step::Accountability(_)), Lang::En) => {
                return format!("{label}: the reply to a leader's instruction on the task below is {n} days late and an accountability proposal has been drawn up; the office is asked to decide (confirm or dismiss).")
            }
            (Some(_), Lang::Zh) => {
                return format!("{label}：以下任务的领导批示已过回复期限 {n} 天，贵单位尚未反馈落实情况，请抓紧落实并报送。")
            }
            (Some(_), Lang::En) => {
                return format!("{label}: the reply to a leader's instruction on the task below is {n} days late; please act on it and report how.")
            }
            (None, _) => {}
        }
    }
    match (f.step.rung(), lang) {
        (Some(Step::Reminder(days)), Lang::Zh) => {
            format!("{label}：以下任务距完成时限还有 {days} 天，请按时办结并报送进展。")
        }
        (Some(Step::Reminder(days)), Lang::En) => {
            format!("{label}: the task below is due in {days} days; please finish it on time and report progress.")
        }
        (Some(Step::Chase(_)), Lang::Zh) => {
            format!("{label}：以下任务已逾期 {n} 天，请抓紧办理，并在回复期限前报送进展。")
        }
        (Some(Step::Chase(_)), Lang::En) => {
            format!("{label}: the task below is {n} days overdue; act on it and report progress by the reply date.")
        }
        (Some(Step::Supervise(_)), Lang::Zh) => format!(
            "{}负责同志：以下任务已逾期 {n} 天，现予督办。请亲自过问，在回复期限前书面反馈办理情况。",
            f.lead_unit
        ),
        (Some(Step::Supervise(_)), Lang::En) => format!(
            "To the head of {}: the task below is {n} days overdue and is placed under supervision. Please see to it in person and reply in writing by the reply date.",
            f.lead_unit
        ),
        (Some(Step::Accountability(_)), Lang::Zh) => format!(
            "{label}：以下任务已逾期 {n} 天，已按规定形成问责建议，请督查室审定（确认或驳回）。"
        ),
        (Some(Step::Accountability(_)), Lang::En) => format!(
            "{label}: the task below is {n} days overdue and an accountability proposal has been drawn up; the office is asked to decide (confirm or dismiss)."
        ),
        (None, Lang::Zh) => format!("{label}：请抓紧办理以下任务，按时反馈进展。"),
        (None, Lang::En) => format!("{label}: please act on the task below and report progress."),
    }
}

/// Subject, plain text and HTML of a task notice. The text part carries the
/// link's URL, the HTML part an `<a href>` to it, named for what the reader
/// does there: handle the task, or decide on the proposal.
pub fn task_notice(f: &TaskFacts, lang: Lang) -> (String, String, String) {
    let mut label = label(f.step, lang);
    // A ladder step about an instruction's reply says so in its subject.
    if f.instruction.is_some() && f.step.rung().is_some() {
        label = match lang {
            Lang::Zh => format!("批示落实{label}"),
            Lang::En => format!("Instruction reply: {label}"),
        };
    }
    // So does a chase of a supervision order's receipt.
    if f.order.is_some() && matches!(f.step.rung(), Some(Step::Chase(_))) {
        label = match lang {
            Lang::Zh => format!("督办单回执{label}"),
            Lang::En => format!("Supervision order receipt: {label}"),
        };
    }
    let late = matches!(
        f.step.rung(),
        Some(Step::Chase(_) | Step::Supervise(_) | Step::Accountability(_))
    ) || f.days_overdue > 0;
    let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let due = f.due_date.map_or_else(|| "—".to_string(), day);
    let zh = lang == Lang::Zh;
    let pick = |z: &str, e: &str| if zh { z.to_string() } else { e.to_string() };
    let subject = if zh {
        format!("【{label}】{} {}", f.code, f.title)
    } else {
        format!("[{label}] {} {}", f.code, f.title)
    };
    let mut lines: Vec<(String, String)> = vec![
        (pick("任务编号", "Task"), f.code.clone()),
        (pick("任务", "Title"), f.title.clone()),
        (pick("牵头单位", "Lead unit"), f.lead_unit.clone()),
    ];
    if let Some(leader) = &f.leader {
        lines.push((pick("责任领导", "Responsible leader"), leader.clone()));
    }
    lines.push((pick("完成时限", "Due"), due));
    if late {
        lines.push((pick("逾期天数", "Days overdue"), f.days_overdue.to_string()));
    }
    if late || f.latest.is_some() {
        let none = pick("尚未报送进展", "no progress reported yet");
        lines.push((
            pick("最新进展", "Latest progress"),
            f.latest.clone().unwrap_or(none),
        ));
    }
    if let Some((author, text)) = &f.instruction {
        lines.push((pick("批示领导", "Instruction by"), author.clone()));
        lines.push((pick("批示内容", "Instruction"), text.clone()));
    }
    if let Some(order) = &f.order {
        lines.push((pick("督办单", "Supervision order"), order.clone()));
    }
    if let Some(d) = f.reply_by {
        lines.push((pick("回复期限", "Reply by"), day(d)));
    }
    if let Some(note) = &f.note {
        lines.push((pick("退回意见", "The office's note"), note.clone()));
    }
    let intro = intro(f, &label, lang);
    let proposal = matches!(f.step.rung(), Some(Step::Accountability(_)));
    let (open, open_link) = if proposal {
        (
            pick("审定入口", "Decide"),
            pick("打开问责建议审定", "Open the proposal to decide"),
        )
    } else {
        (
            pick("办理入口", "Open"),
            pick("打开任务页面办理", "Open the task page"),
        )
    };
    let mut text = format!("{intro}\n\n");
    for (k, v) in &lines {
        text.push_str(&format!("{k}：{v}\n"));
    }
    text.push_str(&format!("{open}：{}\n", f.link));
    let mut html = format!("<p>{}</p>\n<table>\n", encode_text(&intro));
    for (k, v) in &lines {
        html.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>\n",
            encode_text(k),
            encode_text(v)
        ));
    }
    html.push_str("</table>\n");
    html.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p>\n",
        html_escape::encode_double_quoted_attribute(&f.link),
        encode_text(&open_link)
    ));
    (subject, text, html)
}

/// One line of a daily digest.
#[derive(Debug, Clone)]
pub struct DigestLine {
    pub code: String,
    pub title: String,
    pub due_date: NaiveDate,
    pub days_overdue: i64,
}

/// Subject, plain text and HTML of a unit's daily digest of due and overdue tasks.
pub fn digest(
    unit: &str,
    day: NaiveDate,
    lines: &[DigestLine],
    link: &str,
    lang: Lang,
) -> (String, String, String) {
    let overdue = lines.iter().filter(|l| l.days_overdue > 0).count();
    let (subject, intro, head) = match lang {
        Lang::Zh => (
            format!(
                "【督办日报】{unit} {day}：{} 项任务到期或逾期（逾期 {overdue} 项）",
                lines.len()
            ),
            format!("{unit}：以下任务即将到期或已逾期，请抓紧办理。"),
            ["任务编号", "任务", "完成时限", "逾期天数"],
        ),
        Lang::En => (
            format!(
                "[Daily digest] {unit} {day}: {} tasks due or overdue ({overdue} overdue)",
                lines.len()
            ),
            format!("{unit}: these tasks are due soon or overdue."),
            ["Task", "Title", "Due", "Days overdue"],
        ),
    };
    let mut text = format!("{intro}\n\n");
    let mut html = format!("<p>{}</p>\n<table>\n<tr>", encode_text(&intro));
    for h in head {
        html.push_str(&format!("<th align=\"left\">{}</th>", encode_text(h)));
    }
    html.push_str("</tr>\n");
    for l in lines {
        text.push_str(&format!(
            "{}  {}  {}  {}\n",
            l.code, l.title, l.due_date, l.days_overdue
        ));
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            encode_text(&l.code),
            encode_text(&l.title),
            l.due_date,
            l.days_overdue
        ));
    }
    html.push_str("</table>\n");
    text.push_str(&format!("\n{link}\n"));
    html.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p>\n",
        html_escape::encode_double_quoted_attribute(link),
        encode_text(link)
    ));
    (subject, text, html)
}

/// One change in a followed task, as the follower's digest lists it.
#[derive(Debug, Clone)]
pub struct FollowChange {
    /// Local time, e.g. `12-01 09:30`.
    pub when: String,
    /// What happened, in the timeline's words (报告进展, 提交办结…).
    pub what: String,
    pub who: Option<String>,
    pub note: Option<String>,
}

/// A followed task that changed, with its changes oldest first.
#[derive(Debug, Clone)]
pub struct FollowedChanges {
    pub code: String,
    pub title: String,
    pub lead_unit: String,
    /// The task's page in the console, a full URL.
    pub link: String,
    pub changes: Vec<FollowChange>,
}

/// Subject, plain text and HTML of a follower's daily digest: what changed
/// during the last day in the tasks followed and the tasks of the units
/// followed.
pub fn follow_digest(
    person: &str,
    day: NaiveDate,
    tasks: &[FollowedChanges],
    link: &str,
    lang: Lang,
) -> (String, String, String) {
    let n = tasks.len();
    let (subject, intro) = match lang {
        Lang::Zh => (
            format!("【关注日报】{day}：{n} 项关注的任务有新进展"),
            format!("{person}：您关注的任务和单位在过去一天有以下变化。"),
        ),
        Lang::En => (
            format!("[Followed] {day}: {n} followed tasks changed"),
            format!(
                "{person}: what changed during the last day in the tasks and units you follow."
            ),
        ),
    };
    let mut text = format!("{intro}\n");
    let mut html = format!("<p>{}</p>\n", encode_text(&intro));
    for t in tasks {
        text.push_str(&format!("\n{} {}（{}）\n", t.code, t.title, t.lead_unit));
        html.push_str(&format!(
            "<h3><a href=\"{}\">{} {}</a> · {}</h3>\n<ul>\n",
            html_escape::encode_double_quoted_attribute(&t.link),
            encode_text(&t.code),
            encode_text(&t.title),
            encode_text(&t.lead_unit)
        ));
        for c in &t.changes {
            let mut line = format!("{} {}", c.when, c.what);
            if let Some(who) = &c.who {
                line.push_str(&format!(" · {who}"));
            }
            if let Some(note) = &c.note {
                line.push_str(&format!(" · {note}"));
            }
            text.push_str(&format!("  {line}\n"));
            html.push_str(&format!("<li>{}</li>\n", encode_text(&line)));
        }
        text.push_str(&format!("  {}\n", t.link));
        html.push_str("</ul>\n");
    }
    text.push_str(&format!("\n{link}\n"));
    html.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p>\n",
        html_escape::encode_double_quoted_attribute(link),
        encode_text(link)
    ));
    (subject, text, html)
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

/// Subject, plain text and HTML of the letter that carries a published
/// bulletin to a unit; the bulletin itself is attached (printable HTML and
/// the workbook), so each notice row stays small.
pub fn bulletin_notice(letter: &BulletinLetter, lang: Lang) -> (String, String, String) {
    let (subject, text) = bulletin_letter(letter, lang);
    let html = format!(
        "<html><body><p>{}</p></body></html>",
        encode_text(&text)
            .replace("\n\n", "</p><p>")
            .replace('\n', "<br>")
    );
    (subject, text, html)
}

fn bulletin_letter(letter: &BulletinLetter, lang: Lang) -> (String, String) {
    let BulletinLetter {
        number_label,
        title,
        unit_name,
        standing,
        units_ranked,
        rectification,
    } = *letter;
    match lang {
        Lang::Zh => {
            let mut text = format!(
                "{unit_name}：\n\n现将{number_label}《{}》印发给你们，请认真组织学习，抓好贯彻落实。\n\n",
                title
            );
            match standing {
                Some((rank, score)) => text.push_str(&format!(
                    "本期你单位排名第{rank}名（共{}个单位），得分{score:.2}。\n",
                    units_ranked
                )),
                None => text.push_str("本期你单位无到期任务，未参加排名。\n"),
            }
            if let Some((deadline, requirement)) = rectification {
                text.push_str(&format!(
                    "你单位被通报批评，请于{}前完成整改：{}\n",
                    crate::domain::period::zh_date(deadline),
                    requirement
                ));
            }
            text.push_str("\n通报全文见附件（HTML 可直接打印，XLSX 为排名和逾期任务明细）。\n");
            (format!("【督查通报】{number_label} {}", title), text)
        }
        Lang::En => {
            let mut text = format!(
                "To {unit_name}:\n\nPlease find attached supervision bulletin {number_label}, \"{}\".\n\n",
                title
            );
            match standing {
                Some((rank, score)) => text.push_str(&format!(
                    "Your unit ranks {rank} of {} with a score of {score:.2}.\n",
                    units_ranked
                )),
                None => text.push_str("Your unit had nothing due and is not ranked.\n"),
            }
            if let Some((deadline, requirement)) = rectification {
                text.push_str(&format!(
                    "Your unit is criticised; rectify by {}: {}\n",
                    deadline, requirement
                ));
            }
            text.push_str("\nThe bulletin is attached (printable HTML, and XLSX with the ranking and the overdue tasks).\n");
            (
                format!("[Supervision bulletin] {number_label} {}", title),
                text,
            )
        }
    }
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
        let (subject, text, _) = task_notice(&facts("农膜回收"), Lang::Zh);
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
        let (_, _, html) = task_notice(&facts("农膜回收"), Lang::Zh);
        assert!(
            html.contains("<a href=\"http://duban.local/tasks/1\">"),
            "{html}"
        );
        let (subject, _, _) = task_notice(&facts("x"), Lang::En);
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
        let (_, text, _) = task_notice(&reminder, Lang::Zh);
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
        let (_, text, _) = task_notice(&supervise, Lang::Zh);
        assert!(text.starts_with("城关镇负责同志"), "{text}");
        assert!(text.contains("责任领导：王副县长") && text.contains("回复期限"));
        let proposal = TaskFacts {
            step: NoticeStep::Ladder(Step::Accountability(15)),
            days_overdue: 15,
            link: "http://duban.local/accountability/4".into(),
            ..facts("农膜回收")
        };
        let (_, text, html) = task_notice(&proposal, Lang::Zh);
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
        let (subject, text, html) = digest("城关镇", day, &lines, "http://x", Lang::Zh);
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
        let (_, _, html) = task_notice(&facts("<script>alert(1)</script>&"), Lang::Zh);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
    }
}
