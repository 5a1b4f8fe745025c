//! Reverse complement, IUPAC-aware and case-preserving.

/// Complement of every byte: A<->T, C<->G, R<->Y, K<->M, B<->V, D<->H in
/// either case; S, W, N and every other byte map to themselves so that the
/// operation stays an involution on arbitrary bytes.
const COMPLEMENT: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8;
        i += 1;
    }
    let pairs = [
        (b'A', b'T'),
        (b'C', b'G'),
        (b'R', b'Y'),
        (b'K', b'M'),
        (b'B', b'V'),
        (b'D', b'H'),
    ];
    let mut p = 0;
    while p < pairs.len() {
        let (a, b) = pairs[p];
        t[a as usize] = b;
        t[b as usize] = a;
        t[(a + 32) as usize] = b + 32;
        t[(b + 32) as usize] = a + 32;
        p += 1;
    }
    t
};

/// The complement of one base (case kept; non-nucleotide bytes unchanged).
#[inline]
pub fn complement(b: u8) -> u8 {
    COMPLEMENT[b as usize]
}

/// The reverse complement of `seq`.
pub fn reverse_complement(seq: &[u8]) -> Vec<u8> {
    seq.iter().rev().map(|&b| COMPLEMENT[b as usize]).collect()
}

/// Reverse-complements `seq` in place.
pub fn reverse_complement_in_place(seq: &mut [u8]) {
    seq.reverse();
    for b in seq.iter_mut() {
        *b = COMPLEMENT[*b as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn complements_bases_and_iupac_codes() {
        assert_eq!(reverse_complement(b"ACGT"), b"ACGT");
        assert_eq!(reverse_complement(b"AACCGN"), b"NCGGTT");
        assert_eq!(reverse_complement(b"acgTn"), b"nAcgt");
        assert_eq!(reverse_complement(b"RYKMBVDHSW"), b"WSDHBVKMRY");
        assert_eq!(reverse_complement(b"rykmbvdhsw"), b"wsdhbvkmry");
        assert_eq!(reverse_complement(b""), b"");
        let mut s = b"GATTACA".to_vec();
        reverse_complement_in_place(&mut s);
        assert_eq!(s, b"TGTAATC");
        assert_eq!(complement(b'-'), b'-');
    }

    proptest! {
        #[test]
        fn reverse_complement_is_an_involution(seq in proptest::collection::vec(any::<u8>(), 0..300)) {
            let rc = reverse_complement(&seq);
            prop_assert_eq!(rc.len(), seq.len());
            prop_assert_eq!(reverse_complement(&rc), seq.clone());
            let mut inplace = seq.clone();
            reverse_complement_in_place(&mut inplace);
            prop_assert_eq!(inplace, rc);
        }

        #[test]
        fn gc_content_is_preserved(seq in "[ACGTNacgtn]{0,200}") {
            let gc = |s: &[u8]| s.iter().filter(|b| b"GCgc".contains(b)).count();
            prop_assert_eq!(gc(&reverse_complement(seq.as_bytes())), gc(seq.as_bytes()));
        }
    }
}
