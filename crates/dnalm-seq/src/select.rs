//! Choosing records by name: an exact list and/or an anchored regex.

use std::collections::HashSet;

use regex::Regex;

use crate::error::{Result, SeqError};

/// Selects records by exact id and/or by a regex that must match the whole id.
///
/// A record is selected when its id is in the list or matches the regex; a
/// selector with neither selects every record. DNAVec's corpus (chr1..chr22,
/// no X, Y, M or unplaced contigs) is `chr([1-9]|1[0-9]|2[0-2])`.
#[derive(Debug, Clone, Default)]
pub struct RecordSelector {
    names: HashSet<String>,
    regex: Option<Regex>,
    pattern: Option<String>,
}

impl RecordSelector {
    /// A selector that selects every record.
    pub fn all() -> Self {
        Self::default()
    }

    /// Builds a selector from exact names and an optional regex. The regex is
    /// anchored (`^(?:re)$`) so `chr1` does not also select `chr10`.
    pub fn new<I, S>(names: I, regex: Option<&str>) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: HashSet<String> = names.into_iter().map(Into::into).collect();
        if names.iter().any(|n| n.trim().is_empty()) {
            return Err(SeqError::Param(
                "empty record name in the selection list".to_string(),
            ));
        }
        let compiled = match regex {
            None => None,
            Some(re) => Some(Regex::new(&format!("^(?:{re})$")).map_err(|e| {
                // regex errors span several lines with a caret diagram; keep one line.
                let detail = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                SeqError::Param(format!("bad record regex {re:?}: {detail}"))
            })?),
        };
        Ok(Self {
            names,
            regex: compiled,
            pattern: regex.map(str::to_string),
        })
    }

    /// True when the selector has neither names nor a regex (selects all).
    pub fn is_all(&self) -> bool {
        self.names.is_empty() && self.regex.is_none()
    }

    /// True when a record with this id is selected.
    pub fn matches(&self, id: &str) -> bool {
        if self.is_all() {
            return true;
        }
        self.names.contains(id) || self.regex.as_ref().is_some_and(|re| re.is_match(id))
    }

    /// The exact names, sorted (for reports).
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.names.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// The regex as the user gave it, before anchoring.
    pub fn pattern(&self) -> Option<&str> {
        self.pattern.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 12] = [
        "chr1",
        "chr2",
        "chr9",
        "chr10",
        "chr19",
        "chr22",
        "chr23",
        "chrX",
        "chrY",
        "chrM",
        "chr1_KI270706v1_random",
        "chrUn_GL000195v1",
    ];

    fn picked(sel: &RecordSelector) -> Vec<&'static str> {
        IDS.iter().copied().filter(|id| sel.matches(id)).collect()
    }

    #[test]
    fn empty_selector_selects_everything() {
        let sel = RecordSelector::new(Vec::<String>::new(), None).unwrap();
        assert!(sel.is_all());
        assert_eq!(picked(&sel).len(), IDS.len());
        assert!(RecordSelector::all().matches("anything"));
    }

    #[test]
    fn dnavec_regex_selects_autosomes_only() {
        let sel =
            RecordSelector::new(Vec::<String>::new(), Some("chr([1-9]|1[0-9]|2[0-2])")).unwrap();
        assert_eq!(
            picked(&sel),
            ["chr1", "chr2", "chr9", "chr10", "chr19", "chr22"]
        );
        assert_eq!(sel.pattern(), Some("chr([1-9]|1[0-9]|2[0-2])"));
    }

    #[test]
    fn regex_is_anchored_on_both_ends() {
        let sel = RecordSelector::new(Vec::<String>::new(), Some("chr1")).unwrap();
        assert_eq!(picked(&sel), ["chr1"]);
        // An alternation must not escape the anchors.
        let sel = RecordSelector::new(Vec::<String>::new(), Some("chrX|chrY")).unwrap();
        assert_eq!(picked(&sel), ["chrX", "chrY"]);
    }

    #[test]
    fn names_and_regex_combine_as_a_union() {
        let sel = RecordSelector::new(["chrM", "chrX"], Some("chr2[0-9]")).unwrap();
        assert_eq!(picked(&sel), ["chr22", "chr23", "chrX", "chrM"]);
        assert_eq!(sel.names(), ["chrM", "chrX"]);
    }

    #[test]
    fn bad_input_is_a_param_error() {
        let err = RecordSelector::new(Vec::<String>::new(), Some("chr(")).unwrap_err();
        match &err {
            SeqError::Param(msg) => {
                assert!(msg.starts_with("bad record regex \"chr(\""), "{msg}");
                assert!(!msg.contains('\n'), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            RecordSelector::new([""], None),
            Err(SeqError::Param(_))
        ));
    }
}
