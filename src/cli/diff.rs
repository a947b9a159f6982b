//! `deployc diff` (being written).
use super::{Color, DiffFormat};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(_file: &Path, _out: Option<PathBuf>, _format: DiffFormat, _targets: &[deployc::emit::Target], _color: Color) -> ExitCode {
    ExitCode::from(2)
}
