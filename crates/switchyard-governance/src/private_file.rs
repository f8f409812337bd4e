//! Files of governance data (the ledger's journal and spill file, the SQLite store)
//! readable by this user only: they name keys, organisations and what they spent, and
//! the store holds stored conversations. Directories are 0700, files 0600.

use std::path::Path;

/// Creates `directory` and its parents, readable by this user only where created.
pub fn create_dir(directory: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(directory)
}

/// Opens `path` for appending, creating it (and its directory) readable by this user
/// only.
pub fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(parent) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        create_dir(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
