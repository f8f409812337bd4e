# Sourced by serve.sh and test.sh: the build environment both need.
#  - cargo's target directory outside the clone, so a fresh clone reuses earlier builds;
#  - CMake and libclang (llama.cpp's build and its bindings), from Debian when missing;
#  - llama.cpp's CPU level: the AVX2 floor from .cargo/config.toml, raised to AVX-512
#    when this CPU has it. AMX stays off whatever CPUID claims.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/switchyard/target}"

# bindgen (through clang-sys) loads `libclang.so` or `libclang-N.so`, and needs the clang
# headers that come with the -dev package. Other files that start with "libclang" do
# not count: Debian images often carry libclang-cpp.so.N (the C++ API), which bindgen
# cannot use, and a bare libclang.so.1 comes without the headers.
has_libclang() {
  local dir
  if [[ -n "${LIBCLANG_PATH:-}" ]]; then
    compgen -G "$LIBCLANG_PATH/libclang.so" >/dev/null || compgen -G "$LIBCLANG_PATH/libclang-[0-9]*.so" >/dev/null
    return
  fi
  for dir in /usr/lib/llvm-*/lib /usr/lib/*-linux-gnu /usr/lib64 /usr/local/lib; do
    [[ -e "$dir/libclang.so" ]] && return 0
    compgen -G "$dir/libclang-[0-9]*.so" >/dev/null && return 0
  done
  return 1
}

install_build_tools() {
  local missing=()
  command -v cmake >/dev/null 2>&1 || missing+=(cmake)
  has_libclang || missing+=(libclang-dev)
  ((${#missing[@]} == 0)) && return 0
  echo "Installing build tools from Debian: ${missing[*]}" >&2
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { "${sudo[@]}" apt-get update >/dev/null && "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
    || { echo "error: cannot install ${missing[*]} (needed to build llama.cpp); install them and retry" >&2; return 1; }
}

cpu_has() { grep -qw "$1" /proc/cpuinfo 2>/dev/null; }

if cpu_has avx512f && cpu_has avx512bw && cpu_has avx512vl && cpu_has avx512dq; then
  export GGML_AVX512="${GGML_AVX512:-ON}"
  cpu_has avx512vbmi && export GGML_AVX512_VBMI="${GGML_AVX512_VBMI:-ON}"
  cpu_has avx512_vnni && export GGML_AVX512_VNNI="${GGML_AVX512_VNNI:-ON}"
  cpu_has avx512_bf16 && export GGML_AVX512_BF16="${GGML_AVX512_BF16:-ON}"
fi

install_build_tools

# llama-cpp-sys-2 configures CMake once per target directory and never again, so a
# changed GGML_* flag or build profile would silently keep the old build. Remember the
# flags the last build used and clean that crate when they change.
forget_stale_llama_build() {
  local root stamp flags
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  stamp="$CARGO_TARGET_DIR/.llama-cpp-flags"
  flags="$( (env | grep -E '^(GGML_|LLAMA_LIB_PROFILE=)' || true; sed -n '/^\[env\]/,$p' "$root/.cargo/config.toml") | sort)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$flags" ]]; then
    return 0
  fi
  if compgen -G "$CARGO_TARGET_DIR/*/build/llama-cpp-sys-2-*" >/dev/null; then
    echo "llama.cpp build flags changed: rebuilding it" >&2
    (cd "$root" && cargo clean --quiet -p llama-cpp-sys-2 && cargo clean --quiet --release -p llama-cpp-sys-2)
  fi
  mkdir -p "$CARGO_TARGET_DIR" && printf '%s' "$flags" > "$stamp"
}
forget_stale_llama_build
