//! The forward pass of a BERT encoder (all-MiniLM-L6-v2 and its kin) on candle ops.
//!
//! It computes what candle-transformers' `BertModel` computes (a test holds the two to
//! float precision), shaped for CPU throughput on batches of short sentences, where
//! `BertModel` spent a fifth of its time in scalar `erff` and more in small ops
//! (`perf` on `examples/embed_speed`):
//! - query, key and value come from one matrix product with a fused `[3h, h]` weight;
//! - the attention scale 1/√d is folded into the query weights when loading;
//! - GELU runs on a vectorisable erf (`gelu.rs`);
//! - softmax uses candle's fused last-dimension kernel;
//! - a single short sentence (a prompt to route) is multiplied as `W · xᵀ`: gemm tiles
//!   `x · Wᵀ` by 64 rows, mostly padding for a 12-token prompt (14 → 9 ms per
//!   sentence; what is left is reading the 42 MB of weights).

use candle_core::{DType, Module, Result, Tensor, bail};
use candle_nn::ops::softmax_last_dim;
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};
use serde::Deserialize;

/// The fields of a Hugging Face BERT `config.json` the forward pass needs.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: Activation,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    #[serde(default = "absolute")]
    pub position_embedding_type: String,
}

fn absolute() -> String {
    "absolute".to_owned()
}

/// The feed-forward activation, by its `hidden_act` name.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Exact GELU (erf), what BERT and MiniLM use.
    Gelu,
    /// The tanh approximation of GELU.
    #[serde(alias = "gelu_pytorch_tanh")]
    GeluNew,
    Relu,
}

impl Activation {
    fn apply(self, xs: &Tensor) -> Result<Tensor> {
        match self {
            Activation::Gelu => super::gelu::gelu_erf(xs),
            Activation::GeluNew => xs.gelu(),
            Activation::Relu => xs.relu(),
        }
    }
}

pub struct BertEncoder {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    heads: usize,
    activation: Activation,
}

impl BertEncoder {
    /// Loads the weights, named as in Hugging Face checkpoints (with or without the
    /// `bert.` prefix of models saved with a task head).
    pub fn load(vb: VarBuilder, config: &BertConfig) -> Result<Self> {
        if config.position_embedding_type != "absolute" {
            bail!(
                "position_embedding_type {:?} is not supported (only \"absolute\")",
                config.position_embedding_type
            );
        }
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            bail!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                config.hidden_size,
                config.num_attention_heads
            );
        }
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let layers = (0..config.num_hidden_layers)
            .map(|index| Layer::load(vb.pp(format!("encoder.layer.{index}")), config))
            .collect::<Result<_>>()?;
        Ok(BertEncoder {
            embeddings: Embeddings::load(vb.pp("embeddings"), config)?,
            layers,
            heads: config.num_attention_heads,
            activation: config.hidden_act,
        })
    }

    /// The last hidden state, `[batch, tokens, hidden]`, for token ids, token type ids
    /// and an attention mask (1 for real tokens, 0 for padding), each `[batch, tokens]`.
    pub fn forward(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (batch, tokens) = ids.dims2()?;
        let hidden = self.embeddings.forward(ids, types)?;
        let width = hidden.dim(2)?;
        // Padding gets a score so low that softmax gives it no weight.
        let mask = mask
            .to_dtype(DType::F32)?
            .affine(f64::from(f32::MAX), -f64::from(f32::MAX))?
            .reshape((batch, 1, 1, tokens))?;
        let shape = Shape {
            batch,
            tokens,
            heads: self.heads,
            head_size: width / self.heads,
        };
        let mut hidden = hidden.reshape((batch * tokens, width))?;
        for layer in &self.layers {
            hidden = layer.forward(&hidden, &mask, shape, self.activation)?;
        }
        hidden.reshape((batch, tokens, width))
    }
}

#[derive(Clone, Copy)]
struct Shape {
    batch: usize,
    tokens: usize,
    heads: usize,
    head_size: usize,
}

struct Embeddings {
    words: Embedding,
    positions: Tensor,
    types: Embedding,
    norm: LayerNorm,
}

impl Embeddings {
    fn load(vb: VarBuilder, config: &BertConfig) -> Result<Self> {
        let width = config.hidden_size;
        let table = |rows, name: &str| -> Result<Embedding> {
            Ok(Embedding::new(
                vb.pp(name).get((rows, width), "weight")?,
                width,
            ))
        };
        Ok(Embeddings {
            words: table(config.vocab_size, "word_embeddings")?,
            positions: vb
                .pp("position_embeddings")
                .get((config.max_position_embeddings, width), "weight")?,
            types: table(config.type_vocab_size, "token_type_embeddings")?,
            norm: layer_norm(vb.pp("LayerNorm"), config)?,
        })
    }

    fn forward(&self, ids: &Tensor, types: &Tensor) -> Result<Tensor> {
        let tokens = ids.dim(1)?;
        if tokens > self.positions.dim(0)? {
            bail!(
                "{tokens} tokens exceed the model's {} positions",
                self.positions.dim(0)?
            );
        }
        let summed = (self.words.forward(ids)? + self.types.forward(types)?)?
            .broadcast_add(&self.positions.narrow(0, 0, tokens)?)?;
        self.norm.forward(&summed)
    }
}

/// Rows (tokens of the whole batch) up to which a dense layer is computed as
/// `(W · xᵀ)ᵀ`, which gemm tiles along the weights' rows instead of the input's.
const FEW_ROWS: usize = 32;

/// A dense layer, `x · Wᵀ + b`.
struct Dense(Linear);

impl Dense {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        match self.0.bias() {
            Some(bias) if xs.dim(0)? <= FEW_ROWS => {
                self.0.weight().matmul(&xs.t()?)?.t()?.broadcast_add(bias)
            }
            _ => self.0.forward(xs),
        }
    }
}

struct Layer {
    /// Query, key and value projections as one `[3h, h]` product.
    qkv: Dense,
    attention_out: Dense,
    attention_norm: LayerNorm,
    up: Dense,
    down: Dense,
    output_norm: LayerNorm,
}

impl Layer {
    fn load(vb: VarBuilder, config: &BertConfig) -> Result<Self> {
        let width = config.hidden_size;
        let scale = 1.0 / ((width / config.num_attention_heads) as f64).sqrt();
        let attention = vb.pp("attention");
        let projection = |name: &str, scale: f64| -> Result<(Tensor, Tensor)> {
            let vb = attention.pp("self").pp(name);
            Ok((
                (vb.get((width, width), "weight")? * scale)?,
                (vb.get(width, "bias")? * scale)?,
            ))
        };
        let (query, query_bias) = projection("query", scale)?;
        let (key, key_bias) = projection("key", 1.0)?;
        let (value, value_bias) = projection("value", 1.0)?;
        let qkv = Dense(Linear::new(
            Tensor::cat(&[query, key, value], 0)?,
            Some(Tensor::cat(&[query_bias, key_bias, value_bias], 0)?),
        ));
        Ok(Layer {
            qkv,
            attention_out: linear(attention.pp("output.dense"), width, width)?,
            attention_norm: layer_norm(attention.pp("output.LayerNorm"), config)?,
            up: linear(vb.pp("intermediate.dense"), width, config.intermediate_size)?,
            down: linear(vb.pp("output.dense"), config.intermediate_size, width)?,
            output_norm: layer_norm(vb.pp("output.LayerNorm"), config)?,
        })
    }

    /// One layer over `[batch·tokens, hidden]` rows.
    fn forward(
        &self,
        hidden: &Tensor,
        mask: &Tensor,
        shape: Shape,
        activation: Activation,
    ) -> Result<Tensor> {
        let Shape {
            batch,
            tokens,
            heads,
            head_size,
        } = shape;
        let qkv = self
            .qkv
            .forward(hidden)?
            .reshape((batch, tokens, 3, heads, head_size))?
            .permute((2, 0, 3, 1, 4))?;
        let [query, key, value] =
            [0, 1, 2].map(|part| qkv.get(part).and_then(|part| part.contiguous()));
        let scores = query?.matmul(&key?.t()?)?.broadcast_add(mask)?;
        let context = softmax_last_dim(&scores)?
            .matmul(&value?)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((batch * tokens, heads * head_size))?;
        let attended = self
            .attention_norm
            .forward(&(self.attention_out.forward(&context)? + hidden)?)?;
        let expanded = activation.apply(&self.up.forward(&attended)?)?;
        self.output_norm
            .forward(&(self.down.forward(&expanded)? + &attended)?)
    }
}

fn linear(vb: VarBuilder, inputs: usize, outputs: usize) -> Result<Dense> {
    Ok(Dense(Linear::new(
        vb.get((outputs, inputs), "weight")?,
        Some(vb.get(outputs, "bias")?),
    )))
}

fn layer_norm(vb: VarBuilder, config: &BertConfig) -> Result<LayerNorm> {
    Ok(LayerNorm::new(
        vb.get(config.hidden_size, "weight")?,
        vb.get(config.hidden_size, "bias")?,
        config.layer_norm_eps,
    ))
}
