//! Re-encoding a GGUF file with llama.cpp's own quantizer.

use std::ffi::CString;
use std::path::Path;

/// Writes `source` dequantized to F16 at `target`. Needs the llama.cpp backend, which
/// the caller need not have started: it is started here if not yet running.
pub fn gguf_to_f16(source: &Path, target: &Path) -> Result<(), String> {
    let _backend = crate::llama::backend().map_err(|error| error.to_string())?;
    let to_c = |path: &Path| {
        CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| format!("{}: path contains a NUL byte", path.display()))
    };
    let (source_c, target_c) = (to_c(source)?, to_c(target)?);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    #[allow(unsafe_code)]
    // SAFETY: `llama_model_quantize_default_params` returns a plain struct by value; the
    // path pointers stay valid for the call, which reads the source and writes the
    // target and keeps no pointer afterwards.
    let status = unsafe {
        let mut params = llama_cpp_sys_2::llama_model_quantize_default_params();
        params.nthread = i32::try_from(threads).unwrap_or(1);
        params.ftype = llama_cpp_sys_2::LLAMA_FTYPE_MOSTLY_F16;
        // The source is already quantized (Q4_1): "requantizing" is what dequantizing
        // it takes.
        params.allow_requantize = true;
        llama_cpp_sys_2::llama_model_quantize(source_c.as_ptr(), target_c.as_ptr(), &params)
    };
    if status == 0 {
        Ok(())
    } else {
        Err(format!("llama.cpp's quantizer returned {status}"))
    }
}
