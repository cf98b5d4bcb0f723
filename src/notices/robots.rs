//! Group robots: notices posted to a unit's WeCom (企业微信) or DingTalk (钉钉)
//! robot, or to a generic JSON webhook signed with HMAC-SHA256.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::NoticeRow;
use crate::domain::kinds::WebhookKind;
use crate::mail::SendError;

/// A unit's robot as configured.
#[derive(Debug, Clone)]
pub struct Robot {
    pub kind: WebhookKind,
    pub url: String,
    pub secret: Option<String>,
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// The request for `notice`: URL, JSON body and extra headers.
pub fn request(
    robot: &Robot,
    notice: &NoticeRow,
    now_ms: i64,
) -> (String, String, Vec<(String, String)>) {
    let content = format!("{}\n\n{}", notice.subject, notice.body_text);
    match robot.kind {
        WebhookKind::Wecom => (
            robot.url.clone(),
            serde_json::json!({ "msgtype": "text", "text": { "content": content } }).to_string(),
            Vec::new(),
        ),
        WebhookKind::Dingtalk => {
            // DingTalk's signature: base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")).
            let url = match &robot.secret {
                Some(secret) => {
                    let to_sign = format!("{now_ms}\n{secret}");
                    let sign = base64::engine::general_purpose::STANDARD
                        .encode(hmac_sha256(secret.as_bytes(), to_sign.as_bytes()));
                    let sign: String = form_urlencoded::byte_serialize(sign.as_bytes()).collect();
                    let sep = if robot.url.contains('?') { '&' } else { '?' };
                    format!("{}{sep}timestamp={now_ms}&sign={sign}", robot.url)
                }
                None => robot.url.clone(),
            };
            (
                url,
                serde_json::json!({ "msgtype": "text", "text": { "content": content } })
                    .to_string(),
                Vec::new(),
            )
        }
        WebhookKind::Generic => {
            let body = serde_json::json!({
                "notice_id": notice.id, "task_id": notice.task_id, "unit_id": notice.unit_id,
                "step": notice.step, "due_date": notice.due_date, "message_id": notice.message_id,
                "subject": notice.subject, "text": notice.body_text,
            })
            .to_string();
            let mut headers = vec![("X-Duban-Timestamp".to_string(), now_ms.to_string())];
            if let Some(secret) = &robot.secret {
                let sig = hex::encode(hmac_sha256(
                    secret.as_bytes(),
                    format!("{now_ms}.{body}").as_bytes(),
                ));
                headers.push(("X-Duban-Signature".to_string(), format!("sha256={sig}")));
            }
            (robot.url.clone(), body, headers)
        }
    }
}

/// Posts the notice. 2xx (with `errcode` 0 for WeCom and DingTalk) is sent;
/// timeouts, connection failures, 429 and 5xx are retried; other answers are final.
pub fn post(
    client: &reqwest::blocking::Client,
    robot: &Robot,
    notice: &NoticeRow,
    now_ms: i64,
) -> Result<(), SendError> {
    let (url, body, headers) = request(robot, notice, now_ms);
    let mut req = client
        .post(&url)
        .header("Content-Type", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let res = req
        .send()
        .map_err(|e| SendError::Retry(format!("webhook: {e}")))?;
    let status = res.status();
    let text = res.text().unwrap_or_default();
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(SendError::Retry(format!(
            "webhook answered {status}: {text}"
        )));
    }
    if !status.is_success() {
        return Err(SendError::Permanent(format!(
            "webhook answered {status}: {text}"
        )));
    }
    if matches!(robot.kind, WebhookKind::Wecom | WebhookKind::Dingtalk) {
        let errcode = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["errcode"].as_i64())
            .unwrap_or(0);
        // 45009 (WeCom) and 130101 (DingTalk): sending too fast, try later.
        match errcode {
            0 => {}
            45009 | 130101 => return Err(SendError::Retry(format!("robot busy: {text}"))),
            _ => return Err(SendError::Permanent(format!("robot refused: {text}"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::kinds::{Channel, NoticeStatus};
    use crate::domain::ladder::Step;
    use crate::domain::notice_step::NoticeStep;
    use crate::domain::{NoticeId, TaskId, UnitId};

    fn notice() -> NoticeRow {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 7, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        NoticeRow {
            id: NoticeId(7),
            task_id: Some(TaskId(3)),
            unit_id: Some(UnitId(2)),
            step: NoticeStep::Ladder(Step::Chase(1)),
            due_date: chrono::NaiveDate::from_ymd_opt(2026, 6, 30),
            dedupe_key: "k".into(),
            message_id: "<duban-notice-7@x>".into(),
            recipients: "[]".into(),
            subject: "【催办通知】1 任务".into(),
            body_text: "请抓紧办理".into(),
            body_html: String::new(),
            status: NoticeStatus::Pending,
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            last_error: None,
            sent_at: None,
            created_at: at,
            channel: Channel::Webhook,
            bulletin_id: None,
            indicator_id: None,
            period: None,
            instruction_id: None,
            supervision_order_id: None,
        }
    }

    #[test]
    fn dingtalk_signs_the_url_and_generic_signs_the_body() {
        let robot = Robot {
            kind: WebhookKind::Dingtalk,
            url: "https://oapi.example/robot/send?access_token=t".into(),
            secret: Some("SEC1".into()),
        };
        let (url, body, _) = request(&robot, &notice(), 1_700_000_000_000);
        assert!(url.starts_with(
            "https://oapi.example/robot/send?access_token=t&timestamp=1700000000000&sign="
        ));
        assert!(body.contains("\"msgtype\":\"text\"") && body.contains("催办通知"));
        let generic = Robot {
            kind: WebhookKind::Generic,
            url: "http://h/hook".into(),
            secret: Some("k".into()),
        };
        let (_, body, headers) = request(&generic, &notice(), 5);
        let sent: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(sent["notice_id"], 7);
        assert_eq!(sent["task_id"], 3);
        assert_eq!(sent["unit_id"], 2);
        assert_eq!(sent["step"], "chase_1");
        let expected = hex::encode(hmac_sha256(b"k", format!("5.{body}").as_bytes()));
        assert!(headers.contains(&("X-Duban-Signature".into(), format!("sha256={expected}"))));
    }
}
