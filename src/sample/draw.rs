//! Small random-draw helpers for the sample generator (weighted choice, skewed draws, picking
//! distinct items). All draws go through a seeded `ChaCha8Rng`, so they are repeatable; floats
//! only meet `+ - * /` and rounding (no `ln`, `exp`, `powf`, whose last bits vary by platform
//! libm), so the files are byte-identical on every platform.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Index drawn with probability proportional to `weights` (integer weights keep it exact).
pub(crate) fn weighted(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    if total == 0 {
        return 0;
    }
    let mut ticket = rng.random_range(0..total);
    for (i, &w) in weights.iter().enumerate() {
        if ticket < w {
            return i;
        }
        ticket -= w;
    }
    weights.len() - 1
}

/// Index drawn from the first `upto` items of a cumulative weight table.
pub(crate) fn from_cumulative(rng: &mut ChaCha8Rng, cumulative: &[f64], upto: usize) -> usize {
    let upto = upto.min(cumulative.len());
    if upto == 0 {
        return 0;
    }
    let total = cumulative[upto - 1];
    let ticket = rng.random::<f64>() * total;
    cumulative[..upto]
        .partition_point(|&c| c <= ticket)
        .min(upto - 1)
}

/// Running sums of `weights`.
pub(crate) fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .into_iter()
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

/// A right-skewed weight in `(1, 10]` (density falling like `1/x^2`; mean about 2.6).
pub(crate) fn skewed(rng: &mut ChaCha8Rng) -> f64 {
    1.0 / (0.1 + 0.9 * rng.random::<f64>())
}

/// A geometric count with the given mean, at most `cap`.
pub(crate) fn geometric(rng: &mut ChaCha8Rng, mean: f64, cap: i64) -> i64 {
    let go_on = mean / (mean + 1.0);
    let mut n = 0;
    while n < cap && chance(rng, go_on) {
        n += 1;
    }
    n
}

/// `true` with probability `p`.
pub(crate) fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// `count` distinct items of `pool` (all of them when the pool is smaller), in pool order.
pub(crate) fn distinct(rng: &mut ChaCha8Rng, pool: &[usize], count: usize) -> Vec<usize> {
    let mut items = pool.to_vec();
    let count = count.min(items.len());
    for k in 0..count {
        let j = rng.random_range(k..items.len());
        items.swap(k, j);
    }
    items.truncate(count);
    items.sort_unstable();
    items
}
