//! The shape of the raw config types, read from their `Deserialize` impls.
//!
//! Unknown keys are found by walking the parsed document against a [`Schema`] instead of
//! with `#[serde(deny_unknown_fields)]`, which stops at the first one and cannot say
//! where a nested key sits. The schema is not a hand-kept list: [`Schema::of`] runs a
//! type's derived `Deserialize` against a deserializer that records the `fields` each
//! `deserialize_struct` call names (as `serde_aux::serde_introspect` does) and recurses
//! into every field, option and map value. A field added to a `Raw*` struct is therefore
//! known here at once.
//!
//! The introspector supports what the raw model uses: structs, options, `Spanned`,
//! maps, sequences and scalars. Enums, tuples and `#[serde(flatten)]` are not
//! introspected; a struct using them shows up as [`Schema::Other`] and a unit test on
//! the schema of `RawConfig` fails.

use std::fmt;

use serde::Deserialize;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// What keys a table may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Schema {
    /// A struct: its field names, in declaration order, each with its value's schema.
    Struct(Vec<(&'static str, Schema)>),
    /// A map with free keys (a provider's name, a header name) and values of one schema.
    Map(Box<Schema>),
    /// A scalar or a sequence: no keys to check.
    Other,
}

impl Schema {
    /// The schema of `T`, read from its `Deserialize` impl.
    pub(crate) fn of<'de, T: Deserialize<'de>>() -> Schema {
        let mut schema = Schema::Other;
        // A failure leaves whatever was recorded; a unit test checks `RawConfig` is whole.
        let _ = T::deserialize(Introspect { out: &mut schema });
        schema
    }

    /// The fields of a struct schema, in declaration order.
    pub(crate) fn field_names(fields: &[(&'static str, Schema)]) -> Vec<&'static str> {
        fields.iter().map(|(name, _)| *name).collect()
    }
}

// === impl Introspect ===

/// A deserializer that yields placeholder values and records the shape it is asked for.
struct Introspect<'s> {
    out: &'s mut Schema,
}

#[derive(Debug)]
struct IntrospectError(String);

impl fmt::Display for IntrospectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for IntrospectError {}

impl de::Error for IntrospectError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        IntrospectError(msg.to_string())
    }
}

fn unsupported(what: &str) -> IntrospectError {
    IntrospectError(format!("schema introspection does not support {what}"))
}

macro_rules! placeholder {
    ($($method:ident => $visit:ident($value:expr);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
                visitor.$visit($value)
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Introspect<'_> {
    type Error = IntrospectError;

    placeholder! {
        deserialize_bool => visit_bool(false);
        deserialize_i8 => visit_i64(0);
        deserialize_i16 => visit_i64(0);
        deserialize_i32 => visit_i64(0);
        deserialize_i64 => visit_i64(0);
        deserialize_i128 => visit_i128(0);
        deserialize_u8 => visit_u64(0);
        deserialize_u16 => visit_u64(0);
        deserialize_u32 => visit_u64(0);
        deserialize_u64 => visit_u64(0);
        deserialize_u128 => visit_u128(0);
        deserialize_f32 => visit_f64(0.0);
        deserialize_f64 => visit_f64(0.0);
        deserialize_char => visit_char(' ');
        deserialize_str => visit_borrowed_str("");
        deserialize_string => visit_borrowed_str("");
        deserialize_identifier => visit_borrowed_str("");
        deserialize_bytes => visit_borrowed_bytes(&[]);
        deserialize_byte_buf => visit_borrowed_bytes(&[]);
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(unsupported("self-describing values"))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        *self.out = Schema::Other;
        visitor.visit_seq(EmptySeq)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Err(unsupported("tuples"))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Err(unsupported("tuple structs"))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let mut values = Schema::Other;
        let result = visitor.visit_map(OneEntry {
            value: &mut values,
            state: OneEntryState::Key,
        });
        *self.out = Schema::Map(Box::new(values));
        result
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let mut recorded = Vec::with_capacity(fields.len());
        let result = visitor.visit_map(Fields {
            fields,
            recorded: &mut recorded,
        });
        *self.out = if serde_spanned::de::is_spanned(name) {
            // `Spanned<T>` is transparent: its last field holds the `T`.
            recorded.pop().map_or(Schema::Other, |(_, schema)| schema)
        } else {
            Schema::Struct(recorded)
        };
        result
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        Err(unsupported("enums"))
    }
}

/// Feeds a struct visitor every field name once, recording each value's schema.
struct Fields<'s> {
    fields: &'static [&'static str],
    recorded: &'s mut Vec<(&'static str, Schema)>,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = IntrospectError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.fields.get(self.recorded.len()) {
            Some(&field) => seed
                .deserialize(BorrowedStrDeserializer::new(field))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let &field = self
            .fields
            .get(self.recorded.len())
            .ok_or_else(|| IntrospectError("value requested after the last field".into()))?;
        self.recorded.push((field, Schema::Other));
        let (_, out) = self
            .recorded
            .last_mut()
            .ok_or_else(|| IntrospectError("no field recorded".into()))?;
        seed.deserialize(Introspect { out })
    }
}

/// A map of exactly one placeholder entry, recording the value's schema.
struct OneEntry<'s> {
    value: &'s mut Schema,
    state: OneEntryState,
}

#[derive(PartialEq, Eq)]
enum OneEntryState {
    Key,
    Value,
    Done,
}

impl<'de> MapAccess<'de> for OneEntry<'_> {
    type Error = IntrospectError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        if self.state != OneEntryState::Key {
            return Ok(None);
        }
        self.state = OneEntryState::Value;
        let mut key_schema = Schema::Other;
        seed.deserialize(Introspect {
            out: &mut key_schema,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.state = OneEntryState::Done;
        seed.deserialize(Introspect {
            out: &mut *self.value,
        })
    }
}

struct EmptySeq;

impl<'de> SeqAccess<'de> for EmptySeq {
    type Error = IntrospectError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        _seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pretty_assertions::assert_eq;
    use serde::Deserialize;
    use toml::Spanned;

    use super::Schema;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        a: Option<Spanned<String>>,
        b: Vec<u32>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        #[serde(rename = "type")]
        kind: String,
        inner: Option<Spanned<Inner>>,
        #[serde(default)]
        entries: BTreeMap<Spanned<String>, Spanned<Inner>>,
        flag: bool,
    }

    #[test]
    fn introspects_nested_structs_maps_and_spans() {
        let inner = Schema::Struct(vec![("a", Schema::Other), ("b", Schema::Other)]);
        assert_eq!(
            Schema::of::<Outer>(),
            Schema::Struct(vec![
                ("type", Schema::Other),
                ("inner", inner.clone()),
                ("entries", Schema::Map(Box::new(inner))),
                ("flag", Schema::Other),
            ])
        );
    }
}
