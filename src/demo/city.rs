//! The city the speech describes: its townships, the development zone and
//! the departments, the programme's measures with their leads, and the units
//! and accounts the demo creates for them.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::Rng;

use super::{DemoAccount, DemoSummary};
use crate::db::schema::{units, users};
use crate::db::DbConnection;

pub(super) const TOWNSHIPS: [&str; 12] = [
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
pub(super) const DEPARTMENTS: [(&str, &str); 16] = [
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
pub(super) const DEPARTMENT_TASKS: [(&str, &[&str], &str, i32, u32); 20] = [
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
pub(super) const TOWNSHIP_TASKS: [(&str, &str, i32, u32); 4] = [
    ("农村生活垃圾集中收集清运", "D14", -2, 20),
    ("秸秆禁烧和综合利用", "D03", -1, 10),
    ("河道“清四乱”专项整治（河长制）", "D05", -1, 25),
    ("农村户用卫生厕所改造（本镇）", "D03", 1, 15),
];

pub(super) const PARK_TASKS: [(&str, &str, i32, u32); 2] = [
    ("园区企业环保设施提标改造", "D01", -1, 20),
    ("园区污水集中处理设施建设", "D02", 1, 10),
];

/// Indicators reported more often than yearly, with their lead and cooperating units.
pub(super) const REPORTED: [(&str, &str, &[&str], &str); 4] = [
    ("7", "D01", &["D08"], "monthly"),
    ("27", "D05", &["D01"], "monthly"),
    ("29", "D02", &["D05"], "monthly"),
    ("25", "D03", &[], "quarterly"),
];

/// The units created, each with how diligent it is (the chance it finishes
/// on time): some units are diligent, some are not, so the ranking has a spread.
pub(super) struct City {
    pub office: i64,
    /// (id, code, name, diligence)
    pub towns: Vec<(i64, String, String, f64)>,
    pub parks: Vec<(i64, String, String, f64)>,
    /// By department code: (id, diligence).
    pub depts: HashMap<&'static str, (i64, f64)>,
}

impl City {
    pub fn unit_count(&self) -> usize {
        1 + self.towns.len() + self.parks.len() + self.depts.len()
    }

    /// Every unit but the office: (id, code, name).
    fn working_units(&self) -> Vec<(i64, String, String)> {
        self.towns
            .iter()
            .chain(&self.parks)
            .map(|(id, code, name, _)| (*id, code.clone(), name.clone()))
            .chain(
                DEPARTMENTS
                    .iter()
                    .map(|(code, name)| (self.depts[code].0, code.to_string(), name.to_string())),
            )
            .collect()
    }
}

/// The people: the office's account, two leaders, and a clerk per unit.
pub(super) struct People {
    pub office_user: i64,
    pub leaders: [i64; 2],
    /// By unit id.
    pub clerks: HashMap<i64, i64>,
}

fn unit(
    conn: &mut DbConnection,
    (code, name, kind): (&str, &str, &str),
    created_at: NaiveDateTime,
) -> QueryResult<i64> {
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
}

/// The office, `scale` copies of the townships and the zone, the departments.
pub(super) fn units(
    conn: &mut DbConnection,
    scale: u32,
    rng: &mut StdRng,
    created_at: NaiveDateTime,
) -> QueryResult<City> {
    let office = unit(
        conn,
        (
            "OFFICE",
            "市创建国家生态文明建设示范市领导小组办公室",
            "office",
        ),
        created_at,
    )?;
    let mut towns = Vec::new();
    let mut parks = Vec::new();
    for k in 1..=scale {
        for (i, name) in TOWNSHIPS.iter().enumerate() {
            let (code, name) = if k == 1 {
                (format!("T{:02}", i + 1), name.to_string())
            } else {
                (format!("T{k:02}{:02}", i + 1), format!("{name}{k}"))
            };
            let id = unit(conn, (&code, &name, "township"), created_at)?;
            towns.push((id, code, name, rng.gen_range(0.35..0.98)));
        }
        let (code, name) = if k == 1 {
            ("P01".to_string(), "经济技术开发区管委会".to_string())
        } else {
            (format!("P{k:02}"), format!("经济技术开发区管委会{k}"))
        };
        let id = unit(conn, (&code, &name, "park"), created_at)?;
        parks.push((id, code, name, rng.gen_range(0.5..0.95)));
    }
    let mut depts = HashMap::new();
    for (code, name) in DEPARTMENTS {
        let id = unit(conn, (code, name, "department"), created_at)?;
        depts.insert(code, (id, rng.gen_range(0.55..0.98)));
    }
    Ok(City {
        office,
        towns,
        parks,
        depts,
    })
}

/// How the accounts are made: passwords generated and hashed, or one shared.
pub(super) struct Accounts<'a> {
    pub hash: &'a dyn Fn(&str) -> anyhow::Result<String>,
    pub created_at: NaiveDateTime,
}

impl Accounts<'_> {
    /// One account; listed in the summary with its password unless it
    /// shares the synthetic clerks' password.
    fn create(
        &self,
        conn: &mut DbConnection,
        summary: &mut DemoSummary,
        (username, display, role, unit_id, unit_name): (
            String,
            String,
            &'static str,
            Option<i64>,
            String,
        ),
        shared: Option<&(String, String)>,
    ) -> anyhow::Result<i64> {
        let (password, hashed) = match shared {
            Some((p, h)) => (p.clone(), h.clone()),
            None => {
                let p = crate::users::bootstrap::generate_password();
                let h = (self.hash)(&p)?;
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
                users::created_at.eq(self.created_at),
                users::updated_at.eq(self.created_at),
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
    }

    /// The office, two leaders, a viewer (the discipline commission) and a
    /// clerk per unit. The first copy of the city gets its own passwords; the
    /// synthetic copies share one.
    pub fn people(
        &self,
        conn: &mut DbConnection,
        city: &City,
        scale: u32,
        summary: &mut DemoSummary,
    ) -> anyhow::Result<People> {
        let own = |conn: &mut DbConnection,
                   summary: &mut DemoSummary,
                   username: &str,
                   display: &str,
                   role: &'static str,
                   unit: Option<(i64, &str)>| {
            self.create(
                conn,
                summary,
                (
                    username.into(),
                    display.into(),
                    role,
                    unit.map(|u| u.0),
                    unit.map(|u| u.1.to_string()).unwrap_or_default(),
                ),
                None,
            )
        };
        let office_user = own(
            conn,
            summary,
            "office",
            "创建办 王主任",
            "office",
            Some((city.office, "创建办")),
        )?;
        let leader_a = own(conn, summary, "leader-zhang", "张副市长", "leader", None)?;
        let leader_b = own(conn, summary, "leader-li", "李副市长", "leader", None)?;
        own(conn, summary, "jiwei", "市纪委监委", "viewer", None)?;
        let shared = if scale > 1 {
            let p = crate::users::bootstrap::generate_password();
            let h = (self.hash)(&p)?;
            summary.shared_password = Some(p.clone());
            Some((p, h))
        } else {
            None
        };
        let mut clerks = HashMap::new();
        for (id, code, name) in city.working_units() {
            let shared_for = if code.len() == 3 {
                None
            } else {
                shared.as_ref()
            };
            let user = self.create(
                conn,
                summary,
                (
                    format!("clerk-{}", code.to_lowercase()),
                    format!("{name}联络员"),
                    "unit",
                    Some(id),
                    name,
                ),
                shared_for,
            )?;
            clerks.insert(id, user);
        }
        Ok(People {
            office_user,
            leaders: [leader_a, leader_b],
            clerks,
        })
    }
}
