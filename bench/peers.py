#!/usr/bin/env python3
"""Python peers for dnalm's BPE benchmark: Hugging Face `tokenizers` and
`sentencepiece`, trained and run on the same segments as dnalm.

Usage:
  peers.py --segments FILE --vocab 604 [--repeat R] --json OUT

FILE holds one upper-case A/C/G/T segment per line (305 nt in the standard
benchmark). The file is read into memory first; only training and encoding
are timed (time.perf_counter). Each timing is the minimum over R runs. All
figures go to OUT as JSON and are printed on stdout.

Peers:
  * HF tokenizers BPE: models.BPE(unk_token="[UNK]"), no normalizer and no
    pre-tokenizer (each line is one word, so merges never cross lines),
    BpeTrainer(vocab_size=VOCAB, 5 specials, initial_alphabet=A,C,G,T).
    The HF vocabulary counts the specials, so VOCAB=604 means 595 merges;
    the JSON records the real vocab size and merge count.
  * HF encoding: encode_batch(lines, add_special_tokens=False), default
    rayon thread pool (TOKENIZERS_PARALLELISM is forced on).
  * sentencepiece BPE training (see SPM_PARAMS; adaptations are recorded
    in the JSON) and encoding of the same lines.

Python is used only for benchmarks and parity tests, never by dnalm.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time

# Must be set before `tokenizers` is imported: "false" would silently make
# encode_batch single-threaded and the comparison unfair to HF.
_parallelism_before = os.environ.get("TOKENIZERS_PARALLELISM")
os.environ["TOKENIZERS_PARALLELISM"] = "true"

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def die(msg):
    print(f"peers.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def read_segments(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        die(f"cannot read {path}: {e}")
    lines = data.decode("ascii", errors="replace").splitlines()
    if not lines:
        die(f"{path} holds no segments")
    allowed = set("ACGT")
    for n, line in enumerate(lines, start=1):
        if not line or not set(line) <= allowed:
            die(f"{path}:{n}: expected a non-empty upper-case A/C/G/T segment, got {line[:60]!r}")
    return lines


def best_of(repeat, fn):
    """Run fn() `repeat` times; return (min seconds, all seconds, last result)."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times, result


def hf_peer(lines, vocab, repeat, out):
    import tokenizers
    from tokenizers import Tokenizer, models, trainers

    def train():
        tok = Tokenizer(models.BPE(unk_token="[UNK]"))
        trainer = trainers.BpeTrainer(
            vocab_size=vocab,
            special_tokens=SPECIALS,
            show_progress=False,
            initial_alphabet=["A", "C", "G", "T"],
        )
        tok.train_from_iterator(lines, trainer=trainer, length=len(lines))
        return tok

    train_s, train_runs, tok = best_of(repeat, train)
    model = json.loads(tok.to_str())["model"]
    encode_s, encode_runs, encs = best_of(
        repeat, lambda: tok.encode_batch(lines, add_special_tokens=False))
    n_tokens = sum(len(e.ids) for e in encs)
    unk = tok.token_to_id("[UNK]")
    n_unk = sum(e.ids.count(unk) for e in encs)
    if n_unk:
        die(f"HF encoding produced {n_unk} [UNK] tokens: input is not pure A/C/G/T?")
    out.update({
        "tokenizers_version": tokenizers.__version__,
        "hf_train_s": train_s,
        "hf_train_runs_s": train_runs,
        "hf_vocab": tok.get_vocab_size(with_added_tokens=True),
        "hf_merges": len(model["merges"]),
        "hf_encode_s": encode_s,
        "hf_encode_runs_s": encode_runs,
        "hf_tokens": n_tokens,
        "hf_tokenizers_parallelism_env": _parallelism_before,
    })


# The parameters the benchmark asks for. All are accepted by sentencepiece
# 0.2.3. With hard_vocab_limit=False, vocab_size is a soft limit: the real
# size is read back from the trained model.
SPM_PARAMS = dict(
    model_type="bpe",
    character_coverage=1.0,
    input_sentence_size=0,          # use every sentence (no sampling)
    shuffle_input_sentence=False,
    max_sentence_length=100000,
    num_threads=2,
    bos_id=-1,
    eos_id=-1,
    hard_vocab_limit=False,
    minloglevel=2,
)
# Deviations from the requested parameters, to make sentencepiece learn the
# same kind of vocabulary as dnalm and HF. Recorded in the JSON.
SPM_ADAPTATIONS = {
    "add_dummy_prefix": (False, "default True prepends the meta symbol U+2581 to every "
                                "line, which would add a 5th symbol and merges like "
                                "'\u2581A' that neither dnalm nor HF have"),
}


def spm_peer(lines, vocab, repeat, out):
    import sentencepiece as spm

    params = dict(SPM_PARAMS, vocab_size=vocab)
    params.update({k: v for k, (v, _) in SPM_ADAPTATIONS.items()})
    with tempfile.TemporaryDirectory(prefix="dnalm-spm-") as tmp:
        prefix = os.path.join(tmp, "m")

        def train():
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines), model_prefix=prefix, **params)

        train_s, train_runs, _ = best_of(repeat, train)
        sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
        pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
        encode_s, encode_runs, ids = best_of(
            repeat, lambda: sp.encode(lines, out_type=int, num_threads=params["num_threads"]))
    n_tokens = sum(len(x) for x in ids)
    meta = [p for i, p in enumerate(pieces) if sp.is_unknown(i) or sp.is_control(i)]
    out.update({
        "sentencepiece_version": spm.__version__,
        "spm_train_s": train_s,
        "spm_train_runs_s": train_runs,
        "spm_vocab": len(pieces),
        "spm_vocab_requested": vocab,
        "spm_meta_pieces": meta,
        "spm_multi_base_pieces": sum(1 for p in pieces if len(p) > 1 and p not in meta),
        "spm_max_piece_len": max(len(p) for p in pieces if p not in meta),
        "spm_encode_s": encode_s,
        "spm_encode_runs_s": encode_runs,
        "spm_tokens": n_tokens,
        "spm_params": params,
        "spm_adaptations": {k: why for k, (_, why) in SPM_ADAPTATIONS.items()},
    })


def main():
    ap = argparse.ArgumentParser(description="HF tokenizers / sentencepiece BPE peers")
    ap.add_argument("--segments", required=True, help="one A/C/G/T segment per line")
    ap.add_argument("--vocab", type=int, default=604, help="target vocabulary size (604)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per timing; the minimum is kept")
    ap.add_argument("--json", required=True, help="write the figures here")
    ap.add_argument("--skip-spm", action="store_true", help="run only the HF peer")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    if args.vocab < len(SPECIALS) + 4:
        ap.error(f"--vocab must be >= {len(SPECIALS) + 4}")

    lines = read_segments(args.segments)
    lengths = [len(x) for x in lines]
    out = {
        "segments_file": os.path.abspath(args.segments),
        "n_segments": len(lines),
        "n_bases": sum(lengths),
        "segment_len_min": min(lengths),
        "segment_len_max": max(lengths),
        "vocab_requested": args.vocab,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "nproc": os.cpu_count(),
        "rayon_num_threads_env": os.environ.get("RAYON_NUM_THREADS"),
    }
    hf_peer(lines, args.vocab, args.repeat, out)
    if not args.skip_spm:
        spm_peer(lines, args.vocab, args.repeat, out)

    text = json.dumps(out, indent=2)
    try:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    except OSError as e:
        die(f"cannot write {args.json}: {e}")
    print(text)


if __name__ == "__main__":
    main()
