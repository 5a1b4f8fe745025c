//! The rows of a promoter experiment and who uses which: one list of the
//! training, validation and test files' rows, the leak-free group split of
//! it, and the predictors' local numbering. Kept apart from `train` so the
//! experiment there reads as its steps.

use super::loaders::LabelledRow;
use super::split::{group_rows, split_groups};
use super::train::{DataSets, TrainSpec};
use crate::error::{Result, TaskError};

/// Every row of the experiment in one list: the training file, then the
/// validation file, then the test file, with the groups that keep a test
/// row's 50-mers out of training.
pub(super) struct RowTable<'a> {
    pub(super) seqs: Vec<&'a [u8]>,
    pub(super) labels: Vec<u8>,
    pub(super) groups: Vec<usize>,
    pub(super) n_groups: usize,
    pub(super) n_train_file: usize,
    pub(super) n_valid_file: usize,
    pub(super) length: usize,
}

/// Which rows (indices into the [`RowTable`]) do what.
pub(super) struct RowSplit {
    pub(super) finetune: Vec<usize>,
    pub(super) predictor: Vec<usize>,
    pub(super) valid: Vec<usize>,
    pub(super) test: Vec<usize>,
    pub(super) shared_with_test: usize,
}

/// The rows the predictors see, numbered locally: train, then valid, then
/// test.
pub(super) struct LocalRows<'a> {
    pub(super) seqs: Vec<&'a [u8]>,
    pub(super) labels: Vec<u8>,
    pub(super) train: Vec<usize>,
    pub(super) valid: Vec<usize>,
    pub(super) test: Vec<usize>,
    pub(super) valid_labels: Vec<u8>,
    pub(super) test_labels: Vec<u8>,
}

impl<'a> RowTable<'a> {
    pub(super) fn assemble(data: &DataSets<'a>) -> Result<Self> {
        let (train_name, train_rows) = data.train;
        let mut rows: Vec<&LabelledRow> = train_rows.iter().collect();
        let n_train_file = rows.len();
        if n_train_file == 0 {
            return Err(TaskError::Data(format!("{train_name}: no rows")));
        }
        let length = train_rows[0].sequence.len();
        for (name, part) in [data.valid, data.test].into_iter().flatten() {
            if let Some(r) = part.first() {
                if r.sequence.len() != length {
                    return Err(TaskError::Data(format!(
                        "{name}:{}: sequences of {} nt, but {train_name} has {length} nt: \
                         every file needs the training length",
                        r.line,
                        r.sequence.len()
                    )));
                }
            } else {
                return Err(TaskError::Data(format!("{name}: no rows")));
            }
            rows.extend(part.iter());
        }
        let seqs: Vec<&[u8]> = rows.iter().map(|r| r.sequence.as_slice()).collect();
        let explicit: Option<Vec<u64>> = rows.iter().map(|r| r.group).collect();
        let groups = group_rows(&seqs, explicit.as_deref());
        Ok(Self {
            labels: rows.iter().map(|r| r.label).collect(),
            n_groups: groups.iter().max().map_or(0, |m| m + 1),
            groups,
            seqs,
            n_train_file,
            n_valid_file: data.valid.map_or(0, |v| v.1.len()),
            length,
        })
    }

    /// A group split holds out whole groups: one giant group leaves
    /// nothing to train on (or nothing to test).
    fn check_group_sizes(&self, train_name: &str) -> Result<()> {
        let n_train_file = self.n_train_file;
        let mut sizes = vec![0usize; self.n_groups];
        for &g in &self.groups[..n_train_file] {
            sizes[g] += 1;
        }
        let largest = sizes.iter().copied().max().unwrap_or(0);
        if largest * 2 > n_train_file {
            return Err(TaskError::Data(format!(
                "{train_name}: {largest} of its {n_train_file} rows form one group (rows joined by \
                 the group column or by a shared 50-mer on either strand, such as overlapping \
                 genomic windows), so a group split cannot hold out a test or validation part: \
                 give --valid and --test files"
            )));
        }
        Ok(())
    }
}

/// Hold out test, validation and fine-tuning rows by group (or take the
/// given files), and check every part has both classes.
pub(super) fn split_rows(
    table: &RowTable,
    data: &DataSets,
    spec: &TrainSpec,
    has_model: bool,
) -> Result<RowSplit> {
    let train_name = data.train.0;
    if data.test.is_none() || data.valid.is_none() {
        table.check_group_sizes(train_name)?;
    }
    let (groups, n_train_file, n_valid_file) =
        (&table.groups, table.n_train_file, table.n_valid_file);
    let mut train_side: Vec<usize> = (0..n_train_file).collect();
    if spec.max_rows > 0 && spec.max_rows < train_side.len() {
        let f = spec.max_rows as f64 / train_side.len() as f64;
        train_side = split_groups(&train_side, groups, f, dnalm_seq::mix64(spec.seed, 0x5E1)).0;
    }
    let test: Vec<usize> = match data.test {
        Some(_) => (n_train_file + n_valid_file..table.seqs.len()).collect(),
        None => {
            let seed = dnalm_seq::mix64(spec.seed, 0x7E57);
            let (t, rest) = split_groups(&train_side, groups, spec.test_fraction, seed);
            train_side = rest;
            t
        }
    };
    let valid: Vec<usize> = match data.valid {
        Some(_) => (n_train_file..n_train_file + n_valid_file).collect(),
        None => {
            let seed = dnalm_seq::mix64(spec.seed, 0x7A1);
            let (v, rest) = split_groups(&train_side, groups, spec.valid_fraction, seed);
            train_side = rest;
            v
        }
    };
    let test_groups: rustc_hash::FxHashSet<usize> = test.iter().map(|&i| groups[i]).collect();
    let shared_with_test = train_side
        .iter()
        .chain(&valid)
        .filter(|&&i| test_groups.contains(&groups[i]))
        .count();
    let (finetune, predictor) = if has_model {
        split_groups(&train_side, groups, spec.finetune_fraction, spec.seed)
    } else {
        (Vec::new(), train_side)
    };
    let split = RowSplit {
        finetune,
        predictor,
        valid,
        test,
        shared_with_test,
    };
    check_classes(table, &split, data, has_model)?;
    Ok(split)
}

fn check_classes(
    table: &RowTable,
    split: &RowSplit,
    data: &DataSets,
    has_model: bool,
) -> Result<()> {
    let train_name = data.train.0;
    let labels_of = |rows: &[usize]| rows.iter().map(|&i| table.labels[i]).collect::<Vec<_>>();
    both_classes(
        &format!("{train_name} (predictor training rows)"),
        labels_of(&split.predictor).into_iter(),
    )?;
    if has_model {
        both_classes(
            &format!("{train_name} (fine-tuning rows)"),
            labels_of(&split.finetune).into_iter(),
        )?;
    }
    let valid_name = data
        .valid
        .map_or(format!("{train_name} (validation part)"), |v| {
            v.0.to_string()
        });
    let test_name = data
        .test
        .map_or(format!("{train_name} (test part)"), |v| v.0.to_string());
    both_classes(&valid_name, labels_of(&split.valid).into_iter())?;
    both_classes(&test_name, labels_of(&split.test).into_iter())
}

impl<'a> LocalRows<'a> {
    pub(super) fn new(table: &RowTable<'a>, split: &RowSplit) -> Self {
        let (n_pred, n_valid) = (split.predictor.len(), split.valid.len());
        let rows: Vec<usize> = split
            .predictor
            .iter()
            .chain(&split.valid)
            .chain(&split.test)
            .copied()
            .collect();
        let valid: Vec<usize> = (n_pred..n_pred + n_valid).collect();
        let test: Vec<usize> = (n_pred + n_valid..rows.len()).collect();
        let labels: Vec<u8> = rows.iter().map(|&i| table.labels[i]).collect();
        Self {
            seqs: rows.iter().map(|&i| table.seqs[i]).collect(),
            train: (0..n_pred).collect(),
            valid_labels: valid.iter().map(|&i| labels[i]).collect(),
            test_labels: test.iter().map(|&i| labels[i]).collect(),
            labels,
            valid,
            test,
        }
    }
}

fn both_classes(what: &str, labels: impl Iterator<Item = u8>) -> Result<()> {
    let (mut pos, mut n) = (0usize, 0usize);
    for l in labels {
        pos += (l == 1) as usize;
        n += 1;
    }
    if pos == 0 || pos == n {
        return Err(TaskError::Data(format!(
            "{what} has {pos} positives among {n} rows: both classes (labels 0 and 1) are needed"
        )));
    }
    Ok(())
}
