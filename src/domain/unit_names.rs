//! Unit names as people write them in task tables: splitting a cell that lists
//! several units, reading group words (各乡镇) and finding the unit a written
//! name means.

use super::unit_kind::UnitKind;

/// Characters that separate unit names in one cell.
const SEPARATORS: &[char] = &['、', ',', '，', ';', '；', '/', '／', '\n', '\r'];

/// Administrative prefixes that people leave out when the level is obvious:
/// in a city's table "生态环境局" is the city's 市生态环境局.
const LEVEL_PREFIXES: &[char] = &['市', '县', '区', '州', '省'];

/// Suffixes that name the same body with or without them: "XX镇" is
/// "XX镇人民政府", "XX县政府" is "XX县人民政府". Longest first.
const GOVERNMENT_SUFFIXES: &[&str] = &["人民政府", "政府"];

/// Splits a cell such as "市发展改革委、市财政局\n市生态环境局" into names,
/// trimmed, with empty parts dropped. Separators inside brackets do not split,
/// so "各县（市、区）人民政府" stays one name. Duplicates are kept: two
/// spellings may name one unit, so callers de-duplicate the matched ids.
pub fn split_units(cell: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in cell.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && SEPARATORS.contains(&c) {
            push_trimmed(&mut names, &current);
            current.clear();
        } else {
            current.push(c);
        }
    }
    push_trimmed(&mut names, &current);
    names
}

fn push_trimmed(names: &mut Vec<String>, part: &str) {
    let part = part.trim();
    if !part.is_empty() {
        names.push(part.to_string());
    }
}

/// What a group word in a unit cell ("各乡镇", "各部门") stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupWord {
    /// Every active unit of this kind.
    Kind(UnitKind),
    /// Words such as 各有关单位 that do not say which units are meant: the
    /// office must name them.
    Vague,
}

/// Group words for every unit of one kind, compared once brackets (with
/// what they hold) and a trailing 人民政府/政府 are removed, so
/// "各县（市、区）人民政府" is "各县". There is no county kind: a city's
/// counties and districts are entered as townships-level units, so 各县区
/// means the townships (docs/tasks.md says so).
const KIND_WORDS: &[(&str, UnitKind)] = &[
    ("各乡镇", UnitKind::Township),
    ("各镇", UnitKind::Township),
    ("各乡", UnitKind::Township),
    ("各街道", UnitKind::Township),
    ("各乡镇街道", UnitKind::Township),
    ("各镇街", UnitKind::Township),
    ("各县区", UnitKind::Township),
    ("各县市区", UnitKind::Township),
    ("各县", UnitKind::Township),
    ("各区", UnitKind::Township),
    ("各园区", UnitKind::Park),
    ("各工业园区", UnitKind::Park),
    ("各园区管委会", UnitKind::Park),
    ("各工业园区管委会", UnitKind::Park),
    ("各开发区", UnitKind::Park),
    ("各部门", UnitKind::Department),
    ("各市直部门", UnitKind::Department),
    ("各市直单位", UnitKind::Department),
];

/// Reads a written name as a group word. Names that start like a group
/// (各…, 有关…, 相关…, 其他…) but name no kind, such as 各有关单位 or
/// 相关部门, are `Vague`; ordinary unit names give `None`.
pub fn group_word(name: &str) -> Option<GroupWord> {
    let bare = without_brackets(&normalise(name));
    let bare = without_government(&bare);
    if let Some((_, kind)) = KIND_WORDS.iter().find(|(w, _)| *w == bare) {
        return Some(GroupWord::Kind(*kind));
    }
    ["各", "有关", "相关", "其他", "其它"]
        .iter()
        .any(|p| bare.starts_with(p))
        .then_some(GroupWord::Vague)
}

/// What to tell the office when a cell holds a vague group word.
pub fn vague_group_message(name: &str) -> super::Message {
    super::Message::owned(
        format!("“{name}”没有说明是哪些单位，请写出单位名称（多个单位用“、”分隔）"),
        format!("{name:?} does not say which units; name them (separate several with 、)"),
    )
}

/// The name with every bracketed part, brackets included, removed.
fn without_brackets(name: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::new();
    for c in name.chars() {
        match c {
            '(' | '（' => depth += 1,
            ')' | '）' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// A unit as the matcher sees it; borrowed from whatever the caller loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitRef<'a> {
    pub id: i64,
    pub code: &'a str,
    pub name: &'a str,
    /// Other names the unit goes by (别名).
    pub aliases: &'a [String],
}

/// The outcome of looking a written name up among the units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitMatch {
    Found(i64),
    NotFound,
    /// Several units fit equally well (their ids, in the order given); the
    /// person must write the name in full or use the code.
    Ambiguous(Vec<i64>),
}

impl UnitMatch {
    /// The unit id when exactly one unit matched.
    pub fn id(&self) -> Option<i64> {
        match self {
            UnitMatch::Found(id) => Some(*id),
            UnitMatch::NotFound | UnitMatch::Ambiguous(_) => None,
        }
    }

    /// The unit id, or what to tell the person who wrote `name`.
    pub fn into_result(self, name: &str) -> Result<i64, super::Message> {
        match self {
            UnitMatch::Found(id) => Ok(id),
            UnitMatch::NotFound => Err(super::Message::owned(
                format!("找不到单位“{name}”"),
                format!("no unit named {name:?}"),
            )),
            UnitMatch::Ambiguous(_) => Err(super::Message::owned(
                format!("单位“{name}”可能指多个单位，请写全称或代码"),
                format!("{name:?} could be several units; use the full name or the code"),
            )),
        }
    }
}

/// Finds the unit a written name means. Tried in order, the first step that
/// finds anything decides:
///
/// 1. the unit code, ignoring case (`zf-hb` is `ZF-HB`);
/// 2. the exact name;
/// 3. an alias (别名: 经开区管委会 for 经济技术开发区管委会);
/// 4. a short form: equal once a leading 市/县/区/州/省 is removed from one of
///    the two names (`生态环境局` ↔ `市生态环境局`), and once a trailing
///    人民政府/政府 is removed from both (`XX镇` ↔ `XX镇人民政府`).
///
/// Whitespace (also full-width) is ignored and full-width letters and digits
/// count as their ASCII forms throughout. A prefix is removed from one side
/// only, so `县生态环境局` never matches `市生态环境局`: they are different
/// bodies. More than one unit at the deciding step gives `Ambiguous`.
pub fn match_unit(wanted: &str, units: &[UnitRef<'_>]) -> UnitMatch {
    let wanted = normalise(wanted);
    if wanted.is_empty() {
        return UnitMatch::NotFound;
    }
    let steps: [&dyn Fn(&UnitRef<'_>) -> bool; 4] = [
        &|u| normalise(u.code).eq_ignore_ascii_case(&wanted),
        &|u| normalise(u.name) == wanted,
        &|u| u.aliases.iter().any(|a| normalise(a) == wanted),
        &|u| short_forms_match(&wanted, &normalise(u.name)),
    ];
    for step in steps {
        let ids: Vec<i64> = units.iter().filter(|u| step(u)).map(|u| u.id).collect();
        match ids.as_slice() {
            [] => continue,
            [id] => return UnitMatch::Found(*id),
            _ => return UnitMatch::Ambiguous(ids),
        }
    }
    UnitMatch::NotFound
}

/// Whitespace removed, full-width ASCII made half-width.
fn normalise(s: &str) -> String {
    super::text::compact(s)
}

fn short_forms_match(a: &str, b: &str) -> bool {
    let (a, b) = (without_government(a), without_government(b));
    a == b || without_level(a) == Some(b) || without_level(b) == Some(a)
}

/// The name without a trailing 人民政府/政府, unless nothing would be left.
fn without_government(name: &str) -> &str {
    GOVERNMENT_SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(name)
}

/// The name without its leading level prefix, if it has one and something is
/// left after it.
fn without_level(name: &str) -> Option<&str> {
    name.strip_prefix(LEVEL_PREFIXES)
        .filter(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn units() -> Vec<UnitRef<'static>> {
        vec![
            UnitRef {
                id: 1,
                code: "ZF-HB",
                name: "市生态环境局",
                aliases: &[],
            },
            UnitRef {
                id: 2,
                code: "ZF-CZ",
                name: "市财政局",
                aliases: &[],
            },
            UnitRef {
                id: 3,
                code: "ZF-SCJG",
                name: "市市场监督管理局",
                aliases: &[],
            },
            UnitRef {
                id: 4,
                code: "XZ-DS",
                name: "东山镇人民政府",
                aliases: &[],
            },
            UnitRef {
                id: 5,
                code: "XZ-XS",
                name: "西山镇",
                aliases: &[],
            },
            UnitRef {
                id: 6,
                code: "ZF-ZJ",
                name: "市住房和城乡建设局",
                aliases: &[],
            },
            UnitRef {
                id: 7,
                code: "QX-ZJ",
                name: "县住房和城乡建设局",
                aliases: &[],
            },
            UnitRef {
                id: 8,
                code: "ZF-BGS",
                name: "市政府办公室",
                aliases: &[],
            },
        ]
    }

    fn find(wanted: &str) -> UnitMatch {
        match_unit(wanted, &units())
    }

    #[test]
    fn splits_on_every_separator() {
        let cell = "市发展改革委、市财政局,市生态环境局，市教育局;市公安局；市民政局/市司法局\n市交通运输局\r\n市水利局";
        assert_eq!(
            split_units(cell),
            [
                "市发展改革委",
                "市财政局",
                "市生态环境局",
                "市教育局",
                "市公安局",
                "市民政局",
                "市司法局",
                "市交通运输局",
                "市水利局"
            ]
        );
    }

    #[test]
    fn split_trims_and_drops_empty_parts() {
        assert_eq!(
            split_units("  市财政局 、、 市教育局、\u{3000}"),
            ["市财政局", "市教育局"]
        );
        assert!(split_units("").is_empty());
        assert!(split_units(" 、, ;\n").is_empty());
        assert_eq!(split_units("市财政局、市财政局"), ["市财政局", "市财政局"]);
    }

    #[test]
    fn split_keeps_bracketed_lists_together() {
        assert_eq!(
            split_units("各县（市、区）人民政府、市财政局"),
            ["各县（市、区）人民政府", "市财政局"]
        );
        assert_eq!(
            split_units("各镇(街道,园区)、市财政局"),
            ["各镇(街道,园区)", "市财政局"]
        );
        // An unbalanced bracket does not swallow the rest for ever.
        assert_eq!(split_units("a)、b"), ["a)", "b"]);
    }

    #[test]
    fn matches_codes_ignoring_case() {
        assert_eq!(find("ZF-HB"), UnitMatch::Found(1));
        assert_eq!(find(" zf-hb "), UnitMatch::Found(1));
        assert_eq!(find("ＺＦ－ＨＢ"), UnitMatch::Found(1));
    }

    #[test]
    fn matches_exact_names() {
        assert_eq!(find("市财政局"), UnitMatch::Found(2));
        assert_eq!(find("市 财政局"), UnitMatch::Found(2));
        assert_eq!(find("市住房和城乡建设局"), UnitMatch::Found(6));
        assert_eq!(find("县住房和城乡建设局"), UnitMatch::Found(7));
    }

    #[test]
    fn matches_short_forms() {
        assert_eq!(find("生态环境局"), UnitMatch::Found(1));
        assert_eq!(find("财政局"), UnitMatch::Found(2));
        // 市场… starts with 市; the full name has a second 市 in front.
        assert_eq!(find("市场监督管理局"), UnitMatch::Found(3));
        assert_eq!(find("东山镇"), UnitMatch::Found(4));
        assert_eq!(find("东山镇政府"), UnitMatch::Found(4));
        assert_eq!(find("西山镇人民政府"), UnitMatch::Found(5));
        assert_eq!(find("政府办公室"), UnitMatch::Found(8));

        let only_short = [UnitRef {
            id: 9,
            code: "X",
            name: "生态环境局",
            aliases: &[],
        }];
        assert_eq!(match_unit("市生态环境局", &only_short), UnitMatch::Found(9));
    }

    #[test]
    fn short_forms_that_fit_several_units_are_ambiguous() {
        assert_eq!(find("住房和城乡建设局"), UnitMatch::Ambiguous(vec![6, 7]));
        assert_eq!(find("住房和城乡建设局").id(), None);
    }

    #[test]
    fn different_levels_do_not_match() {
        let city_only = [UnitRef {
            id: 1,
            code: "A",
            name: "市生态环境局",
            aliases: &[],
        }];
        assert_eq!(match_unit("县生态环境局", &city_only), UnitMatch::NotFound);
        assert_eq!(match_unit("区生态环境局", &city_only), UnitMatch::NotFound);
    }

    #[test]
    fn unknown_and_empty_names_are_not_found() {
        assert_eq!(find("市教育局"), UnitMatch::NotFound);
        assert_eq!(find(""), UnitMatch::NotFound);
        assert_eq!(find("  "), UnitMatch::NotFound);
        assert_eq!(find("市"), UnitMatch::NotFound);
        assert_eq!(find("政府"), UnitMatch::NotFound);
        assert_eq!(find("人民政府"), UnitMatch::NotFound);
    }

    #[test]
    fn exact_matches_win_over_short_forms() {
        let both = [
            UnitRef {
                id: 1,
                code: "A",
                name: "生态环境局",
                aliases: &[],
            },
            UnitRef {
                id: 2,
                code: "B",
                name: "市生态环境局",
                aliases: &[],
            },
        ];
        assert_eq!(match_unit("生态环境局", &both), UnitMatch::Found(1));
        assert_eq!(match_unit("市生态环境局", &both), UnitMatch::Found(2));
        // A code wins over a name that happens to be spelled the same.
        let clash = [
            UnitRef {
                id: 1,
                code: "X1",
                name: "B2",
                aliases: &[],
            },
            UnitRef {
                id: 2,
                code: "B2",
                name: "X1",
                aliases: &[],
            },
        ];
        assert_eq!(match_unit("b2", &clash), UnitMatch::Found(2));
    }

    #[test]
    fn found_has_an_id() {
        assert_eq!(UnitMatch::Found(3).id(), Some(3));
        assert_eq!(UnitMatch::NotFound.id(), None);
    }

    #[test]
    fn aliases_match_after_names_and_before_short_forms() {
        let aliases = ["经开区管委会".to_string(), "开发区".to_string()];
        let other = ["环保局".to_string()];
        let units = [
            UnitRef {
                id: 1,
                code: "P01",
                name: "经济技术开发区管委会",
                aliases: &aliases,
            },
            UnitRef {
                id: 2,
                code: "D01",
                name: "市生态环境局",
                aliases: &other,
            },
        ];
        assert_eq!(match_unit("经开区管委会", &units), UnitMatch::Found(1));
        assert_eq!(match_unit(" 经开区 管委会 ", &units), UnitMatch::Found(1));
        assert_eq!(match_unit("环保局", &units), UnitMatch::Found(2));
        assert_eq!(match_unit("生态环境局", &units), UnitMatch::Found(2));
        assert_eq!(match_unit("经开区", &units), UnitMatch::NotFound);
    }

    #[test]
    fn group_words_name_a_kind() {
        let kind = |w: &str| group_word(w);
        assert_eq!(kind("各乡镇"), Some(GroupWord::Kind(UnitKind::Township)));
        assert_eq!(
            kind(" 各乡镇（街道） "),
            Some(GroupWord::Kind(UnitKind::Township))
        );
        assert_eq!(
            kind("各县（市、区）人民政府"),
            Some(GroupWord::Kind(UnitKind::Township))
        );
        assert_eq!(kind("各县区"), Some(GroupWord::Kind(UnitKind::Township)));
        assert_eq!(kind("各园区"), Some(GroupWord::Kind(UnitKind::Park)));
        assert_eq!(
            kind("各工业园区管委会"),
            Some(GroupWord::Kind(UnitKind::Park))
        );
        assert_eq!(kind("各部门"), Some(GroupWord::Kind(UnitKind::Department)));
        assert_eq!(kind("各有关单位"), Some(GroupWord::Vague));
        assert_eq!(kind("相关部门"), Some(GroupWord::Vague));
        assert_eq!(kind("其他有关单位"), Some(GroupWord::Vague));
        assert_eq!(kind("市生态环境局"), None);
        assert_eq!(kind("东山镇"), None);
        assert_eq!(kind(""), None);
        let m = vague_group_message("各有关单位");
        assert!(m.zh.contains("请写出单位名称"), "{}", m.zh);
        assert!(m.en.contains("name them"), "{}", m.en);
    }

    fn name() -> impl Strategy<Value = String> {
        "[市县区]?[一-龥]{2,8}(局|委|办|镇|镇人民政府)"
    }

    fn separator() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["、", ",", "，", ";", "；", "/", "\n", "\r\n", " 、 "])
    }

    proptest! {
        #[test]
        fn joined_names_split_back(names in prop::collection::vec(name(), 0..8), sep in separator()) {
            let cell = names.join(sep);
            prop_assert_eq!(split_units(&cell), names);
        }

        #[test]
        fn split_parts_are_trimmed_and_non_empty(cell in "\\PC{0,60}") {
            for part in split_units(&cell) {
                prop_assert!(!part.is_empty());
                prop_assert_eq!(part.trim(), part.as_str());
            }
        }

        #[test]
        fn every_unit_is_found_by_its_code_and_its_name(
            names in prop::collection::btree_set(name(), 1..12),
        ) {
            let codes: Vec<String> = (0..names.len()).map(|i| format!("U{i}")).collect();
            let units: Vec<UnitRef<'_>> = names
                .iter()
                .zip(&codes)
                .enumerate()
                .map(|(i, (name, code))| UnitRef { id: i as i64, code, name, aliases: &[] })
                .collect();
            for unit in &units {
                prop_assert_eq!(match_unit(unit.name, &units), UnitMatch::Found(unit.id));
                prop_assert_eq!(match_unit(&unit.code.to_lowercase(), &units), UnitMatch::Found(unit.id));
            }
        }

        #[test]
        fn a_match_is_one_of_the_units(wanted in "\\PC{0,12}", names in prop::collection::vec(name(), 0..8)) {
            let units: Vec<UnitRef<'_>> = names
                .iter()
                .enumerate()
                .map(|(i, name)| UnitRef { id: i as i64, code: "C", name, aliases: &[] })
                .collect();
            match match_unit(&wanted, &units) {
                UnitMatch::Found(id) => prop_assert!(units.iter().any(|u| u.id == id)),
                UnitMatch::Ambiguous(ids) => prop_assert!(ids.len() >= 2),
                UnitMatch::NotFound => {}
            }
        }

        #[test]
        fn every_alias_finds_its_unit(
            names in prop::collection::btree_set(name(), 2..8),
            alias in "[一-龥]{2,6}别名",
        ) {
            let names: Vec<&String> = names.iter().collect();
            let aliases = [alias.clone()];
            let units: Vec<UnitRef<'_>> = names
                .iter()
                .enumerate()
                .map(|(i, name)| UnitRef {
                    id: i as i64,
                    code: "C",
                    name,
                    aliases: if i == 1 { &aliases } else { &[] },
                })
                .collect();
            prop_assert_eq!(match_unit(&alias, &units), UnitMatch::Found(1));
        }

        #[test]
        fn ordinary_unit_names_are_not_group_words(name in name()) {
            prop_assume!(!name.starts_with(['各', '有', '相', '其']));
            prop_assert_eq!(group_word(&name), None);
        }

        #[test]
        fn group_words_survive_brackets_and_spaces(inner in "[一-龥、]{0,6}", pad in " {0,2}") {
            let written = format!("{pad}各乡镇（{inner}）{pad}");
            prop_assert_eq!(group_word(&written), Some(GroupWord::Kind(UnitKind::Township)));
        }

        #[test]
        fn a_prefixed_name_is_found_by_its_short_form(core in "[一-龥]{2,8}局", prefix in "[市县区州省]") {
            let full = format!("{prefix}{core}");
            let units = [UnitRef { id: 7, code: "C", name: &full , aliases: &[]}];
            prop_assert_eq!(match_unit(&core, &units), UnitMatch::Found(7));
        }
    }
}
