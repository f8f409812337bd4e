//! Reading GGUF metadata without loading the weights.

use std::path::Path;

/// The `general.architecture` of a GGUF file (`llama`, `gemma3`), if readable.
pub fn architecture(path: &Path) -> Option<String> {
    metadata_str(path, "general.architecture")
}

/// One string-valued metadata key of a GGUF file.
pub fn metadata_str(path: &Path, key: &str) -> Option<String> {
    let gguf = llama_cpp_2::gguf::GgufContext::from_file(path)?;
    let index = gguf.find_key(key);
    if index < 0 {
        return None;
    }
    gguf.val_str(index).map(str::to_owned)
}
