#!/usr/bin/env python3
"""Data preparation for bench/promoter_scan_chr2.sh (standard library only).

  promoter_scan_chr2.py tss OUT        TSS BED files of the chr2 window (GENA positives found in
                                       it, genomic_benchmarks intervals in it), the GENA positives
                                       that share no 50-mer with the window, and the window with
                                       each half masked to N (coordinates kept)
  promoter_scan_chr2.py split CSV LO HI PREFIX
                                       cut a `promoter data --genomic-negatives` CSV into
                                       PREFIX_{train,valid,test}.csv: positives 80/10/10 at random
                                       (seed 1), genomic negatives by position within LO..HI (first
                                       80% train, next 10% valid, last 10% test; windows crossing a
                                       cut dropped), synthetic negatives dropped (the scan model
                                       learns promoter vs genome)
DATA is $DNALM_DATA (default ../shared/data).
"""
import csv, gzip, os, random, sys

DATA = os.environ.get("DNALM_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
WINDOW = "genome/hg38_chr2_1-2333275.fa.gz"
GENA = "promoters/gena_epdnew_hg38_prom300.shared.csv.gz"
GB = "annotation/genomic_benchmarks_human_nontata_promoters"
HALF = 1_170_000
K = 50


def read_window():
    with gzip.open(os.path.join(DATA, WINDOW), "rt") as f:
        return "".join(l.strip() for l in f if not l.startswith(">"))


def tss(out):
    raw = read_window()
    seq = raw.upper()
    n = len(seq)
    rc = seq.translate(str.maketrans("ACGTN", "TGCAN"))[::-1]
    kmers = set()
    for s in (seq, rc):
        for i in range(n - K + 1):
            k = s[i:i + K]
            if "N" not in k:
                kmers.add(k)
    gena, keep, dropped = set(), [], 0
    with gzip.open(os.path.join(DATA, GENA), "rt") as f:
        for r in csv.DictReader(f):
            if r["label"] != "1":
                continue
            s = r["sequence"].upper()
            if not any(s[j:j + K] in kmers for j in range(len(s) - K + 1)):
                keep.append(s)
                continue
            dropped += 1
            p = seq.find(s)
            if p >= 0:
                gena.add((p + 249, "+"))
            else:
                p = rc.find(s)
                if p >= 0:
                    gena.add((n - 1 - p - 249, "-"))
    gb = set()
    for part in ("train", "test"):
        with gzip.open(os.path.join(DATA, GB, part, "positive.csv.gz"), "rt") as f:
            for r in csv.DictReader(f):
                s, e = int(r["start"]), int(r["end"])
                if r["region"] in ("2", "chr2") and e <= n:
                    # -200..+50 around the TSS, 0-based half-open
                    gb.add((s + 200, "+") if r["strand"] == "+" else (e - 1 - 200, "-"))
    os.makedirs(out, exist_ok=True)
    for name, tsss in (("gena_tss.bed", gena), ("gb_tss.bed", gb), ("all_tss.bed", gena | gb)):
        with open(os.path.join(out, name), "w") as f:
            for i, (p, st) in enumerate(sorted(tsss)):
                f.write(f"chr2\t{p}\t{p + 1}\t{name.split('_')[0]}{i}\t0\t{st}\n")
    with open(os.path.join(out, "positives.txt"), "w") as f:
        f.writelines(s + "\n" for s in keep)
    for name, s in (("first_half.fa", raw[:HALF] + "N" * (n - HALF)), ("second_half.fa", "N" * HALF + raw[HALF:])):
        with open(os.path.join(out, name), "w") as f:
            f.write(">chr2\n")
            f.writelines(s[i:i + 60] + "\n" for i in range(0, n, 60))
    print(f"GENA positives: {len(keep)} kept, {dropped} share a 50-mer with the window "
          f"({len(gena)} found whole in it); genomic_benchmarks TSSs in the window: {len(gb)}")


def split(src, lo, hi, prefix):
    lo, hi = int(lo), int(hi)
    cut1, cut2 = lo + int(0.8 * (hi - lo)), lo + int(0.9 * (hi - lo))
    rng = random.Random(1)
    parts = {k: [] for k in ("train", "valid", "test")}
    with open(src, newline="") as f:
        r = csv.reader(f)
        head = next(r)
        for row in r:
            if row[3] == "genomic":
                s, e = int(row[5]), int(row[6])
                if s < cut1 <= e or s < cut2 <= e:
                    continue
                parts["train" if s < cut1 else "valid" if s < cut2 else "test"].append(row)
            elif row[1] == "1":
                x = rng.random()
                parts["train" if x < 0.8 else "valid" if x < 0.9 else "test"].append(row)
    for k, rows in parts.items():
        with open(f"{prefix}_{k}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(head)
            w.writerows(rows)
        print(f"{prefix}_{k}.csv: {len(rows)} rows, {sum(r[1] == '1' for r in rows)} positive")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "tss":
        tss(sys.argv[2])
    elif len(sys.argv) == 6 and sys.argv[1] == "split":
        split(*sys.argv[2:])
    else:
        sys.exit(__doc__)
