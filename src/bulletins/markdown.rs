//! The bulletin as Markdown: the same sections and tables as the printed
//! page, every piece of data escaped with `render::md`.

use std::fmt::Write;

use super::render::{issued_on, number_line, overdue_table, ranking_table, unranked_sentence};
use super::{BulletinRow, Snapshot};
use crate::domain::message::Lang;
use crate::domain::period::zh_date;
use crate::render::{md, md_table, t};

/// The bulletin as Markdown.
pub fn markdown(row: &BulletinRow, s: &Snapshot, lang: Lang) -> String {
    let r = &s.ranking;
    let mut m = String::new();
    let _ = writeln!(m, "# {}\n", md(&s.title));
    let _ = writeln!(
        m,
        "{} · {} · {}\n",
        md(&number_line(row, lang)),
        md(&s.issuer),
        md(&issued_on(s))
    );
    let _ = writeln!(
        m,
        "## {}\n\n{}\n",
        t(lang, "一、总体情况", "1. Overview"),
        md(&s.foreword)
    );
    let _ = writeln!(m, "## {}\n", t(lang, "二、排名情况", "2. Ranking"));
    let (headers, rows) = ranking_table(r, lang);
    md_table(&mut m, &headers, &rows);
    if let Some(sentence) = unranked_sentence(r, lang) {
        let _ = writeln!(m, "\n{}", md(&sentence));
    }
    let _ = writeln!(
        m,
        "\n## {}\n",
        t(lang, "三、逾期未完成任务", "3. Overdue tasks")
    );
    if r.overdue_tasks.is_empty() {
        let _ = writeln!(
            m,
            "{}",
            t(lang, "本期无逾期未完成任务。", "No task is overdue.")
        );
    } else {
        let (headers, rows) = overdue_table(r, lang);
        md_table(&mut m, &headers, &rows);
    }
    let _ = writeln!(
        m,
        "\n## {}\n",
        t(lang, "四、表扬和批评", "4. Commendation and criticism")
    );
    let commended: Vec<String> = r.commended().map(|x| md(&x.unit.name)).collect();
    let criticised: Vec<String> = r.criticised().map(|x| md(&x.unit.name)).collect();
    let none = t(lang, "无", "none").to_string();
    let _ = writeln!(
        m,
        "- {}{}\n- {}{}",
        t(lang, "通报表扬：", "Commended: "),
        if commended.is_empty() {
            none.clone()
        } else {
            commended.join("、")
        },
        t(lang, "通报批评：", "Criticised: "),
        if criticised.is_empty() {
            none
        } else {
            criticised.join("、")
        },
    );
    let _ = writeln!(m, "\n## {}\n", t(lang, "五、整改要求", "5. Rectification"));
    for (i, rect) in s.rectifications.iter().enumerate() {
        let _ = writeln!(
            m,
            "{}. **{}**：{} {}{}",
            i + 1,
            md(&rect.unit_name),
            md(&rect.requirement),
            t(lang, "整改时限：", "Deadline: "),
            md(&zh_date(rect.deadline))
        );
    }
    let _ = writeln!(
        m,
        "\n## {}\n\n{}",
        t(lang, "六、工作要求", "6. Requirements"),
        md(&s.closing)
    );
    m
}
