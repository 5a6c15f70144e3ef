//! Queries assigned to folds for cross-validation.

/// Each of `ids`' fold among `k`, shuffled by `seed`: a query's fold depends on its id and the
/// seed only, and the folds differ in size by one at most.
pub fn folds(ids: &[&str], k: usize, seed: u64) -> Vec<usize> {
    let mut keyed: Vec<(u64, usize)> = ids.iter().enumerate().map(|(i, id)| (mix(seed, id), i)).collect();
    keyed.sort();
    let mut fold = vec![0; ids.len()];
    for (n, (_, i)) in keyed.into_iter().enumerate() {
        fold[i] = n % k.max(1);
    }
    fold
}

/// A hash of `id` under `seed` (FNV-1a): stable across runs and platforms.
fn mix(seed: u64, id: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_balanced_and_stable() {
        let owned: Vec<String> = (0..23).map(|i| format!("q{i}")).collect();
        let ids: Vec<&str> = owned.iter().map(String::as_str).collect();
        let a = folds(&ids, 5, 7);
        assert_eq!(a, folds(&ids, 5, 7));
        assert_ne!(a, folds(&ids, 5, 8));
        let sizes: Vec<usize> = (0..5).map(|f| a.iter().filter(|&&x| x == f).count()).collect();
        assert!(sizes.iter().all(|&s| s == 4 || s == 5), "{sizes:?}");
    }
}
