//! A bulletin's pictures (SVG, drawn with `charts`): the ranking as bars
//! coloured by light, and the city's on-time and completion rates over the
//! published bulletins. The rates of earlier bulletins are read when a
//! draft is made (`history` in the snapshot), so a published bulletin keeps
//! the picture it was published with.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Snapshot;
use crate::charts::kinds::{self, Bar, Series};
use crate::charts::{light_fill, light_legend, light_word, t, words};
use crate::db::schema::bulletins;
use crate::db::DbConnection;
use crate::domain::kinds::BulletinStatus;
use crate::domain::message::Lang;

/// A published bulletin's city-wide rates, for the line over periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PeriodRates {
    /// 2026-11
    pub period: String,
    /// 2026年11月
    pub period_name: String,
    pub on_time_rate: Option<f64>,
    pub completion_rate: Option<f64>,
}

/// The published bulletins for periods ending on or before `up_to`, oldest
/// first, at most the last `limit`: read from the ranking each snapshot
/// keeps (as `rankings::previous_ranks` reads the last one), frozen when it
/// was published.
pub fn published_rates(
    conn: &mut DbConnection,
    up_to: NaiveDate,
    limit: i64,
) -> QueryResult<Vec<PeriodRates>> {
    #[derive(Deserialize)]
    struct Published {
        ranking: PublishedRanking,
    }
    #[derive(Deserialize)]
    struct PublishedRanking {
        period: String,
        period_name: String,
        totals: crate::domain::scoring::Totals,
    }
    let snapshots: Vec<String> = bulletins::table
        .filter(bulletins::status.eq(BulletinStatus::Published))
        .filter(bulletins::period_end.le(up_to))
        .order((bulletins::period_end.desc(), bulletins::id.desc()))
        .limit(limit)
        .select(bulletins::snapshot)
        .load(conn)?;
    Ok(snapshots
        .iter()
        .rev()
        // A snapshot that no longer reads is left out of the picture, not
        // an error: the chart is a summary of what can be read.
        .filter_map(|s| serde_json::from_str::<Published>(s).ok())
        .map(|p| PeriodRates {
            period: p.ranking.period,
            period_name: p.ranking.period_name,
            on_time_rate: p.ranking.totals.on_time_rate,
            completion_rate: p.ranking.totals.completion_rate,
        })
        .collect())
}

/// The bulletin's pictures: the ranking as bars coloured by light (score,
/// best first; units with nothing due are not ranked and not drawn), and
/// the city's on-time and completion rates over `history` (from
/// `published_rates`) with this bulletin's period added when it is not
/// there yet (a draft, or a bulletin being published).
pub fn bulletin_charts(snapshot: &Snapshot, lang: Lang) -> String {
    let history = &snapshot.history;
    let ranking = &snapshot.ranking;
    let bars: Vec<Bar> = ranking
        .ranked
        .iter()
        .map(|r| Bar {
            label: r.unit.name.clone(),
            value: r.score.unwrap_or(0.0),
            fill: light_fill(r.light),
            note: light_word(r.light, lang).into(),
        })
        .collect();
    let ranking_chart = kinds::bars(
        t(
            lang,
            "各单位得分排名（按灯色）",
            "Scores by unit, coloured by light",
        ),
        &bars,
        &light_legend(lang),
        &words(lang, ""),
    );
    let mut points: Vec<PeriodRates> = history.to_vec();
    if !points.iter().any(|p| p.period == ranking.period) {
        points.push(PeriodRates {
            period: ranking.period.clone(),
            period_name: ranking.period_name.clone(),
            on_time_rate: ranking.totals.on_time_rate,
            completion_rate: ranking.totals.completion_rate,
        });
    }
    let periods: Vec<String> = points
        .iter()
        .map(|p| match lang {
            Lang::Zh => p.period_name.clone(),
            Lang::En => p.period.clone(),
        })
        .collect();
    let series = [
        Series {
            name: t(lang, "全市按时完成率", "City on-time rate").into(),
            values: points.iter().map(|p| p.on_time_rate).collect(),
        },
        Series {
            name: t(lang, "全市完成率", "City completion rate").into(),
            values: points.iter().map(|p| p.completion_rate).collect(),
        },
    ];
    let trend = kinds::lines(
        t(
            lang,
            "历期通报全市按时完成率",
            "City on-time rate by bulletin",
        ),
        &periods,
        &series,
        100.0,
        &words(lang, "%"),
    );
    format!("{ranking_chart}\n{trend}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::tests::{d, desc, inside, parse, HOSTILE};
    use crate::domain::traffic::TrafficLight;

    fn row(
        name: &str,
        rank: Option<u32>,
        score: Option<f64>,
        light: Option<TrafficLight>,
    ) -> crate::rankings::RankingRow {
        crate::rankings::RankingRow {
            unit: crate::rankings::UnitRef {
                code: name.into(),
                id: crate::domain::UnitId(1),
                name: name.into(),
                kind: crate::domain::UnitKind::Township,
            },
            figures: crate::domain::scoring::UnitFigures::zero(crate::domain::UnitId(1)),
            completion_rate: None,
            on_time_rate: None,
            average_days_late: None,
            score,
            rank,
            previous_rank: None,
            rank_change: None,
            light,
            criticised: false,
            commended: false,
            tied: false,
        }
    }

    fn snapshot() -> Snapshot {
        let totals = crate::domain::scoring::Totals {
            on_time_rate: Some(62.5),
            completion_rate: Some(75.0),
            ..Default::default()
        };
        Snapshot {
            issuer: "创建办".into(),
            title: "通报".into(),
            foreword: String::new(),
            foreword_edited: false,
            closing: String::new(),
            ranking: crate::rankings::Ranking {
                period: "2026-11".into(),
                period_name: "2026年11月".into(),
                start: d(2026, 11, 1),
                end: d(2026, 11, 30),
                judged_on: d(2026, 12, 1),
                running: false,
                totals,
                ranked: vec![
                    row("城关镇", Some(1), Some(96.5), Some(TrafficLight::Green)),
                    row(HOSTILE, Some(2), Some(71.25), Some(TrafficLight::Red)),
                ],
                unranked: vec![row("西山乡", None, None, None)],
                overdue_tasks: Vec::new(),
                overdue_total: 0,
                previous_bulletin: None,
            },
            rectifications: Vec::new(),
            generated_at: chrono::Utc::now(),
            generated_on: d(2026, 12, 1),
            published_on: None,
            history: Vec::new(),
        }
    }

    #[test]
    fn a_bulletin_draws_its_ranking_by_light_and_the_city_rate_over_the_bulletins() {
        let history = vec![
            PeriodRates {
                period: "2026-10".into(),
                period_name: "2026年10月".into(),
                on_time_rate: Some(50.0),
                completion_rate: Some(80.0),
            },
            // The bulletin itself, once published, is not drawn twice.
            PeriodRates {
                period: "2026-11".into(),
                period_name: "2026年11月".into(),
                on_time_rate: Some(62.5),
                completion_rate: Some(75.0),
            },
        ];
        let html = bulletin_charts(&with(&history), Lang::Zh);
        let (ranking, trend) = html.split_once('\n').unwrap();
        let ranking = parse(ranking);
        inside(&ranking);
        let d = desc(&ranking);
        assert!(d.contains("城关镇：96.5 绿灯"), "{d}");
        assert!(d.contains(&format!("{HOSTILE}：71.25 红灯")), "{d}");
        assert!(
            !d.contains("西山乡"),
            "units with nothing due are not ranked"
        );
        let trend = parse(trend);
        inside(&trend);
        let d = desc(&trend);
        assert_eq!(
            d,
            "2026年10月：全市按时完成率 50%，全市完成率 80%；2026年11月：全市按时完成率 62.5%，全市完成率 75%"
        );
        // A draft: its period comes after the published ones.
        let draft = bulletin_charts(&with(&history[..1]), Lang::En);
        let (_, trend) = draft.split_once('\n').unwrap();
        assert!(desc(&parse(trend))
            .ends_with("2026-11: City on-time rate 62.5%, City completion rate 75%"));
    }

    /// The sample bulletin with `history` as the earlier bulletins' rates.
    fn with(history: &[PeriodRates]) -> Snapshot {
        Snapshot {
            history: history.to_vec(),
            ..snapshot()
        }
    }
}
