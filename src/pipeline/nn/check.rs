//! Test support: checks hand-written gradients against central finite differences.

use super::{Params, Rng};

/// A layer under test with closures for its passes. `backward` returns the input gradient
/// and accumulates parameter gradients into its last argument.
pub(crate) struct Probe<L, F, B, Z> {
    pub(crate) layer: L,
    pub(crate) input: Vec<f32>,
    pub(crate) forward: F,
    pub(crate) backward: B,
    pub(crate) zeros: Z,
}

/// Asserts that the analytic gradients of `loss = Σ r ⊙ forward(x)` (for a fixed random `r`)
/// with respect to the input and every parameter match finite differences.
pub(crate) fn assert_gradients<L, F, B, Z>(probe: Probe<L, F, B, Z>)
where
    L: Params + Clone,
    F: Fn(&L, &[f32]) -> Vec<f32>,
    B: Fn(&L, &[f32], &[f32], &mut L) -> Vec<f32>,
    Z: Fn(&L) -> L,
{
    let Probe { layer, input, forward, backward, zeros } = probe;
    let mut rng = Rng::new(99);
    let r: Vec<f32> = forward(&layer, &input).iter().map(|_| rng.normal(1.0)).collect();
    let loss = |l: &L, x: &[f32]| -> f64 {
        forward(l, x).iter().zip(&r).map(|(y, r)| f64::from(y * r)).sum()
    };
    let mut grad = zeros(&layer);
    let dx = backward(&layer, &input, &r, &mut grad);
    let eps = 1e-3_f32;
    let close = |analytic: f32, numeric: f64, what: &str| {
        let tol = 2e-2 * (1.0 + numeric.abs());
        assert!(
            (f64::from(analytic) - numeric).abs() < tol,
            "{what}: analytic {analytic}, numeric {numeric}"
        );
    };
    for i in 0..input.len() {
        let (mut plus, mut minus) = (input.clone(), input.clone());
        plus[i] += eps;
        minus[i] -= eps;
        let numeric = (loss(&layer, &plus) - loss(&layer, &minus)) / f64::from(2.0 * eps);
        close(dx[i], numeric, &format!("input {i}"));
    }
    let analytic: Vec<Vec<f32>> = grad.params().iter().map(|p| p.to_vec()).collect();
    for (p, grads) in analytic.iter().enumerate() {
        for (i, &g) in grads.iter().enumerate() {
            let shifted = |delta: f32| {
                let mut l = layer.clone();
                l.params_mut()[p][i] += delta;
                loss(&l, &input)
            };
            let numeric = (shifted(eps) - shifted(-eps)) / f64::from(2.0 * eps);
            close(g, numeric, &format!("param {p}[{i}]"));
        }
    }
}

/// Asserts that the input gradient a loss function writes into its second argument matches
/// central finite differences (steps of `eps`) of the loss it returns, within `tolerance`
/// relative to the slope (absolute below 1).
pub(crate) fn assert_loss_slope(
    x: &[f32],
    eps: f32,
    tolerance: f64,
    loss: impl Fn(&[f32], &mut [f32]) -> f64,
) {
    let mut dx = vec![0.0; x.len()];
    loss(x, &mut dx);
    let mut scratch = vec![0.0; x.len()];
    for i in 0..x.len() {
        let (mut plus, mut minus) = (x.to_vec(), x.to_vec());
        plus[i] += eps;
        minus[i] -= eps;
        let slope = (loss(&plus, &mut scratch) - loss(&minus, &mut scratch)) / f64::from(2.0 * eps);
        let analytic = f64::from(dx[i]);
        assert!(
            (slope - analytic).abs() < tolerance * slope.abs().max(1.0),
            "input {i}: analytic {analytic}, numeric {slope}"
        );
    }
}
