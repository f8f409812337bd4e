//! `POST /v1/embeddings` ⇄ canonical [`EmbedRequest`] / [`EmbedResponse`].

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_types::{EmbedInput, EmbedRequest, EmbedResponse, Usage};
use utoipa::ToSchema;

use super::texts::{TextsOrTokens, texts_or_tokens};
use crate::DecodeError;
use crate::decode::from_json;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbeddingRequest {
    pub model: String,
    pub input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    #[default]
    Float,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbeddingResponse {
    pub object: String,
    pub data: Vec<Embedding>,
    pub model: String,
    pub usage: EmbeddingUsage,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Embedding {
    pub object: String,
    pub index: u32,
    /// A list of floats, or a base64 string of little-endian `f32`s.
    pub embedding: EmbeddingVector,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EmbeddingVector {
    Float(Vec<f32>),
    Base64(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbeddingUsage {
    pub prompt_tokens: u64,
    pub total_tokens: u64,
}

/// The most inputs one request may carry, as OpenAI documents.
pub const MAX_INPUTS: usize = 2048;

/// Parses an embeddings request; returns the canonical request and the encoding the
/// caller wants the vectors in.
pub fn decode_embedding_request(
    body: &[u8],
) -> Result<(EmbedRequest, EncodingFormat), DecodeError> {
    let wire = from_json::<EmbeddingRequest>(body)?;
    if wire.model.is_empty() {
        return Err(DecodeError::at("model", "must not be empty"));
    }
    if wire.dimensions == Some(0) {
        return Err(DecodeError::at("dimensions", "must be at least 1"));
    }
    let input = match texts_or_tokens(wire.input, "input")? {
        TextsOrTokens::Texts(texts) => EmbedInput::Texts(texts),
        TextsOrTokens::Tokens(tokens) => EmbedInput::Tokens(tokens),
    };
    if input.is_empty() {
        return Err(DecodeError::at("input", "must not be empty"));
    }
    if input.len() > MAX_INPUTS {
        return Err(DecodeError::at(
            "input",
            format!(
                "at most {MAX_INPUTS} inputs per request, got {}",
                input.len()
            ),
        ));
    }
    Ok((
        EmbedRequest {
            model: wire.model,
            input,
            dimensions: wire.dimensions,
            user: wire.user,
            extra: wire.extra,
        },
        wire.encoding_format.unwrap_or_default(),
    ))
}

/// Encodes a canonical request for an upstream. Vectors are always asked for as floats:
/// base64 is applied on the way back to the caller, so the metering and any future
/// caching see plain numbers.
pub fn from_canonical_embed_request(
    request: &EmbedRequest,
    upstream_model: &str,
) -> EmbeddingRequest {
    let input = match &request.input {
        EmbedInput::Texts(texts) => Value::from(texts.clone()),
        EmbedInput::Tokens(tokens) => Value::from(tokens.clone()),
    };
    EmbeddingRequest {
        model: upstream_model.to_owned(),
        input,
        encoding_format: Some(EncodingFormat::Float),
        dimensions: request.dimensions,
        user: request.user.clone(),
        extra: request.extra.clone(),
    }
}

pub fn decode_embedding_response(body: &[u8]) -> Result<EmbedResponse, DecodeError> {
    let wire = from_json::<EmbeddingResponse>(body)?;
    let mut data = wire.data;
    data.sort_by_key(|embedding| embedding.index);
    let embeddings = data
        .into_iter()
        .map(|embedding| match embedding.embedding {
            EmbeddingVector::Float(vector) => Ok(vector),
            EmbeddingVector::Base64(encoded) => decode_base64_vector(&encoded),
        })
        .collect::<Result<_, _>>()?;
    Ok(EmbedResponse {
        model: wire.model,
        embeddings,
        usage: Usage {
            input_tokens: wire.usage.prompt_tokens,
            ..Usage::default()
        },
    })
}

pub fn from_canonical_embed_response(
    response: &EmbedResponse,
    model: &str,
    format: EncodingFormat,
) -> EmbeddingResponse {
    let data = response
        .embeddings
        .iter()
        .zip(0u32..)
        .map(|(vector, index)| Embedding {
            object: "embedding".to_owned(),
            index,
            embedding: match format {
                EncodingFormat::Float => EmbeddingVector::Float(vector.clone()),
                EncodingFormat::Base64 => EmbeddingVector::Base64(encode_base64_vector(vector)),
            },
        })
        .collect();
    EmbeddingResponse {
        object: "list".to_owned(),
        data,
        model: model.to_owned(),
        usage: EmbeddingUsage {
            prompt_tokens: response.usage.input_tokens,
            total_tokens: response.usage.input_tokens,
        },
    }
}

/// OpenAI's base64 embedding encoding: the vector's little-endian `f32` bytes.
pub fn encode_base64_vector(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn decode_base64_vector(encoded: &str) -> Result<Vec<f32>, DecodeError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|error| DecodeError::new(format!("embedding is not valid base64: {error}")))?;
    if bytes.len() % 4 != 0 {
        return Err(DecodeError::new(
            "a base64 embedding must hold a whole number of 4-byte floats",
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_input_shape() {
        let cases = [
            (r#""hello""#, EmbedInput::Texts(vec!["hello".into()])),
            (
                r#"["a","b"]"#,
                EmbedInput::Texts(vec!["a".into(), "b".into()]),
            ),
            ("[1,2,3]", EmbedInput::Tokens(vec![vec![1, 2, 3]])),
            ("[[1],[2,3]]", EmbedInput::Tokens(vec![vec![1], vec![2, 3]])),
        ];
        for (input, expected) in cases {
            let body = format!(r#"{{"model":"m","input":{input}}}"#);
            let (request, format) = decode_embedding_request(body.as_bytes()).expect("valid");
            assert_eq!(request.input, expected, "input {input}");
            assert_eq!(format, EncodingFormat::Float);
        }
    }

    #[test]
    fn names_the_bad_input_element() {
        let error =
            decode_embedding_request(br#"{"model":"m","input":["a",3]}"#).expect_err("mixed input");
        assert_eq!(error.param.as_deref(), Some("input[1]"));
        let error =
            decode_embedding_request(br#"{"model":"m","input":[]}"#).expect_err("empty input");
        assert_eq!(error.param.as_deref(), Some("input"));
        let error =
            decode_embedding_request(br#"{"model":"m","input":"x","encoding_format":"hex"}"#)
                .expect_err("unknown format");
        assert_eq!(error.param.as_deref(), Some("encoding_format"));
    }

    #[test]
    fn base64_round_trips_little_endian_floats() {
        let vector = vec![0.5f32, -1.25, 3.0e-8];
        let encoded = encode_base64_vector(&vector);
        assert_eq!(decode_base64_vector(&encoded).expect("valid"), vector);
        // 1.0f32 is 0x3f800000, little-endian 00 00 80 3f.
        assert_eq!(encode_base64_vector(&[1.0]), "AACAPw==");
    }
}
