//! Queries assigned to folds for cross-validation.

/// Each query's fold among `k`, shuffled by `seed`, where `groups` names each query's group
/// (its own id, or what it shares with others, such as a case): queries of one group fall in
/// one fold. A group's fold depends on the groups and the seed only; groups are dealt in hash
/// order, each to the smallest fold so far, so with one query a group the folds differ in
/// size by one at most.
pub fn folds(groups: &[&str], k: usize, seed: u64) -> Vec<usize> {
    let k = k.max(1);
    let mut members: std::collections::BTreeMap<(u64, &str), Vec<usize>> = std::collections::BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        members.entry((mix(seed, g), g)).or_default().push(i);
    }
    let mut sizes = vec![0usize; k];
    let mut fold = vec![0; groups.len()];
    for queries in members.values() {
        let f = (0..k).min_by_key(|&f| (sizes[f], f)).unwrap_or(0);
        sizes[f] += queries.len();
        for &i in queries {
            fold[i] = f;
        }
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

    #[test]
    fn a_group_stays_in_one_fold() {
        let owned: Vec<String> = (0..40).map(|i| format!("case-{}", i / 4)).collect();
        let groups: Vec<&str> = owned.iter().map(String::as_str).collect();
        let a = folds(&groups, 5, 7);
        for (i, g) in groups.iter().enumerate() {
            for (j, h) in groups.iter().enumerate() {
                if g == h {
                    assert_eq!(a[i], a[j], "{g} split over folds");
                }
            }
        }
        let sizes: Vec<usize> = (0..5).map(|f| a.iter().filter(|&&x| x == f).count()).collect();
        assert!(sizes.iter().all(|&s| s == 8), "{sizes:?}");
    }
}
