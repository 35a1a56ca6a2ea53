//! Training-time parameter updates: [`Adam`] with global gradient clipping and decoupled
//! weight decay, and [`Average`], an exponential moving average of the weights (used for
//! evaluation and saving, as spaCy does, because it generalises better than the raw weights).

use super::Params;

/// Adam hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate.
    pub learn_rate: f32,
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Decoupled L2 weight decay (multiplied by the learning rate).
    pub l2: f32,
    /// Global gradient-norm clipping threshold (0 disables).
    pub grad_clip: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self { learn_rate: 0.001, beta1: 0.9, beta2: 0.999, l2: 0.0, grad_clip: 5.0 }
    }
}

/// The Adam optimiser's state for one set of parameter arrays.
#[derive(Debug)]
pub(crate) struct Adam {
    config: AdamConfig,
    step: i32,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}

impl Adam {
    /// A fresh optimiser.
    pub(crate) fn new(config: AdamConfig) -> Self {
        Self { config, step: 0, m: Vec::new(), v: Vec::new() }
    }

    /// Applies one update with gradients `grads` (scaled by `learn_rate_scale`, e.g. a
    /// warm-up factor), then zeroes them.
    ///
    /// # Panics
    ///
    /// Panics if `grads` does not have the shape of `model`.
    pub(crate) fn update<P: Params>(
        &mut self,
        model: &mut P,
        grads: &mut P,
        learn_rate_scale: f32,
    ) {
        let mut params = model.params_mut();
        let mut grads = grads.params_mut();
        assert_eq!(params.len(), grads.len(), "gradient shape differs from the model");
        if self.m.is_empty() {
            self.m = params.iter().map(|p| vec![0.0; p.len()]).collect();
            self.v = self.m.clone();
        }
        let norm = grads.iter().flat_map(|g| g.iter()).map(|g| g * g).sum::<f32>().sqrt();
        let clip = if self.config.grad_clip > 0.0 && norm > self.config.grad_clip {
            self.config.grad_clip / norm
        } else {
            1.0
        };
        self.step += 1;
        let AdamConfig { learn_rate, beta1, beta2, l2, .. } = self.config;
        let lr = learn_rate * learn_rate_scale;
        let correction1 = 1.0 - beta1.powi(self.step);
        let correction2 = 1.0 - beta2.powi(self.step);
        let step_size = lr * correction2.sqrt() / correction1;
        for (((p, g), m), v) in
            params.iter_mut().zip(grads.iter_mut()).zip(&mut self.m).zip(&mut self.v)
        {
            assert_eq!(p.len(), g.len(), "gradient shape differs from the model");
            for i in 0..p.len() {
                let gi = g[i] * clip;
                m[i] = beta1 * m[i] + (1.0 - beta1) * gi;
                v[i] = beta2 * v[i] + (1.0 - beta2) * gi * gi;
                p[i] -= step_size * m[i] / (v[i].sqrt() + 1e-8) + lr * l2 * p[i];
                g[i] = 0.0;
            }
        }
    }
}

/// An exponential moving average of a model's parameters.
#[derive(Debug)]
pub(crate) struct Average {
    decay: f32,
    updates: u32,
    values: Vec<Vec<f32>>,
}

impl Average {
    /// Starts averaging from the model's current parameters; `decay` bounds how slowly the
    /// average moves (early on it moves faster, as in spaCy's `(1 + t) / (10 + t)` schedule).
    pub(crate) fn new<P: Params>(model: &P, decay: f32) -> Self {
        let values = model.params().iter().map(|p| p.to_vec()).collect();
        Self { decay, updates: 0, values }
    }

    /// Folds the model's current parameters into the average.
    pub(crate) fn update<P: Params>(&mut self, model: &P) {
        self.updates += 1;
        let t = self.updates as f32;
        let decay = self.decay.min((1.0 + t) / (10.0 + t));
        for (avg, p) in self.values.iter_mut().zip(model.params()) {
            for (a, x) in avg.iter_mut().zip(p) {
                *a = decay * *a + (1.0 - decay) * x;
            }
        }
    }

    /// Copies the averaged parameters into `model` (of the averaged model's shape).
    pub(crate) fn copy_into<P: Params>(&self, model: &mut P) {
        for (dst, avg) in model.params_mut().into_iter().zip(&self.values) {
            dst.copy_from_slice(avg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::nn::LayerNorm;

    #[test]
    fn adam_minimises_a_quadratic_and_zeroes_gradients() {
        // Minimise Σ (g_i - target_i)² over a LayerNorm's gain.
        let target = [0.5, -1.5, 2.0];
        let mut model = LayerNorm::new(3);
        let mut grads = model.zeros_like();
        let mut adam = Adam::new(AdamConfig { learn_rate: 0.05, ..AdamConfig::default() });
        let mut avg = Average::new(&model, 0.9);
        for _ in 0..2000 {
            for ((g, p), t) in grads.g.iter_mut().zip(&model.g).zip(target) {
                *g = 2.0 * (p - t);
            }
            adam.update(&mut model, &mut grads, 1.0);
            avg.update(&model);
        }
        for (p, t) in model.g.iter().zip(target) {
            assert!((p - t).abs() < 1e-2, "{p} vs {t}");
        }
        assert!(grads.g.iter().all(|&g| g == 0.0));
        let mut averaged = LayerNorm::new(3);
        avg.copy_into(&mut averaged);
        for (p, t) in averaged.g.iter().zip(target) {
            assert!((p - t).abs() < 5e-2, "{p} vs {t}");
        }
    }
}
