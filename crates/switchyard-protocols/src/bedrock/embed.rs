//! Embeddings through InvokeModel (`POST /model/{modelId}/invoke`), whose bodies are
//! each model family's own: Amazon Titan Text Embeddings (one text per call) and Cohere
//! Embed v3/v4 (up to 96 texts per call). Converse does not serve embedding models.
//!
//! Only float vectors are asked for and read back. Neither family reports usage the
//! same way: Titan's body counts input tokens, Cohere's does not (the provider reads
//! the `X-Amzn-Bedrock-Input-Token-Count` header instead).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_types::{EmbedInput, EmbedRequest, Extra};

use super::request::model_family;
use crate::DecodeError;
use crate::decode::from_json;

/// The most texts one Cohere call takes.
pub const COHERE_MAX_TEXTS: usize = 96;

/// Which InvokeModel body an embedding model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedFamily {
    /// `amazon.titan-embed-text-v2:0`, `amazon.titan-embed-text-v1`, ….
    Titan,
    /// `cohere.embed-english-v3`, `cohere.embed-multilingual-v3`, `cohere.embed-v4:0`.
    Cohere,
}

impl EmbedFamily {
    /// The family of a model or inference-profile id, by its prefix; `None` for other
    /// models and for ARNs, which do not name the model.
    pub fn of(model_id: &str) -> Option<Self> {
        let family = model_family(model_id);
        if family.starts_with("amazon.titan-embed") {
            Some(EmbedFamily::Titan)
        } else if family.starts_with("cohere.embed") {
            Some(EmbedFamily::Cohere)
        } else {
            None
        }
    }
}

/// Titan Text Embeddings' request: one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitanEmbedRequest {
    pub input_text: String,
    /// V2 only: 1024 (default), 512 or 256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// V2 only: L2-normalise the vector (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    /// V2 only: `float` (default) and/or `binary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_types: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TitanEmbedResponse {
    /// Always float; absent when only `binary` was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Vec<f32>>,
    #[serde(default)]
    pub input_text_token_count: u64,
    /// `{"float": […], "binary": […]}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embeddings_by_type: Option<serde_json::Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Cohere Embed's request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohereEmbedRequest {
    pub texts: Vec<String>,
    /// `search_document`, `search_query`, `classification` or `clustering`; required.
    pub input_type: String,
    /// v3: `NONE|START|END`; v4: `NONE|LEFT|RIGHT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_types: Option<Vec<String>>,
    /// v4 only: 256, 512, 1024 or 1536 (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_dimension: Option<u32>,
    /// `max_tokens` (v4), `images`, `inputs`, … as given.
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohereEmbedResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub texts: Vec<String>,
    pub embeddings: CohereEmbeddings,
    /// `embeddings_floats` or `embeddings_by_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A list of float vectors, or, when `embedding_types` was given, vectors by type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CohereEmbeddings {
    Floats(Vec<Vec<f32>>),
    ByType(serde_json::Map<String, Value>),
}

fn texts(request: &EmbedRequest) -> Result<&[String], DecodeError> {
    match &request.input {
        EmbedInput::Texts(texts) => Ok(texts),
        EmbedInput::Tokens(_) => Err(DecodeError::at(
            "input",
            "Bedrock embeds text only, not token arrays",
        )),
    }
}

fn extra_str(request: &EmbedRequest, key: &str) -> Option<String> {
    request
        .extra
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// One Titan request per input text, in input order.
pub fn titan_requests(
    request: &EmbedRequest,
    model_id: &str,
) -> Result<Vec<TitanEmbedRequest>, DecodeError> {
    // V1 has a fixed size and takes nothing but the text.
    let v1 = model_family(model_id).starts_with("amazon.titan-embed-text-v1");
    if v1 && request.dimensions.is_some() {
        return Err(DecodeError::at(
            "dimensions",
            format!("`{model_id}` has a fixed size"),
        ));
    }
    let normalize = request.extra.get("normalize").and_then(Value::as_bool);
    Ok(texts(request)?
        .iter()
        .map(|text| TitanEmbedRequest {
            input_text: text.clone(),
            dimensions: request.dimensions,
            normalize: normalize.filter(|_| !v1),
            embedding_types: None,
        })
        .collect())
}

/// Cohere requests of at most [`COHERE_MAX_TEXTS`] texts each, in input order. The
/// required `input_type` is the caller's (an extra field), else `search_document`.
pub fn cohere_requests(
    request: &EmbedRequest,
    model_id: &str,
) -> Result<Vec<CohereEmbedRequest>, DecodeError> {
    let v4 = model_family(model_id).starts_with("cohere.embed-v4");
    if !v4 && request.dimensions.is_some() {
        return Err(DecodeError::at(
            "dimensions",
            format!("`{model_id}` has a fixed size; Cohere Embed v4 takes `dimensions`"),
        ));
    }
    let input_type = extra_str(request, "input_type").unwrap_or_else(|| "search_document".into());
    let truncate = extra_str(request, "truncate");
    Ok(texts(request)?
        .chunks(COHERE_MAX_TEXTS)
        .map(|chunk| CohereEmbedRequest {
            texts: chunk.to_vec(),
            input_type: input_type.clone(),
            truncate: truncate.clone(),
            embedding_types: None,
            output_dimension: request.dimensions,
            extra: Extra::new(),
        })
        .collect())
}

/// A Titan answer: the float vector and the input tokens it counted.
pub fn decode_titan_response(body: &[u8]) -> Result<(Vec<f32>, u64), DecodeError> {
    let wire = from_json::<TitanEmbedResponse>(body)?;
    let vector = match wire.embedding {
        Some(vector) => vector,
        None => wire
            .embeddings_by_type
            .and_then(|mut by_type| by_type.remove("float"))
            .and_then(|floats| serde_json::from_value(floats).ok())
            .ok_or_else(|| DecodeError::new("Titan answered without a float embedding"))?,
    };
    Ok((vector, wire.input_text_token_count))
}

/// A Cohere answer's float vectors, which must number `inputs`.
pub fn decode_cohere_response(body: &[u8], inputs: usize) -> Result<Vec<Vec<f32>>, DecodeError> {
    let wire = from_json::<CohereEmbedResponse>(body)?;
    let vectors = match wire.embeddings {
        CohereEmbeddings::Floats(vectors) => vectors,
        CohereEmbeddings::ByType(mut by_type) => by_type
            .remove("float")
            .and_then(|floats| serde_json::from_value(floats).ok())
            .ok_or_else(|| DecodeError::new("Cohere answered without float embeddings"))?,
    };
    if vectors.len() != inputs {
        return Err(DecodeError::new(format!(
            "Cohere returned {} embeddings for {inputs} inputs",
            vectors.len()
        )));
    }
    Ok(vectors)
}
