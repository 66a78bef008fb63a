//! A bounded Nelder-Mead simplex minimiser, used to fit smoothing parameters and
//! initial states by likelihood (ETS) or squared error (Theta's SES, TSB).
//!
//! Written here rather than taken from `argmin`: argmin's Nelder-Mead has no bounds
//! (they would be bolted on through the cost function anyway), its executor clones the
//! state and allocates on every iteration, and it brings a math-backend abstraction we
//! do not need for problems of 2 to 17 parameters evaluated tens of thousands of times
//! per run. This is the same design as R's `optim` and statsforecast's ETS optimiser:
//! trial points are clamped into the box, dependent bounds (beta < alpha) are
//! expressed by the caller as fractions, and the adaptive coefficients of Gao and Han
//! (2012) keep the simplex from stalling in higher dimensions. Deterministic: no
//! randomness, ties broken by vertex order.

/// Options for [`minimize`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Stop after this many evaluations of the objective.
    pub max_evals: usize,
    /// Stop when the spread of the simplex values is below `ftol * (|best| + ftol)`.
    pub ftol: f64,
    /// Restarts from the best point with the initial step (guards against collapse).
    pub restarts: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_evals: 2_000,
            ftol: 1e-8,
            restarts: 1,
        }
    }
}

/// The best point found and its value.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub x: Vec<f64>,
    pub f: f64,
}

/// Minimises `f` from `x0` inside the box `[lower, upper]`, with initial simplex steps
/// `step` (one per coordinate). `f` may return `f64::INFINITY` for inadmissible points.
pub(crate) fn minimize<F: FnMut(&[f64]) -> f64>(
    mut objective: F,
    x0: &[f64],
    step: &[f64],
    lower: &[f64],
    upper: &[f64],
    opts: Options,
) -> Minimum {
    let n = x0.len();
    // NaN counts as inadmissible, so plain comparisons order every value.
    let mut f = |x: &[f64]| {
        let v = objective(x);
        if v.is_nan() {
            f64::INFINITY
        } else {
            v
        }
    };
    let clamp = |x: &mut [f64]| {
        for i in 0..n {
            x[i] = x[i].clamp(lower[i], upper[i]);
        }
    };
    let mut best = x0.to_vec();
    clamp(&mut best);
    let mut fbest = f(&best);
    if n == 0 {
        return Minimum { x: best, f: fbest };
    }
    let nf = n as f64;
    let (ar, ge, rc, sh) = if n > 2 {
        (1.0, 1.0 + 2.0 / nf, 0.75 - 0.5 / nf, 1.0 - 1.0 / nf)
    } else {
        (1.0, 2.0, 0.5, 0.5)
    };
    let mut evals = 1usize;
    let mut pts: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    let mut vals: Vec<f64> = Vec::with_capacity(n + 1);
    let mut centroid = vec![0.0; n];
    // The sum of the vertices, updated as vertices are replaced, so the centroid of all
    // but the worst costs O(n) rather than O(n^2) per iteration.
    let mut total = vec![0.0; n];
    let sum_into = |total: &mut [f64], pts: &[Vec<f64>]| {
        total.iter_mut().for_each(|c| *c = 0.0);
        for p in pts {
            for (c, v) in total.iter_mut().zip(p) {
                *c += v;
            }
        }
    };
    // Puts `x` with value `fx` in place of vertex `k`, keeping `total` in step.
    let replace = |pts: &mut [Vec<f64>],
                   vals: &mut [f64],
                   total: &mut [f64],
                   k: usize,
                   x: &[f64],
                   fx: f64| {
        for ((c, old), new) in total.iter_mut().zip(&pts[k]).zip(x) {
            *c += new - old;
        }
        pts[k].copy_from_slice(x);
        vals[k] = fx;
    };
    let mut xr = vec![0.0; n];
    let mut xe = vec![0.0; n];
    let mut xc = vec![0.0; n];
    for round in 0..=opts.restarts {
        let start_f = fbest;
        pts.clear();
        vals.clear();
        pts.push(best.clone());
        vals.push(fbest);
        for i in 0..n {
            let mut p = best.clone();
            p[i] += step[i];
            if p[i] > upper[i] {
                p[i] = best[i] - step[i];
            }
            clamp(&mut p);
            vals.push(f(&p));
            pts.push(p);
            evals += 1;
        }
        sum_into(&mut total, &pts);
        loop {
            let (ib, iw, isw) = extremes(&vals);
            let (fb, fw, fsw) = (vals[ib], vals[iw], vals[isw]);
            if evals >= opts.max_evals
                || (fb.is_finite() && (fw - fb).abs() <= opts.ftol * (fb.abs() + opts.ftol))
            {
                break;
            }
            for ((c, t), w) in centroid.iter_mut().zip(&total).zip(&pts[iw]) {
                *c = (t - w) / nf;
            }
            for i in 0..n {
                xr[i] = centroid[i] + ar * (centroid[i] - pts[iw][i]);
            }
            clamp(&mut xr);
            let fr = f(&xr);
            evals += 1;
            if fr < fb {
                for i in 0..n {
                    xe[i] = centroid[i] + ge * (xr[i] - centroid[i]);
                }
                clamp(&mut xe);
                let fe = f(&xe);
                evals += 1;
                if fe < fr {
                    replace(&mut pts, &mut vals, &mut total, iw, &xe, fe);
                } else {
                    replace(&mut pts, &mut vals, &mut total, iw, &xr, fr);
                }
                continue;
            }
            if fr < fsw {
                replace(&mut pts, &mut vals, &mut total, iw, &xr, fr);
                continue;
            }
            let outside = fr < fw;
            for i in 0..n {
                xc[i] = if outside {
                    centroid[i] + rc * (xr[i] - centroid[i])
                } else {
                    centroid[i] + rc * (pts[iw][i] - centroid[i])
                };
            }
            clamp(&mut xc);
            let fc = f(&xc);
            evals += 1;
            if (outside && fc <= fr) || (!outside && fc < fw) {
                replace(&mut pts, &mut vals, &mut total, iw, &xc, fc);
                continue;
            }
            let xb = pts[ib].clone();
            for k in 0..=n {
                if k == ib {
                    continue;
                }
                for i in 0..n {
                    pts[k][i] = xb[i] + sh * (pts[k][i] - xb[i]);
                }
                clamp(&mut pts[k]);
                vals[k] = f(&pts[k]);
                evals += 1;
            }
            sum_into(&mut total, &pts);
        }
        let ib = (0..=n)
            .min_by(|&a, &b| vals[a].total_cmp(&vals[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        if vals[ib] < fbest {
            fbest = vals[ib];
            best.copy_from_slice(&pts[ib]);
        }
        let improved = start_f - fbest > opts.ftol * (fbest.abs() + opts.ftol);
        if evals >= opts.max_evals || (round > 0 && !improved) {
            break;
        }
    }
    Minimum { x: best, f: fbest }
}

/// The best, worst and second-worst vertices (ties broken by vertex order, as a stable
/// sort would): one pass instead of sorting the simplex at every iteration. The values
/// hold no NaN.
fn extremes(vals: &[f64]) -> (usize, usize, usize) {
    let (mut ib, mut iw, mut isw) = (0, 0, usize::MAX);
    for (k, &v) in vals.iter().enumerate().skip(1) {
        if v < vals[ib] {
            ib = k;
        }
        if v >= vals[iw] {
            isw = iw;
            iw = k;
        } else if isw == usize::MAX || v >= vals[isw] {
            isw = k;
        }
    }
    (ib, iw, isw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_rosenbrock() {
        let rosen = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let opts = Options {
            max_evals: 5_000,
            ftol: 1e-14,
            restarts: 2,
        };
        let m = minimize(
            rosen,
            &[-1.2, 1.0],
            &[0.5, 0.5],
            &[-5.0; 2],
            &[5.0; 2],
            opts,
        );
        assert!(
            (m.x[0] - 1.0).abs() < 1e-3 && (m.x[1] - 1.0).abs() < 1e-3,
            "{m:?}"
        );
    }

    #[test]
    fn extremes_match_a_stable_sort() {
        let vals = [3.0, 1.0, 3.0, f64::INFINITY, 1.0, 2.0];
        // Stable order: 1 (1.0), 4 (1.0), 5, 0, 2, 3 (inf).
        assert_eq!(extremes(&vals), (1, 3, 2));
        assert_eq!(extremes(&[2.0, 2.0, 2.0]), (0, 2, 1));
        assert_eq!(extremes(&[5.0, 4.0]), (1, 0, 1));
    }

    #[test]
    fn respects_the_bounds() {
        let f = |x: &[f64]| x.iter().map(|v| (v - 3.0).powi(2)).sum::<f64>();
        let m = minimize(
            f,
            &[0.0; 5],
            &[0.2; 5],
            &[-1.0; 5],
            &[1.0; 5],
            Options::default(),
        );
        assert!(m.x.iter().all(|&v| (v - 1.0).abs() < 1e-3), "{m:?}");
    }
}
