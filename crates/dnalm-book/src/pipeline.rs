//! From a FASTA to chapters: the genome text, paragraph and sentence
//! boundaries, sections and chapters, and titles, wired in one streaming
//! walk ([`BookPipeline::run`]).
//!
//! Two language models take part, as in the published system: the model
//! fine-tuned on English with `<p_end>` at paragraph breaks (`pend`) decides
//! paragraphs; the pre-trained model (`base`), which still predicts full
//! stops, decides sentences, embeds paragraphs and writes titles. Both may be
//! the same model.
//!
//! Order of events: each FASTA record starts a new chapter and section;
//! each A/C/G/T run is cut into paragraphs (sentences inside them), the
//! paragraphs are embedded and walked into sections; a closed section's mean
//! embedding is walked into chapters; a closed chapter gets its titles and
//! goes to the sink. A gap joins the current section; gaps before the first
//! paragraph of a record open the record's first section; a record with no
//! A/C/G/T at all becomes a chapter with one untitled section of its gaps.

use std::ops::Range;
use std::time::Instant;

use crate::book::{Block, Chapter, Paragraph, Section, Sentence};
use crate::boundaries::{find_breaks, segments, BoundaryParams};
use crate::group::{embed_paragraphs, GroupParams, Grouper};
use crate::model::{BookLm, BookTokenizer};
use crate::text::{Gap, GenomeText, Piece, Word};
use crate::title::{TitleParams, Titler};
use crate::{BookError, Result};

/// Every setting of the book; defaults as published.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BookParams {
    pub paragraphs: BoundaryParams,
    pub sentences: BoundaryParams,
    pub sections: GroupParams,
    pub chapters: GroupParams,
    pub titles: TitleParams,
    /// The paragraph-break token.
    pub p_end_token: String,
    /// The sentence-break token.
    pub dot_token: String,
    /// Bases per tokenizer call on long runs (see `text`).
    pub encode_chunk: usize,
    /// Paragraph pieces per embedding call.
    pub embed_batch: usize,
}

impl Default for BookParams {
    fn default() -> Self {
        BookParams {
            paragraphs: BoundaryParams::paragraphs(),
            sentences: BoundaryParams::sentences(),
            sections: GroupParams::sections(),
            chapters: GroupParams::chapters(),
            titles: TitleParams::default(),
            p_end_token: "<p_end>".into(),
            dot_token: ".".into(),
            encode_chunk: GenomeText::ENCODE_CHUNK,
            embed_batch: 16,
        }
    }
}

/// A paragraph's token positions in its run, and its sentences'.
pub type ParagraphSpan = (Range<usize>, Vec<Range<usize>>);

/// Counts of what was read and written, and the time it took.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct BookStats {
    pub records: usize,
    pub bases: u64,
    pub acgt_bases: u64,
    pub gaps: usize,
    pub gap_bases: u64,
    pub words: u64,
    pub sentences: u64,
    pub paragraphs: usize,
    pub sections: usize,
    pub chapters: usize,
    pub seconds: f64,
    /// Bases (A/C/G/T and gaps) per second of the whole run.
    pub nt_per_s: f64,
}

/// The book's models and settings.
pub struct BookPipeline<'a> {
    tokenizer: &'a dyn BookTokenizer,
    pend: &'a dyn BookLm,
    base: &'a dyn BookLm,
    params: BookParams,
    p_end: u32,
    dot: u32,
    titler: Titler<'a, dyn BookLm + 'a>,
}

impl std::fmt::Debug for BookPipeline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookPipeline")
            .field("params", &self.params)
            .finish()
    }
}

/// The section being filled.
struct OpenSection {
    blocks: Vec<Block>,
    sum: Vec<f32>,
    paragraphs: usize,
}

/// Where the walk is.
struct State {
    record: String,
    sections: Grouper,
    chapters: Grouper,
    open: Option<OpenSection>,
    /// Closed sections of the open chapter (not yet numbered or titled).
    chapter: Vec<(Vec<Block>, Vec<f32>)>,
    pending_gaps: Vec<Gap>,
    stats: BookStats,
}

impl<'a> BookPipeline<'a> {
    pub fn new(
        tokenizer: &'a dyn BookTokenizer,
        pend: &'a dyn BookLm,
        base: &'a dyn BookLm,
        params: BookParams,
    ) -> Result<Self> {
        params.paragraphs.validate(pend.context_len())?;
        params.sentences.validate(base.context_len())?;
        let find = |t: &str| {
            tokenizer.id(t).ok_or_else(|| {
                BookError::Config(format!(
                    "the tokenizer has no {t:?} token: not a book model (it needs <p_end> and \".\")"
                ))
            })
        };
        let (p_end, dot) = (find(&params.p_end_token)?, find(&params.dot_token)?);
        for (what, g) in [("section", params.sections), ("chapter", params.chapters)] {
            if g.max_members == 0 || !g.threshold.is_finite() {
                return Err(BookError::Config(format!(
                    "{what} grouping needs a finite threshold and at least 1 member, got {} and {}",
                    g.threshold, g.max_members
                )));
            }
        }
        let titler = Titler::new(base, tokenizer, params.titles)?;
        Ok(BookPipeline {
            tokenizer,
            pend,
            base,
            params,
            p_end,
            dot,
            titler,
        })
    }

    pub fn params(&self) -> &BookParams {
        &self.params
    }

    /// Reads every selected record of `text`, hands each finished chapter to
    /// `sink` and reports the bases done after each run or gap to `progress`.
    /// An input without a single A/C/G/T base is an error.
    pub fn run(
        &self,
        text: &mut GenomeText,
        sink: &mut dyn FnMut(&Chapter) -> Result<()>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<BookStats> {
        let started = Instant::now();
        let mut st = State {
            record: String::new(),
            sections: Grouper::new(self.params.sections),
            chapters: Grouper::new(self.params.chapters),
            open: None,
            chapter: Vec::new(),
            pending_gaps: Vec::new(),
            stats: BookStats::default(),
        };
        while let Some(rec) = text.next_record() {
            let rec = rec?;
            st.record = rec.name.clone();
            st.stats.records += 1;
            st.stats.bases += rec.len();
            st.stats.acgt_bases += rec.acgt_bases();
            for piece in rec.pieces(self.tokenizer, self.params.encode_chunk) {
                match piece? {
                    Piece::Gap(g) => {
                        st.stats.gaps += 1;
                        st.stats.gap_bases += g.len();
                        match &mut st.open {
                            Some(open) => open.blocks.push(Block::Gap(g)),
                            None => st.pending_gaps.push(g),
                        }
                        progress(g.len());
                    }
                    Piece::Run(words) => {
                        let bases = words.last().map_or(0, |w| w.end) - words[0].start;
                        self.add_run(&mut st, words, sink)?;
                        progress(bases);
                    }
                }
            }
            self.end_record(&mut st, sink)?;
        }
        if st.stats.acgt_bases == 0 {
            return Err(BookError::Data(format!(
                "{}: no A/C/G/T bases in {} (no text to read)",
                text.path().display(),
                match st.stats.records {
                    0 => "any selected record".to_string(),
                    1 => "its record".to_string(),
                    n => format!("any of its {n} records"),
                }
            )));
        }
        st.stats.seconds = started.elapsed().as_secs_f64();
        st.stats.nt_per_s = st.stats.bases as f64 / st.stats.seconds.max(1e-9);
        Ok(st.stats)
    }

    /// The paragraphs of one run of token ids, each with its sentences
    /// (ranges of token positions; the sentences tile their paragraph, the
    /// paragraphs the run).
    pub fn segment(&self, ids: &[u32]) -> Result<Vec<ParagraphSpan>> {
        let pb = find_breaks(self.pend, ids, self.p_end, &self.params.paragraphs)?;
        let sb = find_breaks(self.base, ids, self.dot, &self.params.sentences)?;
        Ok(segments(0..ids.len(), &pb, self.params.paragraphs.min_len)
            .into_iter()
            .map(|r| {
                let s = segments(r.clone(), &sb, self.params.sentences.min_len);
                (r, s)
            })
            .collect())
    }

    fn add_run(
        &self,
        st: &mut State,
        words: Vec<Word>,
        sink: &mut dyn FnMut(&Chapter) -> Result<()>,
    ) -> Result<()> {
        st.stats.words += words.len() as u64;
        let ids: Vec<u32> = words.iter().map(|w| w.id).collect();
        let paras = self.segment(&ids)?;
        // Embeddings and words of a few paragraphs at a time: a long run
        // holds its words once, not twice, and not all its embeddings.
        for batch in paras.chunks(4 * self.params.embed_batch.max(1)) {
            let slices: Vec<&[u32]> = batch.iter().map(|(r, _)| &ids[r.clone()]).collect();
            let vecs = embed_paragraphs(self.base, &slices, self.params.embed_batch)?;
            for ((_, sents), v) in batch.iter().zip(vecs) {
                let sentences: Vec<Sentence> = sents
                    .iter()
                    .map(|r| Sentence {
                        words: words[r.clone()].to_vec(),
                    })
                    .collect();
                self.add_paragraph(st, sentences, v, sink)?;
            }
        }
        Ok(())
    }

    fn add_paragraph(
        &self,
        st: &mut State,
        sentences: Vec<Sentence>,
        v: Vec<f32>,
        sink: &mut dyn FnMut(&Chapter) -> Result<()>,
    ) -> Result<()> {
        st.stats.sentences += sentences.len() as u64;
        st.stats.paragraphs += 1;
        let para = Block::Paragraph(Paragraph {
            number: st.stats.paragraphs,
            sentences,
        });
        if !st.sections.push(&v) {
            self.close_section(st, sink)?;
            let mut blocks: Vec<Block> = st.pending_gaps.drain(..).map(Block::Gap).collect();
            blocks.push(para);
            st.open = Some(OpenSection {
                blocks,
                sum: v,
                paragraphs: 1,
            });
        } else {
            let open = st.open.as_mut().expect("a joined section is open");
            open.blocks.push(para);
            for (s, x) in open.sum.iter_mut().zip(&v) {
                *s += x;
            }
            open.paragraphs += 1;
        }
        Ok(())
    }

    fn close_section(
        &self,
        st: &mut State,
        sink: &mut dyn FnMut(&Chapter) -> Result<()>,
    ) -> Result<()> {
        let Some(open) = st.open.take() else {
            return Ok(());
        };
        let n = open.paragraphs.max(1) as f32;
        let mean: Vec<f32> = open.sum.iter().map(|s| s / n).collect();
        if !st.chapters.push(&mean) {
            self.close_chapter(st, sink)?;
        }
        st.chapter.push((open.blocks, mean));
        Ok(())
    }

    fn end_record(
        &self,
        st: &mut State,
        sink: &mut dyn FnMut(&Chapter) -> Result<()>,
    ) -> Result<()> {
        self.close_section(st, sink)?;
        if !st.pending_gaps.is_empty() {
            // Gaps with no paragraph after them in this record and no open section.
            let blocks = st.pending_gaps.drain(..).map(Block::Gap).collect();
            st.chapter.push((blocks, Vec::new()));
        }
        self.close_chapter(st, sink)?;
        st.sections.reset();
        st.chapters.reset();
        Ok(())
    }

    fn close_chapter(
        &self,
        st: &mut State,
        sink: &mut dyn FnMut(&Chapter) -> Result<()>,
    ) -> Result<()> {
        if st.chapter.is_empty() {
            return Ok(());
        }
        let mut sections: Vec<Section> = Vec::with_capacity(st.chapter.len());
        for (blocks, _) in st.chapter.drain(..) {
            st.stats.sections += 1;
            sections.push(Section {
                number: st.stats.sections,
                title: Vec::new(),
                blocks,
            });
        }
        st.stats.chapters += 1;
        let number = st.stats.chapters;
        // Titles for the sections with words, then for the chapter.
        let words: Vec<Vec<u32>> = sections.iter().map(|s| s.word_ids()).collect();
        let with: Vec<usize> = (0..sections.len())
            .filter(|&i| !words[i].is_empty())
            .collect();
        if !with.is_empty() && self.params.titles.len > 0 {
            let groups: Vec<&[u32]> = with.iter().map(|&i| words[i].as_slice()).collect();
            let numbers: Vec<u64> = with
                .iter()
                .map(|&i| 2 * sections[i].number as u64)
                .collect();
            let titles = self.titler.titles(&groups, &numbers)?;
            for (&i, t) in with.iter().zip(titles) {
                sections[i].title = t;
            }
        }
        let all: Vec<u32> = words.concat();
        let title = if all.is_empty() || self.params.titles.len == 0 {
            Vec::new()
        } else {
            self.titler
                .titles(&[&all], &[2 * number as u64 + 1])?
                .remove(0)
        };
        sink(&Chapter {
            number,
            record: st.record.clone(),
            title,
            sections,
        })
    }
}
