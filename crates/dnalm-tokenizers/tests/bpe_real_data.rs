//! BPE on real human sequence from `../shared/data` (skips when absent):
//! encoding reproduces the trainer's own segmentation, and the vocabulary
//! facts docs/results.md reports (section "Tokenizers") hold.

use std::io::Read;
use std::path::PathBuf;

use dnalm_tokenizers::{BpeTrainer, HybridTokenizer, Tokenizer};

fn chr2_segments(n: usize) -> Option<Vec<Vec<u8>>> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/genome/hg38_chr2_1-2333275.fa.gz"
    ));
    if !path.exists() {
        eprintln!("skipping: {} not found", path.display());
        return None;
    }
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let seq: Vec<u8> = text
        .lines()
        .filter(|l| !l.starts_with('>'))
        .flat_map(|l| l.bytes().map(|b| b.to_ascii_uppercase()))
        .filter(|&b| b != b'N')
        .collect();
    Some(seq.chunks_exact(305).take(n).map(<[u8]>::to_vec).collect())
}

#[test]
fn bpe600_on_human_sequence() {
    let Some(segs) = chr2_segments(2500) else {
        return;
    };
    let (t, trained) = BpeTrainer::new(600)
        .unwrap()
        .train_segmented(&segs)
        .unwrap();
    let v = t.model.vocab();
    assert_eq!(v.len(), 609);
    // Encoding applies the merges by rank and must give the trainer's own cut.
    for (seg, want) in segs.iter().zip(&trained) {
        assert_eq!(&t.model.encode(seg).unwrap(), want);
    }
    let batch = t.model.encode_batch(&segs).unwrap();
    assert_eq!(batch, trained);
    // The backtracking encoder agrees with the rank-order simulation on
    // sequence the model was not trained on.
    assert!(t.model.has_fast_encoder());
    let more = chr2_segments(4000).unwrap();
    for seg in &more[2500..] {
        assert_eq!(
            t.model.encode(seg).unwrap(),
            t.model.encode_by_rank(seg).unwrap()
        );
    }
    // As GROVER found on hg19: no "CG" token in a human BPE-600.
    assert!(v.id("CG").is_none());
    let used = t.token_counts.iter().filter(|&&c| c > 0).count();
    assert!(used > 590, "{used} tokens used");
    // The hybrid vocabulary is the union, de-duplicated by spelling.
    let h = HybridTokenizer::new(t.model.clone(), 6, 305).unwrap();
    let p = h.parts();
    let six = v.tokens()[5..].iter().filter(|s| s.len() == 6).count();
    assert_eq!(p.bpe_shared_with_kmers, six);
    assert_eq!(p.total, 5 + 4096 + 604 - six);
    let ids = h.encode(&segs[0]).unwrap();
    assert_eq!(ids.len(), 300 + trained[0].len());
    assert_eq!(h.decode(&ids).unwrap(), segs[0]);
}
