//! The typed values of settings that are written as text: times of day, the
//! send window's hours, the assessment's grade cuts, the mail transport.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// A local time of day written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay(pub NaiveTime);

impl FromStr for TimeOfDay {
    type Err = String;
    fn from_str(s: &str) -> Result<TimeOfDay, String> {
        NaiveTime::parse_from_str(s.trim(), "%H:%M")
            .map(TimeOfDay)
            .map_err(|_| format!("{s:?} is not a time of day HH:MM"))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

/// The local hours notices may go out, `HH:MM-HH:MM`; empty: any time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hours(pub Option<(NaiveTime, NaiveTime)>);

impl FromStr for Hours {
    type Err = String;
    fn from_str(s: &str) -> Result<Hours, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(Hours(None));
        }
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("{s:?} is not HH:MM-HH:MM"))?;
        let (start, end) = (a.parse::<TimeOfDay>()?.0, b.parse::<TimeOfDay>()?.0);
        if start >= end {
            return Err(format!("{s:?}: the window must start before it ends"));
        }
        Ok(Hours(Some((start, end))))
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((a, b)) => write!(f, "{}-{}", TimeOfDay(a), TimeOfDay(b)),
            None => Ok(()),
        }
    }
}

/// The lowest scores of 优秀, 良好 and 合格, highest first: `90,75,60`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradeCuts(pub [f64; 3]);

impl FromStr for GradeCuts {
    type Err = String;
    fn from_str(s: &str) -> Result<GradeCuts, String> {
        let v: Vec<f64> = s
            .split(',')
            .map(|g| g.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("{s:?} is not three scores like 90,75,60"))?;
        match v[..] {
            [a, b, c] if a >= b && b >= c => Ok(GradeCuts([a, b, c])),
            _ => Err(format!(
                "{s:?}: three descending scores like 90,75,60 are needed"
            )),
        }
    }
}

impl fmt::Display for GradeCuts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c] = self.0;
        write!(f, "{a},{b},{c}")
    }
}

/// A reverse proxy whose forwarding headers are believed: an address
/// (`10.0.0.5`, `::1`) or a network (`10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet(pub ipnet::IpNet);

impl FromStr for ProxyNet {
    type Err = String;
    fn from_str(s: &str) -> Result<ProxyNet, String> {
        let entry = s.trim();
        let parsed = if entry.contains('/') {
            entry.parse::<ipnet::IpNet>().ok().map(|net| net.trunc())
        } else {
            entry
                .parse::<std::net::IpAddr>()
                .ok()
                .map(ipnet::IpNet::from)
        };
        parsed
            .map(ProxyNet)
            .ok_or_else(|| format!("{entry:?} is not an IP address or CIDR network"))
    }
}

impl fmt::Display for ProxyNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How notices are mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// Each message an `.eml` file under `<data_dir>/outbox` (the embedded default).
    File,
    /// An SMTP server (`smtp_url`).
    Smtp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_round_trip() {
        for text in ["08:00", "23:59"] {
            assert_eq!(text.parse::<TimeOfDay>().unwrap().to_string(), text);
        }
        assert_eq!(
            "08:00-20:00".parse::<Hours>().unwrap().to_string(),
            "08:00-20:00"
        );
        assert_eq!("".parse::<Hours>().unwrap(), Hours(None));
        assert_eq!(
            "90,75,60".parse::<GradeCuts>().unwrap().to_string(),
            "90,75,60"
        );
    }

    #[test]
    fn bad_texts_are_refused() {
        assert!("8".parse::<TimeOfDay>().is_err());
        assert!("25:00".parse::<TimeOfDay>().is_err());
        assert!("20:00-08:00".parse::<Hours>().is_err());
        assert!("08:00".parse::<Hours>().is_err());
        assert!("60,75,90".parse::<GradeCuts>().is_err());
        assert!("90,75".parse::<GradeCuts>().is_err());
    }
}
