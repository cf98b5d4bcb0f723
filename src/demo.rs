//! `duban demo`: a living demo city built from the speech — the office, a
//! dozen townships, the development zone, the departments the speech names,
//! an account for each, the programme's tasks (some done on time, some late,
//! some overdue), indicators with reported values, the notices the ladder
//! sent, and two published bulletins. The history is simulated day by day
//! over the last two months, so every bulletin is what the data say.
//!
//! `--scale N` makes the city N times larger (townships, zones, their tasks
//! and clerks) for load and benchmark work. Everything is decided by a seeded
//! random generator: the same seed and `--today` give the same city.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::Settings;
use crate::db::schema::{
    extensions, indicator_values, indicators, notices, plans, progress_reports, task_events, tasks,
    units, users,
};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::{Category, Priority};
use crate::domain::period::Period;
use crate::domain::{PlanId, Role, UnitId, UserId};
use crate::tasks::input::{NewTask, TaskLinks};
use crate::tasks::service::Origin;

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub scale: u32,
    pub seed: u64,
    pub today: NaiveDate,
}

/// An account made for the demo, with its password (printed once).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub role: &'static str,
    pub unit: String,
    pub password: String,
}

#[derive(Debug, Default)]
pub struct DemoSummary {
    pub units: usize,
    pub accounts: Vec<DemoAccount>,
    /// Synthetic clerks beyond the first copy of the city share this password.
    pub shared_password: Option<String>,
    pub tasks: usize,
    pub indicators: usize,
    pub notices: usize,
    pub bulletins: Vec<String>,
}

const TOWNSHIPS: [&str; 12] = [
    "城关镇",
    "东城镇",
    "西城镇",
    "南山镇",
    "北河镇",
    "青石镇",
    "白沙镇",
    "桃源乡",
    "柳林乡",
    "清水镇",
    "红岩镇",
    "金山镇",
];

/// (code, name) of the departments the speech names or implies.
const DEPARTMENTS: [(&str, &str); 16] = [
    ("D01", "市生态环境局"),
    ("D02", "市住房和城乡建设局"),
    ("D03", "市农业农村局"),
    ("D04", "市自然资源局"),
    ("D05", "市水利局"),
    ("D06", "市林业局"),
    ("D07", "市交通运输局"),
    ("D08", "市公安局"),
    ("D09", "市委宣传部"),
    ("D10", "市文化和旅游局"),
    ("D11", "市发展和改革委员会"),
    ("D12", "市工业和信息化局"),
    ("D13", "市财政局"),
    ("D14", "市城市管理局"),
    ("D15", "市卫生健康委员会"),
    ("D16", "市教育局"),
];

/// Department tasks from the speech: (lead, cooperating, title, due month offset, due day).
/// Month offset 0 is the current month, -2 two months ago.
const DEPARTMENT_TASKS: [(&str, &[&str], &str, i32, u32); 20] = [
    (
        "D01",
        &["D11", "D04"],
        "编制《国家生态文明建设示范市规划》并提请市人大常委会审议",
        -2,
        25,
    ),
    ("D01", &["D11", "D12"], "完成燃煤电厂超低排放改造", -1, 30),
    ("D08", &["D07", "D01"], "淘汰黄标车及冒黑烟车辆", -1, 20),
    ("D08", &["D01"], "开展机动车尾气路检路查专项行动", 0, 5),
    (
        "D02",
        &["D14"],
        "全面推行建筑工地湿法作业，整治夜间出土和渣土清运",
        -2,
        15,
    ),
    (
        "D05",
        &["D01"],
        "拆除饮用水水源保护区内污染设施，规范化建设水源地",
        -1,
        15,
    ),
    ("D03", &["D01"], "农膜回收利用率达到80%以上", 0, 10),
    ("D03", &["D01"], "养殖场粪便处理率达到75%以上", -1, 25),
    ("D03", &["D15"], "推进农村户用卫生厕所改造", 1, 20),
    ("D02", &["D05"], "城镇污水处理提质增效", 1, 30),
    ("D06", &["D04"], "实施国土绿化和森林抚育", 2, 15),
    ("D04", &["D01"], "生态保护红线勘界定标", -2, 28),
    (
        "D09",
        &["D10"],
        "在电视台、报纸、网站开设创建工作专题栏目",
        -2,
        10,
    ),
    (
        "D09",
        &["D16"],
        "开展生态文明进机关、进学校、进社区活动",
        0,
        20,
    ),
    ("D07", &[], "提高公共交通出行分担率", 2, 28),
    ("D13", &[], "落实政府绿色采购", 1, 10),
    (
        "D12",
        &["D01"],
        "组织重点企业开展强制性清洁生产审核",
        -1,
        10,
    ),
    ("D10", &["D09"], "建设生态旅游示范点并宣传先进典型", 1, 25),
    ("D14", &["D02"], "推行城镇生活垃圾分类", 0, 25),
    ("D01", &["D09"], "禁止露天烧烤，治理餐饮油烟", -1, 5),
];

/// Every township's own measures: (title, cooperating, due month offset, due day).
const TOWNSHIP_TASKS: [(&str, &str, i32, u32); 4] = [
    ("农村生活垃圾集中收集清运", "D14", -2, 20),
    ("秸秆禁烧和综合利用", "D03", -1, 10),
    ("河道“清四乱”专项整治（河长制）", "D05", -1, 25),
    ("农村户用卫生厕所改造（本镇）", "D03", 1, 15),
];

const PARK_TASKS: [(&str, &str, i32, u32); 2] = [
    ("园区企业环保设施提标改造", "D01", -1, 20),
    ("园区污水集中处理设施建设", "D02", 1, 10),
];

/// Indicators reported more often than yearly, with their lead and cooperating units.
const REPORTED: [(&str, &str, &[&str], &str); 4] = [
    ("7", "D01", &["D08"], "monthly"),
    ("27", "D05", &["D01"], "monthly"),
    ("29", "D02", &["D05"], "monthly"),
    ("25", "D03", &[], "quarterly"),
];

/// The first day of the month `offset` months from `day`'s.
fn month_start(day: NaiveDate, offset: i32) -> NaiveDate {
    let months = day.year() * 12 + day.month0() as i32 + offset;
    NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(day)
}

fn day_in_month(day: NaiveDate, offset: i32, dom: u32) -> NaiveDate {
    let start = month_start(day, offset);
    let last = Period::parse(&format!("{}-{:02}", start.year(), start.month()))
        .map(|p| p.end)
        .unwrap_or(start);
    start.with_day(dom).unwrap_or(last).min(last)
}

/// How a task turned out.
enum Outcome {
    OnTime,
    Late,
    Open,
}

struct Builder<'a> {
    conn: &'a mut DbConnection,
    tz: chrono_tz::Tz,
    rng: StdRng,
    today: NaiveDate,
    start: NaiveDate,
    office_user: i64,
    clerks: std::collections::HashMap<i64, i64>,
}

impl Builder<'_> {
    /// A UTC instant for local `day` at `hour`.
    fn at(&self, day: NaiveDate, hour: u32) -> NaiveDateTime {
        let local = day.and_hms_opt(hour, 0, 0).unwrap_or_default();
        self.tz
            .from_local_datetime(&local)
            .earliest()
            .map_or(local, |t| t.naive_utc())
    }

    fn event(
        &mut self,
        task: i64,
        kind: &str,
        actor: i64,
        unit: Option<i64>,
        note: Option<&str>,
        at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(task_events::table)
            .values((
                task_events::task_id.eq(task),
                task_events::kind.eq(kind),
                task_events::actor_id.eq(actor),
                task_events::unit_id.eq(unit),
                task_events::note.eq(note),
                task_events::created_at.eq(at),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// One task with its history up to today, as `outcome` decides.
    #[allow(clippy::too_many_arguments)]
    fn task(
        &mut self,
        plan: i64,
        code: String,
        title: &str,
        lead: i64,
        coops: &[i64],
        leader: Option<i64>,
        due: NaiveDate,
        diligence: f64,
    ) -> anyhow::Result<i64> {
        let assigned_on = self.start.min(due - Duration::days(5));
        let accepted_on = (assigned_on + Duration::days(self.rng.gen_range(0..4))).min(self.today);
        let roll: f64 = self.rng.gen();
        let outcome = if due >= self.today {
            if roll < diligence * 0.3 {
                Outcome::OnTime
            } else {
                Outcome::Open
            }
        } else if roll < diligence {
            Outcome::OnTime
        } else if roll < diligence + (1.0 - diligence) * 0.5 {
            Outcome::Late
        } else {
            Outcome::Open
        };
        let submitted_on = match outcome {
            Outcome::OnTime => {
                let early = self.rng.gen_range(0..12);
                Some(
                    (due - Duration::days(early))
                        .max(accepted_on)
                        .min(self.today),
                )
            }
            Outcome::Late => {
                let late = (due + Duration::days(self.rng.gen_range(1..20)))
                    .min(self.today - Duration::days(1));
                Some(late.max(due + Duration::days(1)).min(self.today))
            }
            Outcome::Open => None,
        };
        // A submission in the last two days still awaits the office's check.
        let status = match submitted_on {
            Some(d) if d >= self.today - Duration::days(1) => "submitted",
            Some(_) => "completed",
            None => "in_progress",
        };
        let progress = match status {
            "in_progress" => self.rng.gen_range(10..90),
            _ => 100,
        };
        let clerk = self.clerks.get(&lead).copied().unwrap_or(self.office_user);
        let created = self.at(assigned_on, 9);
        let new = NewTask {
            links: TaskLinks {
                plan_id: PlanId(plan),
                parent_id: None,
                lead_unit_id: UnitId(lead),
                cooperating_unit_ids: coops.iter().copied().map(UnitId).collect(),
                responsible_leader_id: leader.map(UserId),
            },
            code,
            title: title.to_string(),
            description: None,
            start_date: Some(assigned_on),
            due_date: Some(due),
            due_in_working_days: None,
            priority: Priority::Normal,
            category: Category::KeyTask,
            evidence_required: false,
            report_day: None,
        };
        let origin = Origin {
            actor: Some(UserId(self.office_user)),
            assigned: true,
            note: None,
        };
        let id = crate::tasks::service::create(self.conn, origin, new, created)
            .map_err(|e| failed("creating a task", e))?
            .id;
        // What happened since, simulated: the unit signed for it and worked on it.
        diesel::update(tasks::table.find(id))
            .set((
                tasks::status.eq(status),
                tasks::progress.eq(progress),
                tasks::accepted_at.eq(self.at(accepted_on, 10)),
                tasks::submitted_at.eq(submitted_on.map(|d| self.at(d, 16))),
                tasks::submitted_on.eq(submitted_on),
                tasks::completed_at.eq((status == "completed")
                    .then(|| self.at(submitted_on.unwrap_or(due) + Duration::days(1), 11))),
            ))
            .execute(self.conn)?;
        let office = self.office_user;
        self.event(
            id,
            "accepted",
            clerk,
            Some(lead),
            None,
            self.at(accepted_on, 10),
        )?;
        let report_on = (accepted_on + Duration::days(7)).min(self.today);
        let reported = self.at(report_on, 15);
        diesel::insert_into(progress_reports::table)
            .values((
                progress_reports::task_id.eq(id),
                progress_reports::unit_id.eq(lead),
                progress_reports::author_id.eq(clerk),
                progress_reports::percent.eq(progress.min(60)),
                progress_reports::body.eq("已制定工作方案，明确责任人和时间节点，正在推进。"),
                progress_reports::created_at.eq(reported),
            ))
            .execute(self.conn)?;
        self.event(
            id,
            "reported",
            clerk,
            Some(lead),
            Some("已制定工作方案，正在推进"),
            reported,
        )?;
        if let Some(d) = submitted_on {
            self.event(
                id,
                "submitted",
                clerk,
                Some(lead),
                Some("已按要求完成"),
                self.at(d, 16),
            )?;
            if status == "completed" {
                self.event(
                    id,
                    "verified",
                    office,
                    None,
                    Some("经核验，完成情况属实"),
                    self.at(d + Duration::days(1), 11),
                )?;
            }
        }
        Ok(id)
    }
}

/// An error of a service the demo calls, as a sentence for the terminal.
fn failed(doing: &str, e: crate::http::problem::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{doing}: {}", e.sentence(crate::domain::message::Lang::En))
}

/// Refuses a database that holds anything but the first admin.
fn check_empty(conn: &mut DbConnection) -> anyhow::Result<()> {
    let units: i64 = units::table.count().get_result(conn)?;
    let plans: i64 = plans::table.count().get_result(conn)?;
    let accounts: i64 = users::table
        .filter(users::role.ne(Role::Admin.as_str()))
        .count()
        .get_result(conn)?;
    anyhow::ensure!(
        units == 0 && plans == 0 && accounts == 0,
        "the database already holds data ({units} units, {plans} plans, {accounts} accounts besides admins); \
         `duban demo` only fills an empty database"
    );
    Ok(())
}

/// Builds the demo city in one transaction: all of it or nothing. `hash`
/// turns a password into its stored hash.
pub fn load(
    conn: &mut DbConnection,
    settings: &Settings,
    options: DemoOptions,
    hash: &dyn Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<DemoSummary> {
    conn.write(|conn| build(conn, settings, options, hash))
}

fn build(
    conn: &mut DbConnection,
    settings: &Settings,
    options: DemoOptions,
    hash: &dyn Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<DemoSummary> {
    check_empty(conn)?;
    let tz = settings.timezone;
    let today = options.today;
    let start = month_start(today, -2);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut summary = DemoSummary::default();
    let created = start - Duration::days(10);
    let created_at = created.and_hms_opt(1, 0, 0).unwrap_or_default();

    // Units.
    let unit = |conn: &mut DbConnection, code: &str, name: &str, kind: &str| -> QueryResult<i64> {
        let email = format!("{}@demo.duban.local", code.to_lowercase());
        diesel::insert_into(units::table)
            .values((
                units::code.eq(code),
                units::name.eq(name),
                units::kind.eq(kind),
                units::contact_emails.eq(serde_json::json!([email]).to_string()),
                units::head_name.eq(format!("{name}主要负责人")),
                units::head_email.eq(format!("head-{}@demo.duban.local", code.to_lowercase())),
                units::created_at.eq(created_at),
                units::updated_at.eq(created_at),
            ))
            .returning(units::id)
            .get_result(conn)
    };
    let office = unit(
        conn,
        "OFFICE",
        "市创建国家生态文明建设示范市领导小组办公室",
        "office",
    )?;
    let mut towns = Vec::new();
    let mut parks = Vec::new();
    for k in 1..=options.scale {
        for (i, name) in TOWNSHIPS.iter().enumerate() {
            let (code, name) = if k == 1 {
                (format!("T{:02}", i + 1), name.to_string())
            } else {
                (format!("T{k:02}{:02}", i + 1), format!("{name}{k}"))
            };
            let id = unit(conn, &code, &name, "township")?;
            // Some townships are diligent, some are not: the ranking has a spread.
            towns.push((id, code, name, rng.gen_range(0.35..0.98)));
        }
        let (code, name) = if k == 1 {
            ("P01".to_string(), "经济技术开发区管委会".to_string())
        } else {
            (format!("P{k:02}"), format!("经济技术开发区管委会{k}"))
        };
        let id = unit(conn, &code, &name, "park")?;
        parks.push((id, code, name, rng.gen_range(0.5..0.95)));
    }
    let mut depts = std::collections::HashMap::new();
    for (code, name) in DEPARTMENTS {
        let id = unit(conn, code, name, "department")?;
        depts.insert(code, (id, rng.gen_range(0.55..0.98)));
    }
    summary.units = 1 + towns.len() + parks.len() + depts.len();

    // Accounts: the office, two leaders, a viewer, a clerk per unit.
    let account = |conn: &mut DbConnection,
                   summary: &mut DemoSummary,
                   (username, display, role, unit_id, unit_name): (
        String,
        String,
        &'static str,
        Option<i64>,
        String,
    ),
                   shared: Option<&(String, String)>|
     -> anyhow::Result<i64> {
        let (password, hashed) = match shared {
            Some((p, h)) => (p.clone(), h.clone()),
            None => {
                let p = crate::users::bootstrap::generate_password();
                let h = hash(&p)?;
                (p, h)
            }
        };
        let id: i64 = diesel::insert_into(users::table)
            .values((
                users::username.eq(&username),
                users::display_name.eq(&display),
                users::email.eq(format!("{username}@demo.duban.local")),
                users::role.eq(role),
                users::unit_id.eq(unit_id),
                users::password_hash.eq(hashed),
                users::created_at.eq(created_at),
                users::updated_at.eq(created_at),
            ))
            .returning(users::id)
            .get_result(conn)?;
        if shared.is_none() {
            summary.accounts.push(DemoAccount {
                username,
                role,
                unit: unit_name,
                password,
            });
        }
        Ok(id)
    };
    let office_user = account(
        conn,
        &mut summary,
        (
            "office".into(),
            "创建办 王主任".into(),
            "office",
            Some(office),
            "创建办".into(),
        ),
        None,
    )?;
    let leader_a = account(
        conn,
        &mut summary,
        (
            "leader-zhang".into(),
            "张副市长".into(),
            "leader",
            None,
            String::new(),
        ),
        None,
    )?;
    let leader_b = account(
        conn,
        &mut summary,
        (
            "leader-li".into(),
            "李副市长".into(),
            "leader",
            None,
            String::new(),
        ),
        None,
    )?;
    account(
        conn,
        &mut summary,
        (
            "jiwei".into(),
            "市纪委监委".into(),
            "viewer",
            None,
            String::new(),
        ),
        None,
    )?;
    let shared = if options.scale > 1 {
        let p = crate::users::bootstrap::generate_password();
        let h = hash(&p)?;
        summary.shared_password = Some(p.clone());
        Some((p, h))
    } else {
        None
    };
    let mut clerks = std::collections::HashMap::new();
    let all_units: Vec<(i64, String, String)> = towns
        .iter()
        .chain(&parks)
        .map(|(id, code, name, _)| (*id, code.clone(), name.clone()))
        .chain(
            DEPARTMENTS
                .iter()
                .map(|(code, name)| (depts[code].0, code.to_string(), name.to_string())),
        )
        .collect();
    for (id, code, name) in &all_units {
        // The first copy of the city gets its own passwords; the synthetic copies share one.
        let shared_for = if code.len() == 3 {
            None
        } else {
            shared.as_ref()
        };
        let user = account(
            conn,
            &mut summary,
            (
                format!("clerk-{}", code.to_lowercase()),
                format!("{name}联络员"),
                "unit",
                Some(*id),
                name.clone(),
            ),
            shared_for,
        )?;
        clerks.insert(*id, user);
    }

    let plan: i64 = diesel::insert_into(plans::table)
        .values((
            plans::title.eq(format!(
                "创建国家生态文明建设示范市实施方案（{}年）",
                today.year()
            )),
            plans::year.eq(today.year()),
            plans::description
                .eq("按照“党委领导、政府负责、部门协同、全民参与”的要求，分解落实创建目标任务。"),
            plans::status.eq("active"),
            plans::created_at.eq(created_at),
            plans::updated_at.eq(created_at),
        ))
        .returning(plans::id)
        .get_result(conn)?;

    let mut b = Builder {
        conn,
        tz,
        rng,
        today,
        start,
        office_user,
        clerks,
    };
    let mut count = 0;
    for k in 1..=options.scale {
        for (i, (lead, coops, title, month, day)) in DEPARTMENT_TASKS.iter().enumerate() {
            let (lead_id, diligence) = depts[lead];
            let coop_ids: Vec<i64> = coops.iter().map(|c| depts[c].0).collect();
            let due = day_in_month(today, *month, *day);
            let leader = if i % 2 == 0 { leader_a } else { leader_b };
            let code = if k == 1 {
                format!("1.{}", i + 1)
            } else {
                format!("1.{}-{k}", i + 1)
            };
            b.task(
                plan,
                code,
                title,
                lead_id,
                &coop_ids,
                Some(leader),
                due,
                diligence,
            )?;
            count += 1;
        }
    }
    for (t, (id, code, name, diligence)) in towns.iter().enumerate() {
        for (i, (title, coop, month, day)) in TOWNSHIP_TASKS.iter().enumerate() {
            // Townships finish within a few days of each other, not all on one day.
            let due = day_in_month(today, *month, *day) + Duration::days((t % 3) as i64);
            let leader = if t % 2 == 0 { leader_a } else { leader_b };
            let title = format!("{name}：{title}");
            b.task(
                plan,
                format!("2.{}.{code}", i + 1),
                &title,
                *id,
                &[depts[coop].0],
                Some(leader),
                due,
                *diligence,
            )?;
            count += 1;
        }
    }
    for (id, code, name, diligence) in &parks {
        for (i, (title, coop, month, day)) in PARK_TASKS.iter().enumerate() {
            let due = day_in_month(today, *month, *day);
            let title = format!("{name}：{title}");
            b.task(
                plan,
                format!("3.{}.{code}", i + 1),
                &title,
                *id,
                &[depts[coop].0],
                Some(leader_a),
                due,
                *diligence,
            )?;
            count += 1;
        }
    }
    // Three departments were granted extensions last month.
    let extended: Vec<(i64, Option<NaiveDate>)> = tasks::table
        .filter(tasks::code.eq_any(["1.2", "1.6", "1.12"]))
        .select((tasks::id, tasks::due_date))
        .load(b.conn)?;
    for (id, due) in extended {
        let Some(due) = due else { continue };
        let old = due - Duration::days(10);
        let decided = b.at((old - Duration::days(3)).min(today), 10);
        diesel::insert_into(extensions::table)
            .values((
                extensions::task_id.eq(id),
                extensions::requested_by.eq(office_user),
                extensions::old_due_date.eq(old),
                extensions::new_due_date.eq(due),
                extensions::reason.eq("受汛期和施工条件影响，申请延期"),
                extensions::status.eq("approved"),
                extensions::decided_by.eq(office_user),
                extensions::decided_at.eq(decided),
                extensions::created_at.eq(decided - Duration::days(2)),
            ))
            .execute(b.conn)?;
        diesel::update(tasks::table.find(id))
            .set(tasks::original_due_date.eq(old))
            .execute(b.conn)?;
    }
    summary.tasks = count;

    // Indicators: the national template, with leads for those reported monthly or quarterly.
    let template = crate::import::read_table(
        include_bytes!("../docs/indicators-template.csv"),
        crate::import::FileKind::Csv,
        &crate::import::Limits::of(settings),
    )
    .map_err(|m| anyhow::anyhow!("{}", m.en))?;
    let imported = crate::indicators::catalogue::import(
        b.conn,
        UserId(office_user),
        &template,
        today,
        b.at(created, 9),
    )
    .map_err(|e| failed("importing the indicator catalogue", e))?;
    summary.indicators = imported.created;
    for (number, lead, coops, frequency) in REPORTED {
        let coop_ids: Vec<i64> = coops.iter().map(|c| depts[c].0).collect();
        let id: i64 = indicators::table
            .filter(indicators::number.eq(number))
            .select(indicators::id)
            .first(b.conn)?;
        diesel::update(indicators::table.find(id))
            .set((
                indicators::lead_unit_id.eq(depts[lead].0),
                indicators::frequency.eq(frequency),
                indicators::report_day.eq(10),
                indicators::reporting_from.eq(start),
            ))
            .execute(b.conn)?;
        for c in coop_ids {
            diesel::insert_into(crate::db::schema::indicator_cooperators::table)
                .values((
                    crate::db::schema::indicator_cooperators::indicator_id.eq(id),
                    crate::db::schema::indicator_cooperators::unit_id.eq(c),
                ))
                .execute(b.conn)?;
        }
        let freq = crate::domain::indicator::Frequency::parse(frequency)
            .map_err(|m| anyhow::anyhow!("{}", m.en))?;
        for (period, due) in crate::domain::indicator::owed_periods(freq, 10, start, today) {
            // Most reports come in on time, some late, one in five not at all.
            let roll: f64 = b.rng.gen();
            let on = if roll < 0.6 {
                due - Duration::days(b.rng.gen_range(0..5))
            } else if roll < 0.8 {
                due + Duration::days(b.rng.gen_range(1..8))
            } else {
                continue;
            };
            if on > today {
                continue;
            }
            let value: f64 = (b.rng.gen_range(70.0..100.0_f64) * 10.0).round() / 10.0;
            diesel::insert_into(indicator_values::table)
                .values((
                    indicator_values::indicator_id.eq(id),
                    indicator_values::period.eq(period.label()),
                    indicator_values::period_start.eq(period.start),
                    indicator_values::period_end.eq(period.end),
                    indicator_values::due_date.eq(due),
                    indicator_values::value.eq(value),
                    indicator_values::status.eq("verified"),
                    indicator_values::submitted_by.eq(b.clerks[&depts[lead].0]),
                    indicator_values::submitted_on.eq(on),
                    indicator_values::submitted_at.eq(b.at(on, 15)),
                    indicator_values::decided_by.eq(office_user),
                    indicator_values::decided_at.eq(b.at(on, 17)),
                ))
                .execute(b.conn)?;
        }
    }

    // The last two months day by day: the scan each morning, and on the 1st
    // the previous month's bulletin, drafted and published by the office.
    let mut day = start;
    while day <= today {
        crate::notices::scan::scan(b.conn, settings, day, b.at(day, 8))?;
        if day.day() == 1 && day > start {
            let period = Period::previous_month(day);
            let clock = Clock {
                now: b.at(day, 10),
                today: day,
                warn_days: settings.yellow_warning_days,
                accept_days: settings.accept_within_days,
                tz,
            };
            // A draft the scheduler made before the demo was loaded (an
            // older duban drafted one for the month before installation) is
            // regenerated from the demo's data instead of refused.
            let draft = match crate::bulletins::find_for_period(b.conn, period)? {
                Some(row) if !row.is_published() => crate::bulletins::regenerate(
                    b.conn,
                    settings,
                    &clock,
                    Some(UserId(office_user)),
                    row.id,
                    None,
                ),
                _ => crate::bulletins::create(
                    b.conn,
                    settings,
                    &clock,
                    Some(UserId(office_user)),
                    period,
                ),
            }
            .map_err(|e| failed(&format!("drafting the bulletin for {}", period.label()), e))?;
            let (published, _) = crate::bulletins::publish::publish(
                b.conn,
                settings,
                &clock,
                Some(UserId(office_user)),
                draft.id,
            )
            .map_err(|e| {
                failed(
                    &format!("publishing the bulletin for {}", period.label()),
                    e,
                )
            })?;
            summary.bulletins.push(format!(
                "{}（{}）",
                published.number_label().unwrap_or_default(),
                period.label_zh()
            ));
            // Half the criticised units finish this bulletin's rectification in
            // time (earlier ones stay as they were: history does not change).
            let rect: Vec<(i64, Option<NaiveDate>, i64)> = tasks::table
                .filter(tasks::category.eq("rectification"))
                .filter(tasks::status.eq("assigned"))
                .filter(tasks::due_date.gt(day))
                .select((tasks::id, tasks::due_date, tasks::lead_unit_id))
                .load(b.conn)?;
            for (i, (id, due, lead)) in rect.into_iter().enumerate() {
                let Some(due) = due else { continue };
                let done = due - Duration::days(2);
                if i % 2 == 1 || done > today {
                    continue;
                }
                diesel::update(tasks::table.find(id))
                    .set((
                        tasks::status.eq("completed"),
                        tasks::progress.eq(100),
                        tasks::accepted_at.eq(b.at(day, 14)),
                        tasks::submitted_on.eq(done),
                        tasks::submitted_at.eq(b.at(done, 16)),
                        tasks::completed_at.eq(b.at(done + Duration::days(1), 10)),
                    ))
                    .execute(b.conn)?;
                let clerk = b.clerks.get(&lead).copied().unwrap_or(office_user);
                b.event(id, "accepted", clerk, Some(lead), None, b.at(day, 14))?;
                b.event(
                    id,
                    "submitted",
                    clerk,
                    Some(lead),
                    Some("已完成整改并书面报告"),
                    b.at(done, 16),
                )?;
                b.event(
                    id,
                    "verified",
                    office_user,
                    None,
                    Some("整改到位"),
                    b.at(done + Duration::days(1), 10),
                )?;
            }
        }
        day += Duration::days(1);
    }
    // What the ladder sent before today went out then; today's wait for the scheduler.
    let today_start = b.at(today, 0);
    diesel::update(
        notices::table
            .filter(notices::created_at.lt(today_start))
            .filter(notices::status.eq("pending")),
    )
    .set((
        notices::status.eq("sent"),
        notices::attempts.eq(1),
        notices::sent_at.eq(notices::created_at.nullable()),
    ))
    .execute(b.conn)?;
    summary.notices =
        usize::try_from(notices::table.count().get_result::<i64>(b.conn)?).unwrap_or(0);
    crate::audit::record_change(
        b.conn,
        None,
        "demo",
        ("database", 0),
        None,
        Some(
            &serde_json::json!({ "scale": options.scale, "seed": options.seed, "today": today,
            "units": summary.units, "tasks": summary.tasks, "notices": summary.notices }),
        ),
        chrono::Utc::now().naive_utc(),
    )?;
    Ok(summary)
}
