//! Reading GGUF metadata without loading the weights.

use std::path::Path;

use llama_cpp_2::gguf::GgufContext;

/// A GGUF file's metadata, parsed once and read key by key.
pub struct GgufMetadata(GgufContext);

impl GgufMetadata {
    /// `None` when the file cannot be read as GGUF.
    pub fn open(path: &Path) -> Option<Self> {
        GgufContext::from_file(path).map(GgufMetadata)
    }

    /// One string-valued key.
    pub fn string(&self, key: &str) -> Option<String> {
        let index = self.0.find_key(key);
        if index < 0 {
            return None;
        }
        self.0.val_str(index).map(str::to_owned)
    }

    /// `general.architecture` (`llama`, `gemma3`).
    pub fn architecture(&self) -> Option<String> {
        self.string("general.architecture")
    }
}

/// The `general.architecture` of a GGUF file, if readable.
pub fn architecture(path: &Path) -> Option<String> {
    GgufMetadata::open(path)?.architecture()
}
