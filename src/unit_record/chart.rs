//! A unit's record over the published bulletins as a picture (SVG, drawn
//! with `charts`): its score in each, coloured by its light, its rank
//! written after the score.

use super::BulletinStanding;
use crate::charts::kinds::{self, Bar};
use crate::charts::{light_fill, light_legend, light_word, t, words};
use crate::domain::message::Lang;

/// A unit's record over the published bulletins: its score in each, the
/// bar coloured by its light, its rank written after the score. `standings`
/// as `unit_record::record` gives them (newest first); drawn oldest first.
pub fn chart(standings: &[BulletinStanding], lang: Lang) -> String {
    let bars: Vec<Bar> = standings
        .iter()
        .rev()
        .map(|s| {
            let rank = match s.rank {
                Some(r) => match lang {
                    Lang::Zh => format!("第{r}名"),
                    Lang::En => format!("rank {r}"),
                },
                None => t(lang, "未排名", "unranked").into(),
            };
            Bar {
                label: s.number_label.clone().unwrap_or_else(|| s.period.clone()),
                value: s.score.unwrap_or(0.0),
                fill: light_fill(s.light),
                note: format!("{rank} {}", light_word(s.light, lang)),
            }
        })
        .collect();
    kinds::bars(
        t(
            lang,
            "历期通报得分与名次",
            "Score and rank in each bulletin",
        ),
        &bars,
        &light_legend(lang),
        &words(lang, ""),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::tests::{desc, inside, parse};
    use crate::domain::traffic::TrafficLight;

    fn standing(
        period: &str,
        rank: Option<u32>,
        score: Option<f64>,
        light: Option<TrafficLight>,
    ) -> BulletinStanding {
        BulletinStanding {
            bulletin_id: crate::domain::BulletinId(1),
            period: period.into(),
            number_label: Some(format!("{period}期")),
            rank,
            score,
            light,
            criticised: false,
            commended: false,
        }
    }

    #[test]
    fn a_units_record_shows_score_rank_and_light_oldest_first() {
        let standings = [
            standing("2026-11", Some(3), Some(91.25), Some(TrafficLight::Green)),
            standing("2026-10", Some(9), Some(60.0), Some(TrafficLight::Red)),
        ];
        let svg = chart(&standings, Lang::Zh);
        let elements = parse(&svg);
        inside(&elements);
        let d = desc(&elements);
        assert!(
            d.contains("2026-10期：60 第9名 红灯；2026-11期：91.25 第3名 绿灯"),
            "{d}"
        );
        let en = chart(&standings, Lang::En);
        assert!(desc(&parse(&en)).contains("rank 3 green"));
    }
}
