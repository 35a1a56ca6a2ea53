//! Fine-tuning the transformer while tok2vec and the heads train on its features.
//!
//! # Overview
//!
//! With a `[transformer.fine_tune]` table ([`FineTuneConfig`]), the joint trainer (module
//! `joint`) does not compute the transformer's features once before training
//! ([`super::features`]) but per batch, with the encoder's training forward pass
//! ([`EncoderTrainer`]) over the same windows and pieces the `transformer` component reads
//! at inference (`Transformer::push_windows`, `mean_over_pieces`). After tok2vec's
//! backward pass, `FineTuner::backward` takes the gradient of the loss with respect to
//! each token's features back to its pieces (divided among them), to the window rows they
//! were read from, through the encoder, and takes one Adam step on the encoder's weights
//! with its own learning rate and warm-up. Dev scoring reads features computed with the
//! current weights through the inference path (`Transformer::features`).

use serde::Deserialize;

use crate::pipeline::nn::AdamConfig;
use crate::pipeline::transformer::{
    Dropout, EncoderTrainer, PieceId, Transformer, Windows, mean_over_pieces,
    mean_over_pieces_backward,
};

/// The `[transformer.fine_tune]` table of a training config: how the encoder learns.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FineTuneConfig {
    /// The encoder's Adam learning rate (BERT fine-tuning's usual 2e-5 to 5e-5); the other
    /// Adam settings are `[schedule.optimizer]`'s.
    pub learn_rate: f32,
    /// Steps over which the encoder's learning rate rises linearly from 0.
    #[serde(default)]
    pub warmup_steps: usize,
    /// Dropout on the embeddings' and each block's output (BERT's pretraining used 0.1).
    #[serde(default = "bert_dropout")]
    pub hidden_dropout: f32,
    /// Dropout on the attention probabilities (BERT's pretraining used 0.1).
    #[serde(default = "bert_dropout")]
    pub attention_dropout: f32,
    /// Whether the word-embedding table stays as pretrained (by default it does: it is half
    /// the encoder's parameters, so half the optimiser's time, and EWT's 200,000 words
    /// reach a small part of its 30,522 rows, which would drift away from the rest).
    #[serde(default = "frozen")]
    pub freeze_words: bool,
}

fn bert_dropout() -> f32 {
    0.1
}

fn frozen() -> bool {
    true
}

/// The encoder in fine-tuning: its current weights, its optimiser, and what the backward
/// pass needs from the latest batch's forward pass.
#[derive(Debug)]
pub(super) struct FineTuner {
    /// The encoder, as fine-tuned so far.
    pub(super) transformer: Transformer,
    trainer: EncoderTrainer,
    warmup_steps: usize,
    steps: usize,
    /// The latest batch's tokens' numbers of pieces, in order.
    counts: Vec<usize>,
    /// For each piece of the latest batch, the row of the encoder's output it is read from.
    rows: Vec<usize>,
    /// The encoder's output over the latest batch's windows.
    hidden: Vec<f32>,
}

impl FineTuner {
    /// Fine-tuning of `transformer` under `config` (the other Adam settings `adam`'s),
    /// dropout drawn from a generator seeded with `seed`.
    pub(super) fn new(
        transformer: Transformer,
        config: &FineTuneConfig,
        adam: AdamConfig,
        seed: u64,
    ) -> Self {
        let adam = AdamConfig { learn_rate: config.learn_rate, ..adam };
        let dropout =
            Dropout { hidden: config.hidden_dropout, attention: config.attention_dropout };
        let trainer = EncoderTrainer::new(&transformer, adam, dropout, seed, config.freeze_words);
        Self {
            transformer,
            trainer,
            warmup_steps: config.warmup_steps,
            steps: 0,
            counts: Vec::new(),
            rows: Vec::new(),
            hidden: Vec::new(),
        }
    }

    /// The features (tokens × width, one paragraph after another) of `paragraphs`, each
    /// given as its pieces and its tokens' numbers of pieces, from the encoder's training
    /// forward pass over every window of every paragraph at once.
    pub(super) fn forward<'p>(
        &mut self,
        paragraphs: impl Iterator<Item = (&'p [PieceId], &'p [usize])>,
    ) -> Vec<f32> {
        let transformer = &self.transformer;
        let (mut input, mut lens, mut owned) = (Vec::new(), Vec::new(), Vec::new());
        self.counts.clear();
        self.rows.clear();
        for (ids, counts) in paragraphs {
            let windows = transformer.windows.over(ids.len());
            let owners = Windows::owners(&windows, ids.len());
            owned.clear();
            let io = (&mut input, &mut lens);
            transformer.push_windows(ids, (&windows, 0), &owners, io, &mut owned);
            let first = self.rows.len();
            self.rows.resize(first + ids.len(), 0);
            for &(piece, row) in &owned {
                self.rows[first + piece] = row;
            }
            self.counts.extend_from_slice(counts);
        }
        self.trainer.forward(transformer, &input, &lens, &mut self.hidden);
        let width = transformer.width();
        let mut pieces = Vec::with_capacity(self.rows.len() * width);
        for &row in &self.rows {
            pieces.extend_from_slice(&self.hidden[row * width..(row + 1) * width]);
        }
        let mut features = vec![0.0; self.counts.len() * width];
        mean_over_pieces(&pieces, &self.counts, width, &mut features);
        features
    }

    /// The backward pass of the latest [`forward`](Self::forward), given the gradient of
    /// the loss with respect to its features, then one optimiser step on the encoder.
    pub(super) fn backward(&mut self, d_features: &[f32]) {
        let width = self.transformer.width();
        let mut d_pieces = vec![0.0; self.rows.len() * width];
        mean_over_pieces_backward(d_features, &self.counts, width, &mut d_pieces);
        let mut d_hidden = vec![0.0; self.hidden.len()];
        for (d_piece, &row) in d_pieces.chunks_exact(width).zip(&self.rows) {
            d_hidden[row * width..(row + 1) * width].copy_from_slice(d_piece);
        }
        self.trainer.backward(&self.transformer, &mut d_hidden);
        self.steps += 1;
        let warmup = (self.steps as f32 / self.warmup_steps.max(1) as f32).min(1.0);
        self.trainer.update(&mut self.transformer, warmup);
    }
}
