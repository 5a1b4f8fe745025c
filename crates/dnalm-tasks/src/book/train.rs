//! Training a book model end to end (SPEC section 4, the published recipe
//! on a CPU scale): the joint tokenizer over DNA fragments and English, a
//! GPT-2 pre-trained on the mix, the `<p_end>` stage on English whose
//! paragraph breaks are `<p_end>` and whose full stops are removed, and the
//! transfer step (sentence pairs in English, tested on DNA pairs; see
//! [`super::pairs`]). Held-out numbers are measured on the way: English
//! perplexity on the held-out novel (or paragraphs), DNA perplexity on
//! held-out fragments, pair accuracies with and without the English
//! fine-tuning. Every random choice follows from the seed.

use std::path::Path;

use burn::module::Module;
use burn::tensor::ElementConversion;
use dnalm_book::{
    read_fragments, BookLm, BookTokenizer, EnglishCorpus, EnglishSplit, FRAGMENT_LEN,
};
use dnalm_model::{Device, Gpt2Config, Gpt2LmHeadModel, IGNORE_LABEL};
use dnalm_train::causal::{eval_causal, pad_rows, train_causal, CausalConfig, CausalEval};
use dnalm_train::shard::backward_sharded;
use dnalm_train::{AdamW, GradBuffer, LinearSchedule, TrainError};
use rand::{Rng, SeedableRng};

pub use super::config::BookTrainConfig;
use super::folder::{save_book_model, BookMeta};
use super::lm::GptBookLm;
use super::pairs::{dna_pairs, english_pairs, pair_ids, sentences, TextPair};
use super::report::{write_reports, TrainReport};
use super::tokenizer::JointTokenizer;
use crate::{Result, TaskError};

/// What the pipeline tells its caller as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum BookEvent {
    /// A training stage starts with this many updates.
    Stage { name: &'static str, total: u64 },
    /// One update of the current stage.
    Step {
        name: &'static str,
        step: u64,
        loss: f64,
    },
    /// A line worth logging.
    Note(String),
}

/// Pack consecutive token sequences into rows of at most `context` tokens
/// (a sequence longer than that is a row of its own; training cuts windows).
fn pack(seqs: &[Vec<u32>], context: usize) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut cur: Vec<u32> = Vec::new();
    for s in seqs.iter().filter(|s| !s.is_empty()) {
        if !cur.is_empty() && cur.len() + s.len() > context {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend_from_slice(s);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// English for the `<p_end>` stage: full stops dropped, `<p_end>` after
/// every paragraph.
fn pend_form(paragraphs: &[Vec<u32>], full_stop: u32, p_end: u32) -> Vec<Vec<u32>> {
    paragraphs
        .iter()
        .map(|p| {
            let mut v: Vec<u32> = p.iter().copied().filter(|&t| t != full_stop).collect();
            v.push(p_end);
            v
        })
        .collect()
}

/// A seeded tenth of `n` items held out (at least one of each part when n >= 2).
fn held_mask(n: usize, seed: u64) -> Vec<bool> {
    let mut held: Vec<bool> = (0..n)
        .map(|i| dnalm_seq::mix64(seed, i as u64).is_multiple_of(10))
        .collect();
    if n >= 2 {
        if !held.iter().any(|&h| h) {
            held[n - 1] = true;
        }
        if held.iter().all(|&h| h) {
            held[0] = false;
        }
    }
    held
}

fn causal_cfg(cfg: &BookTrainConfig, steps: u64, lr: f64, seed: u64) -> CausalConfig {
    CausalConfig {
        lr,
        warmup_steps: (steps / 10).max(1).min(steps.saturating_sub(1)),
        steps,
        batch_size: cfg.batch_size,
        context: cfg.context,
        shards: cfg.shards,
        seed,
        ..CausalConfig::default()
    }
}

/// Next-token training on the answer token only: each row of `seqs` ends
/// with its answer.
#[allow(clippy::too_many_arguments)]
fn train_answers(
    mut model: Gpt2LmHeadModel,
    seqs: &[Vec<u32>],
    cfg: &BookTrainConfig,
    pad_id: u32,
    device: &Device,
    on_step: &mut dyn FnMut(u64, f64, f64),
) -> Result<Gpt2LmHeadModel> {
    let steps = cfg.transfer_steps;
    let schedule = LinearSchedule::new(
        cfg.tune_lr,
        (steps / 10).max(1).min(steps.saturating_sub(1)),
        steps,
    )?;
    let mut opt = AdamW::new(CausalConfig::default().adamw)?;
    for step in 0..steps {
        let mut rng =
            rand_chacha::ChaCha8Rng::seed_from_u64(dnalm_seq::mix64(cfg.seed ^ 0x7A15, step));
        let rows: Vec<&[u32]> = (0..cfg.batch_size)
            .map(|_| seqs[rng.random_range(0..seqs.len())].as_slice())
            .collect();
        let batch = pad_rows(&rows, pad_id);
        model.check_input(&batch)?;
        let t = batch.seq_len;
        let mut labels = vec![IGNORE_LABEL; rows.len() * t];
        for (r, row) in rows.iter().enumerate() {
            labels[r * t + row.len() - 1] = row[row.len() - 1] as i64;
        }
        let n = rows.len() as f64;
        let mut grads = GradBuffer::default();
        let parts = backward_sharded(
            &model,
            &batch,
            cfg.shards,
            dnalm_seq::mix64(cfg.seed ^ 0xD209, step),
            device,
            &mut grads,
            |r| r.len() as f64 / n,
            |m, db, r| {
                let out = m
                    .lm_loss(db, &labels[r.start * t..r.end * t])
                    .map_err(TrainError::Model)?;
                let loss: f64 = out.loss.clone().into_scalar::<f32>().elem();
                Ok((out.loss, loss * r.len() as f64 / n))
            },
        )?;
        let loss: f64 = parts.iter().sum();
        if !loss.is_finite() {
            return Err(TrainError::Diverged { step, loss }.into());
        }
        let lr = schedule.lr_at(step);
        let (m, _) = opt.step(model, grads, lr, Some(1.0));
        model = m;
        on_step(step + 1, loss, lr);
    }
    Ok(model)
}

/// Share of `pairs` the model answers right: the logit of `same` against
/// that of `different` after `a <eot> b <eot>`.
pub fn pair_accuracy(
    lm: &GptBookLm,
    tok: &JointTokenizer,
    pairs: &[TextPair],
    answers: (u32, u32),
    dna: bool,
) -> Result<f64> {
    if pairs.is_empty() {
        return Err(TaskError::Config("no pairs to test".into()));
    }
    let side = (lm.context_len() - 2) / 2;
    let enc = |s: &str| -> Result<Vec<u32>> {
        if dna {
            Ok(tok.encode_dna(s.as_bytes())?.iter().map(|t| t.id).collect())
        } else {
            Ok(tok.encode_text(s)?)
        }
    };
    let mut seqs = Vec::with_capacity(pairs.len());
    for p in pairs {
        seqs.push(pair_ids(
            &enc(&p.a)?,
            &enc(&p.b)?,
            tok.end_of_text_id(),
            side,
            None,
        ));
    }
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let logits = lm.last_logits(&refs)?;
    let right = logits
        .iter()
        .zip(pairs)
        .filter(|(l, p)| (l[answers.0 as usize] > l[answers.1 as usize]) == p.same)
        .count();
    Ok(right as f64 / pairs.len() as f64)
}

/// The first token of an English word, as an answer id.
fn answer_id(tok: &JointTokenizer, word: &str) -> Result<u32> {
    tok.encode_english(&[word.to_string()])?
        .remove(0)
        .first()
        .copied()
        .ok_or_else(|| TaskError::Data(format!("the tokenizer gives no token for {word:?}")))
}

/// Train a book model on `english` and the genome FASTA at `genome`, and
/// write its folder to `out` (see [`super::folder`]) with the loss curves
/// and the report.
pub fn train_book_model(
    english: &EnglishCorpus,
    genome: &Path,
    out: &Path,
    cfg: &BookTrainConfig,
    on: &mut dyn FnMut(BookEvent),
) -> Result<TrainReport> {
    let mut report = TrainReport::default();
    let data = BookData::read(english, genome, cfg)?;
    data.describe(&mut report, on);
    let tok = train_tokenizer(&data, cfg, &mut report, on)?;
    let ids = BookIds::encode(&tok, &data, cfg, &mut report)?;
    let config = Gpt2Config::preset(&cfg.preset, Some(tok.vocab_size()))?;
    if cfg.context > config.n_positions || cfg.context < 8 {
        return Err(TaskError::Config(format!(
            "context {} must be in 8..={} (the {} preset's positions)",
            cfg.context, config.n_positions, cfg.preset
        )));
    }
    let device = dnalm_model::device(dnalm_model::Backend::Cpu)?.autodiff();
    let mut run = Stages {
        cfg,
        pad: tok.pad_id(),
        plain: device.clone().inner(),
        device,
        losses: Vec::new(),
        on,
    };
    let base = pretrain_stage(&mut run, &config, &ids, &mut report)?;
    let pend = pend_stage(&mut run, &tok, &ids, &base, &mut report)?;
    let transfer = pair_stages(&mut run, &tok, &data, &base, &mut report)?;

    let mut meta = BookMeta::for_tokenizer(&tok, cfg.seed);
    meta.training = report.to_json(cfg, &english.path, genome);
    save_book_model(
        out,
        &tok,
        &config,
        &base.valid(),
        &pend.valid(),
        transfer.as_ref(),
        &meta,
    )?;
    report.losses = run
        .losses
        .into_iter()
        .map(|(s, step, loss, lr)| (s.to_string(), step, loss, lr))
        .collect();
    write_reports(out, &report)?;
    Ok(report)
}

/// The English paragraphs and DNA fragments, each split into training and
/// held-out parts.
struct BookData<'a> {
    english: &'a EnglishCorpus,
    split: EnglishSplit,
    dna_train: Vec<String>,
    dna_held: Vec<String>,
}

impl<'a> BookData<'a> {
    fn read(english: &'a EnglishCorpus, genome: &Path, cfg: &BookTrainConfig) -> Result<Self> {
        let split = english.split(cfg.seed);
        if split.train.is_empty() || split.held_out.is_empty() {
            return Err(TaskError::Data(format!(
                "{}: {} paragraph(s): too few to hold some out for the evaluation",
                english.path.display(),
                english.n_paragraphs()
            )));
        }
        let frags: Vec<String> = read_fragments(genome, &FRAGMENT_LEN, cfg.seed)?
            .into_iter()
            .map(|f| f.seq)
            .collect();
        let held = held_mask(frags.len(), cfg.seed ^ 0xD7A);
        let (mut dna_train, mut dna_held) = (Vec::new(), Vec::new());
        for (f, h) in frags.into_iter().zip(held) {
            if h { &mut dna_held } else { &mut dna_train }.push(f);
        }
        if dna_held.is_empty() {
            return Err(TaskError::Data(format!(
                "{}: one DNA fragment only: too little DNA to hold some out",
                genome.display()
            )));
        }
        if cfg.max_dna_fragments > 0 && dna_train.len() > cfg.max_dna_fragments {
            dna_train = dnalm_seq::reservoir_sample(dna_train, cfg.max_dna_fragments, cfg.seed);
        }
        Ok(Self {
            english,
            split,
            dna_train,
            dna_held,
        })
    }

    fn describe(&self, report: &mut TrainReport, on: &mut dyn FnMut(BookEvent)) {
        let split = &self.split;
        report.note("english_held_out_rule", &split.rule);
        report.count("english_paragraphs_train", split.train.len());
        report.count("english_paragraphs_held_out", split.held_out.len());
        report.count("dna_fragments_train", self.dna_train.len());
        report.count("dna_fragments_held_out", self.dna_held.len());
        on(BookEvent::Note(format!(
            "{} English paragraphs ({} held out: {}), {} DNA fragments ({} held out)",
            split.train.len(),
            split.held_out.len(),
            split.rule,
            self.dna_train.len(),
            self.dna_held.len()
        )));
    }
}

/// The joint tokenizer over the training DNA and English.
fn train_tokenizer(
    data: &BookData,
    cfg: &BookTrainConfig,
    report: &mut TrainReport,
    on: &mut dyn FnMut(BookEvent),
) -> Result<JointTokenizer> {
    let tok = JointTokenizer::train(&data.dna_train, &data.split.train, cfg.vocab_size)?;
    let dna_words = (0..tok.vocab_size() as u32)
        .filter(|&i| dnalm_book::model::is_dna_word(tok.token(i).unwrap_or("")))
        .count();
    let english_words = (0..tok.vocab_size() as u32)
        .filter(|&i| dnalm_book::model::is_english_word(tok.token(i).unwrap_or("")))
        .count();
    report.count("vocab_size", tok.vocab_size());
    report.count("vocab_dna_words", dna_words);
    report.count("vocab_english_words", english_words);
    on(BookEvent::Note(format!(
        "tokenizer: {} tokens, {dna_words} DNA words, {english_words} English words",
        tok.vocab_size()
    )));
    Ok(tok)
}

/// The data as token ids.
struct BookIds {
    /// English training paragraphs and held-out paragraphs.
    en: Vec<Vec<u32>>,
    en_held: Vec<Vec<u32>>,
    dna_held: Vec<Vec<u32>>,
    /// The pre-training rows: DNA fragments, then packed English.
    mix: Vec<Vec<u32>>,
}

impl BookIds {
    fn encode(
        tok: &JointTokenizer,
        data: &BookData,
        cfg: &BookTrainConfig,
        report: &mut TrainReport,
    ) -> Result<Self> {
        let dna_refs: Vec<&str> = data.dna_train.iter().map(String::as_str).collect();
        let dna_ids = tok.encode_raw(&dna_refs)?;
        let held_refs: Vec<&str> = data.dna_held.iter().map(String::as_str).collect();
        let dna_held = tok.encode_raw(&held_refs)?;
        let en = tok.encode_english(&data.split.train)?;
        let en_held = tok.encode_english(&data.split.held_out)?;
        let en_rows = pack(&en, cfg.context);
        let mut mix = dna_ids.clone();
        mix.extend(en_rows.iter().cloned());
        let dna_tokens: usize = dna_ids.iter().map(Vec::len).sum();
        let en_tokens: usize = en.iter().map(Vec::len).sum();
        report.count("pretrain_dna_tokens", dna_tokens);
        report.count("pretrain_english_tokens", en_tokens);
        Ok(Self {
            en,
            en_held,
            dna_held,
            mix,
        })
    }
}

/// What every training stage shares: the settings, the devices, the loss
/// log and the caller's events.
struct Stages<'a> {
    cfg: &'a BookTrainConfig,
    pad: u32,
    device: Device,
    /// The inner (no autodiff) device, for evaluation.
    plain: Device,
    losses: Vec<(&'static str, u64, f64, f64)>,
    on: &'a mut dyn FnMut(BookEvent),
}

impl Stages<'_> {
    /// Windows of `context` tokens, at most `eval_windows` of them.
    fn cap(&self, rows: Vec<Vec<u32>>) -> Vec<Vec<u32>> {
        let mut windows: Vec<Vec<u32>> = rows
            .iter()
            .flat_map(|r| r.chunks(self.cfg.context).map(<[u32]>::to_vec))
            .collect();
        windows.truncate(self.cfg.eval_windows.max(1));
        windows
    }

    fn eval(&self, m: &Gpt2LmHeadModel, rows: &[Vec<u32>]) -> Result<CausalEval> {
        let cfg = self.cfg;
        Ok(eval_causal(
            &m.clone().valid(),
            rows,
            cfg.context,
            cfg.batch_size,
            self.pad,
            &self.plain,
        )?)
    }

    fn plain_lm(&self, m: &Gpt2LmHeadModel) -> GptBookLm {
        GptBookLm::new(m.clone().valid(), self.plain.clone(), self.pad)
    }

    fn start(&mut self, name: &'static str, total: u64) {
        (self.on)(BookEvent::Stage { name, total });
    }

    /// Log one update of stage `name`.
    fn step(&mut self, name: &'static str, step: u64, loss: f64, lr: f64) {
        self.losses.push((name, step, loss, lr));
        (self.on)(BookEvent::Step { name, step, loss });
    }

    /// Next-token training of `model` on `rows` as stage `name`.
    fn train(
        &mut self,
        name: &'static str,
        model: Gpt2LmHeadModel,
        rows: &[Vec<u32>],
        causal: &CausalConfig,
    ) -> Result<Gpt2LmHeadModel> {
        let device = self.device.clone();
        let pad = self.pad;
        let (trained, _) = train_causal(model, rows, causal, pad, &device, &mut |s| {
            self.step(name, s.step, s.loss, s.lr)
        })?;
        Ok(trained)
    }
}

/// Pre-train a seeded GPT-2 on the DNA + English mix.
fn pretrain_stage(
    run: &mut Stages,
    config: &Gpt2Config,
    ids: &BookIds,
    report: &mut TrainReport,
) -> Result<Gpt2LmHeadModel> {
    let cfg = run.cfg;
    let en_held_rows = run.cap(pack(&ids.en_held, cfg.context));
    let dna_held_rows = run.cap(ids.dna_held.clone());
    let model = dnalm_model::seeded(cfg.seed, || Gpt2LmHeadModel::new(config, &run.device));
    report.eval(
        "untrained_english_held_out",
        &run.eval(&model, &en_held_rows)?,
    );
    run.start("pretrain", cfg.steps);
    let causal = causal_cfg(cfg, cfg.steps, cfg.lr, cfg.seed);
    let base = run.train("pretrain", model, &ids.mix, &causal)?;
    report.eval("base_english_held_out", &run.eval(&base, &en_held_rows)?);
    report.eval("base_dna_held_out", &run.eval(&base, &dna_held_rows)?);
    Ok(base)
}

/// The `<p_end>` stage: English whose paragraph breaks are `<p_end>` and
/// whose full stops are removed.
fn pend_stage(
    run: &mut Stages,
    tok: &JointTokenizer,
    ids: &BookIds,
    base: &Gpt2LmHeadModel,
    report: &mut TrainReport,
) -> Result<Gpt2LmHeadModel> {
    let cfg = run.cfg;
    let dna_held_rows = run.cap(ids.dna_held.clone());
    let (stop, p_end) = (tok.full_stop_id(), tok.p_end_id());
    let pend_rows = pack(&pend_form(&ids.en, stop, p_end), cfg.context);
    let pend_held = run.cap(pack(&pend_form(&ids.en_held, stop, p_end), cfg.context));
    report.eval("base_pend_english_held_out", &run.eval(base, &pend_held)?);
    run.start("p_end", cfg.pend_steps);
    let pend = if cfg.pend_steps == 0 {
        base.clone()
    } else {
        let causal = causal_cfg(cfg, cfg.pend_steps, cfg.tune_lr, cfg.seed ^ 0x9E4D);
        run.train("p_end", base.clone(), &pend_rows, &causal)?
    };
    report.eval("pend_pend_english_held_out", &run.eval(&pend, &pend_held)?);
    report.eval("pend_dna_held_out", &run.eval(&pend, &dna_held_rows)?);
    Ok(pend)
}

/// Sentence-pair accuracies of the base model and, with transfer steps,
/// of the model fine-tuned on English pairs (returned).
fn pair_stages(
    run: &mut Stages,
    tok: &JointTokenizer,
    data: &BookData,
    base: &Gpt2LmHeadModel,
    report: &mut TrainReport,
) -> Result<Option<Gpt2LmHeadModel>> {
    let cfg = run.cfg;
    let answers = (answer_id(tok, "same")?, answer_id(tok, "different")?);
    if answers.0 == answers.1 {
        return Err(TaskError::Data(
            "\"same\" and \"different\" start with the same token: no answer to learn".into(),
        ));
    }
    let test_en = english_pairs(
        &sentences(&data.split.held_out, 4..=30),
        cfg.test_pairs,
        0.15,
        cfg.seed ^ 0xE1,
    );
    let test_dna = dna_pairs(
        &data.dna_held,
        cfg.test_pairs,
        100..=200,
        0.1,
        cfg.seed ^ 0xD1,
    );
    let accuracy = |lm: &GptBookLm, pairs: &[TextPair], dna: bool| -> Result<Option<f64>> {
        if pairs.is_empty() {
            return Ok(None);
        }
        pair_accuracy(lm, tok, pairs, answers, dna).map(Some)
    };
    let base_lm = run.plain_lm(base);
    report.accuracy("base_english_pairs", accuracy(&base_lm, &test_en, false)?);
    report.accuracy("base_dna_pairs", accuracy(&base_lm, &test_dna, true)?);
    let transfer = if cfg.transfer_steps > 0 {
        let t = transfer_stage(run, tok, data, base, answers, report)?;
        let lm = run.plain_lm(&t);
        report.accuracy("transfer_english_pairs", accuracy(&lm, &test_en, false)?);
        report.accuracy("transfer_dna_pairs", accuracy(&lm, &test_dna, true)?);
        Some(t.valid())
    } else {
        None
    };
    report.count("test_pairs_english", test_en.len());
    report.count("test_pairs_dna", test_dna.len());
    Ok(transfer)
}

/// Fine-tune on English sentence pairs to answer `same` or `different`.
fn transfer_stage(
    run: &mut Stages,
    tok: &JointTokenizer,
    data: &BookData,
    base: &Gpt2LmHeadModel,
    answers: (u32, u32),
    report: &mut TrainReport,
) -> Result<Gpt2LmHeadModel> {
    let cfg = run.cfg;
    let side = (cfg.context - 3) / 2;
    let train_sent = sentences(&data.split.train, 4..=30);
    let pairs = english_pairs(
        &train_sent,
        (cfg.transfer_steps as usize * cfg.batch_size).max(2),
        0.15,
        cfg.seed ^ 0x7A,
    );
    if pairs.is_empty() {
        return Err(TaskError::Data(format!(
            "{}: fewer than two sentences of 4..30 words in the training text: no sentence pairs",
            data.english.path.display()
        )));
    }
    report.count("transfer_train_pairs", pairs.len());
    let seqs: Vec<Vec<u32>> = pairs
        .iter()
        .map(|p| -> Result<Vec<u32>> {
            let a = tok.encode_text(&p.a)?;
            let b = tok.encode_text(&p.b)?;
            let answer = if p.same { answers.0 } else { answers.1 };
            Ok(pair_ids(&a, &b, tok.end_of_text_id(), side, Some(answer)))
        })
        .collect::<Result<_>>()?;
    run.start("transfer", cfg.transfer_steps);
    let device = run.device.clone();
    let pad = run.pad;
    train_answers(
        base.clone(),
        &seqs,
        cfg,
        pad,
        &device,
        &mut |step, loss, lr| run.step("transfer", step, loss, lr),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_and_the_pend_form() {
        let seqs = vec![vec![1, 2], vec![3, 4, 5], vec![], vec![6; 7], vec![8]];
        assert_eq!(
            pack(&seqs, 5),
            vec![vec![1, 2, 3, 4, 5], vec![6; 7], vec![8]]
        );
        assert_eq!(
            pend_form(&[vec![4, 9, 5, 9], vec![9]], 9, 2),
            vec![vec![4, 5, 2], vec![2]]
        );
        let m = held_mask(50, 3);
        assert!(m.iter().any(|&h| h) && !m.iter().all(|&h| h));
        assert_eq!(held_mask(2, 3).iter().filter(|&&h| h).count(), 1);
    }

    #[test]
    fn a_few_steps_make_a_folder_that_loads() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("g.fa");
        let g = dnalm_seq::synth::demo_genome(&dnalm_seq::synth::DemoGenome {
            records: 2,
            record_len: 15_000,
            seed: 2,
        });
        std::fs::write(&fa, dnalm_seq::synth::to_fasta(&g, 60)).unwrap();
        let txt = dir.path().join("en.txt");
        let text: String = (0..80)
            .map(|i| {
                format!(
                    "The {} house stood by the river. It was the same house, said Emma; a different one stood {i} miles away.\n\n",
                    ["old", "new", "grey", "small"][i % 4]
                )
            })
            .collect();
        std::fs::write(&txt, text).unwrap();
        let corpus = EnglishCorpus::open(&txt).unwrap();
        let cfg = BookTrainConfig {
            vocab_size: 300,
            context: 32,
            batch_size: 4,
            steps: 3,
            pend_steps: 2,
            transfer_steps: 2,
            eval_windows: 4,
            test_pairs: 6,
            ..BookTrainConfig::default()
        };
        let out = dir.path().join("model");
        let mut stages = Vec::new();
        let mut steps = 0;
        let r = train_book_model(&corpus, &fa, &out, &cfg, &mut |e| match e {
            BookEvent::Stage { name, .. } => stages.push(name),
            BookEvent::Step { .. } => steps += 1,
            BookEvent::Note(_) => {}
        })
        .unwrap();
        assert_eq!(stages, ["pretrain", "p_end", "transfer"]);
        assert_eq!(steps, 7);
        assert_eq!(r.losses.len(), 7);
        for name in [
            "base_english_held_out_perplexity",
            "pend_pend_english_held_out_perplexity",
            "transfer_dna_pairs_accuracy",
            "base_dna_pairs_accuracy",
        ] {
            let v = r.number(name).unwrap_or_else(|| panic!("{name} missing"));
            assert!(v.is_finite() && v >= 0.0, "{name} = {v}");
        }
        let m = super::super::BookModel::open(
            &out,
            &dnalm_model::device(dnalm_model::Backend::Cpu).unwrap(),
        )
        .unwrap();
        assert!(m.meta.has_transfer);
        assert_eq!(m.meta.training["settings"]["steps"], 3);
        for f in [
            "losses.tsv",
            "loss.svg",
            "train_report.tsv",
            "train_report.md",
        ] {
            assert!(out.join(f).is_file(), "{f}");
        }
        let tsv = std::fs::read_to_string(out.join("losses.tsv")).unwrap();
        assert!(
            tsv.starts_with("stage\tstep\tloss\tlr\npretrain\t1\t"),
            "{tsv}"
        );
    }
}
