//! The closed sets that describe records: a plan's and a task's standing, a
//! notice's channel and state, an accountability record's level, an indicator's
//! kind… Each is named once here and stored by name (`db::sql_types`), sent by
//! name in JSON, and parsed with a message listing the allowed names. Sets
//! that carry a rule live with their rule (`task_state::TaskStatus`,
//! `indicator::Frequency`, `calendar::DayKind`).

crate::closed_set! {
    /// Where evidence files are kept.
    pub enum StorageKind ("存储方式", "storage") {
        /// By content hash under `<data_dir>/attachments`.
        Fs = "fs",
        /// In the database (instances sharing one PostgreSQL).
        Db = "db",
    }
}

crate::closed_set! {
    /// A plan's standing (实施方案).
    pub enum PlanStatus ("状态", "status") {
        Draft = "draft",
        Active = "active",
        Closed = "closed",
    }
}

crate::closed_set! {
    /// How urgent a task is.
    pub enum Priority ("优先级", "priority") {
        High = "high",
        Normal = "normal",
        Low = "low",
    }
}

crate::closed_set! {
    /// What kind of work a task is.
    pub enum Category ("类别", "category") {
        /// A key task of the plan (重点任务).
        KeyTask = "key_task",
        /// Made from an assessment indicator.
        Indicator = "indicator",
        /// Rectification required by a published bulletin (整改).
        Rectification = "rectification",
    }
}

crate::closed_set! {
    /// Where an extension request stands (延期申请).
    pub enum ExtensionStatus ("状态", "status") {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

crate::closed_set! {
    /// Where a notice stands in the outbox.
    pub enum NoticeStatus ("状态", "status") {
        Pending = "pending",
        Sending = "sending",
        Sent = "sent",
        Dead = "dead",
        Cancelled = "cancelled",
    }
}

crate::closed_set! {
    /// How a notice travels.
    pub enum Channel ("通道", "channel") {
        Email = "email",
        /// A unit's group robot (WeCom, DingTalk, generic webhook).
        Webhook = "webhook",
    }
}

crate::closed_set! {
    /// The kind of group robot a unit has.
    pub enum WebhookKind ("机器人类型", "webhook_kind") {
        Wecom = "wecom",
        Dingtalk = "dingtalk",
        Generic = "generic",
    }
}

crate::closed_set! {
    /// How a unit takes its notices.
    pub enum NoticeMode ("通知方式", "notice_mode") {
        /// One email per notice.
        PerTask = "per_task",
        /// One email a day listing its due and overdue work.
        Digest = "digest",
    }
}

crate::closed_set! {
    /// The weight of an accountability record, lightest first.
    pub enum AccountabilityLevel ("问责方式", "level") {
        Reminder = "reminder",
        Chase = "chase",
        SupervisionOrder = "supervision_order",
        /// 通报批评
        PublicCriticism = "public_criticism",
        /// 约谈
        AdmonitoryTalk = "admonitory_talk",
        /// 问责
        Accountability = "accountability",
    }
}

crate::closed_set! {
    /// Where an accountability record came from.
    pub enum RecordSource ("来源", "source") {
        /// The last rung of the escalation ladder.
        Ladder = "ladder",
        /// A published bulletin's criticism.
        Bulletin = "bulletin",
        /// Recorded by the office directly.
        Office = "office",
    }
}

crate::closed_set! {
    /// Where an accountability record stands.
    pub enum RecordStatus ("状态", "status") {
        /// Proposed by the ladder or a bulletin; the office decides.
        Proposed = "proposed",
        Confirmed = "confirmed",
        Dismissed = "dismissed",
    }
}

crate::closed_set! {
    /// A bulletin's standing.
    pub enum BulletinStatus ("状态", "status") {
        Draft = "draft",
        /// Frozen, numbered and sent.
        Published = "published",
    }
}

crate::closed_set! {
    /// The six domains of the national indicator system.
    pub enum IndicatorDomain ("领域", "domain") {
        System = "生态制度",
        Security = "生态安全",
        Space = "生态空间",
        Economy = "生态经济",
        Life = "生态生活",
        Culture = "生态文化",
    }
}

crate::closed_set! {
    /// Whether an indicator binds (约束性) or guides (参考性).
    pub enum IndicatorKind ("指标属性", "kind") {
        Binding = "binding",
        Reference = "reference",
    }
}

crate::closed_set! {
    /// A unit's statement on a qualitative target.
    pub enum Qualitative ("是否达标", "qualitative") {
        Met = "met",
        NotMet = "not_met",
    }
}

crate::closed_set! {
    /// Where a reported indicator value stands.
    pub enum ValueStatus ("状态", "status") {
        /// Reported, waiting for the office.
        Submitted = "submitted",
        Verified = "verified",
        /// Returned for correction.
        Returned = "returned",
    }
}
