//! A small city for task tests: the office, three units, their clerks, a
//! leader, a viewer and a plan.

use serde_json::{json, Value};

use crate::helpers::{expect_json, TestApp};

pub struct City {
    pub admin: String,
    pub office: String,
    /// Lead unit A's clerk.
    pub clerk_a: String,
    /// Cooperating unit B's clerk.
    pub clerk_b: String,
    /// A foreign unit C's clerk: takes no part in the tasks.
    pub clerk_c: String,
    pub leader: String,
    pub viewer: String,
    pub unit_a: i64,
    pub unit_b: i64,
    pub unit_c: i64,
    pub leader_id: i64,
    pub plan_id: i64,
}

pub async fn build(app: &TestApp) -> City {
    let admin = app.admin_token().await;
    let a = app.create_unit(&admin, "T01", "城关镇").await["id"]
        .as_i64()
        .unwrap();
    let b = app.create_unit(&admin, "D01", "市生态环境局").await["id"]
        .as_i64()
        .unwrap();
    let c = app.create_unit(&admin, "T02", "东城镇").await["id"]
        .as_i64()
        .unwrap();
    let (_, office) = app.create_user(&admin, "office", "office", None).await;
    let (_, clerk_a) = app.create_user(&admin, "clerk-a", "unit", Some(a)).await;
    let (_, clerk_b) = app.create_user(&admin, "clerk-b", "unit", Some(b)).await;
    let (_, clerk_c) = app.create_user(&admin, "clerk-c", "unit", Some(c)).await;
    let (leader_user, leader) = app.create_user(&admin, "leader", "leader", None).await;
    let (_, viewer) = app.create_user(&admin, "viewer", "viewer", None).await;
    let plan = expect_json(
        app.post(
            "/api/v1/plans",
            &office,
            json!({ "title": "创建国家生态文明建设示范市实施方案", "year": 2026 }),
        )
        .await,
        201,
    )
    .await;
    City {
        admin,
        office,
        clerk_a,
        clerk_b,
        clerk_c,
        leader,
        viewer,
        unit_a: a,
        unit_b: b,
        unit_c: c,
        leader_id: leader_user["id"].as_i64().unwrap(),
        plan_id: plan["id"].as_i64().unwrap(),
    }
}

/// A date `days` from today in Asia/Shanghai, as YYYY-MM-DD.
pub fn local_day(days: i64) -> String {
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    (today + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

impl City {
    /// Creates a draft task led by unit A with unit B cooperating; returns it.
    pub async fn task(&self, app: &TestApp, code: &str, due_in_days: i64, extra: Value) -> Value {
        let mut body = json!({
            "plan_id": self.plan_id, "code": code, "title": format!("任务 {code}"),
            "lead_unit_id": self.unit_a, "cooperating_unit_ids": [self.unit_b],
            "responsible_leader_id": self.leader_id, "due_date": local_day(due_in_days),
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        expect_json(app.post("/api/v1/tasks", &self.office, body).await, 201).await
    }

    /// Runs an action; returns the response.
    pub async fn act(
        &self,
        app: &TestApp,
        token: &str,
        task: &Value,
        action: &str,
        note: Option<&str>,
    ) -> reqwest::Response {
        let id = task["id"].as_i64().unwrap();
        let current = expect_json(
            app.get(&format!("/api/v1/tasks/{id}"), &self.office).await,
            200,
        )
        .await;
        app.post(
            &format!("/api/v1/tasks/{id}/{action}"),
            token,
            json!({ "version": current["version"], "note": note }),
        )
        .await
    }

    /// Runs an action that must succeed; returns the task after it.
    pub async fn ok(
        &self,
        app: &TestApp,
        token: &str,
        task: &Value,
        action: &str,
        note: Option<&str>,
    ) -> Value {
        expect_json(self.act(app, token, task, action, note).await, 200).await
    }

    /// A task assigned and signed for, in progress.
    pub async fn in_progress(&self, app: &TestApp, code: &str, due_in_days: i64) -> Value {
        let task = self.task(app, code, due_in_days, json!({})).await;
        self.ok(app, &self.office, &task, "assign", None).await;
        self.ok(app, &self.clerk_a, &task, "accept", None).await
    }
}

/// Uploads `bytes` as evidence; returns the response.
pub async fn upload(
    app: &TestApp,
    token: &str,
    task_id: i64,
    name: &str,
    mime: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(mime)
        .unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    app.client
        .post(app.url(&format!("/api/v1/tasks/{task_id}/attachments")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}
