//! Reading the CSV files of a result directory by column name.
//!
//! The files `sim run` writes are RFC 4180 CSV: one header line, then one
//! row per line, an empty field for a missing value (`docs/outputs.md`).
//! Columns are found by their header names, so files with added or
//! reordered columns read the same. White space around a field is ignored.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::csvfile;

/// Why two result directories could not be compared.
#[derive(Debug, Error)]
pub enum CompareError {
    /// A file is missing or unreadable.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// A file is not valid CSV (e.g. a quoted field never closed).
    #[error("{}:{line}: not valid CSV: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// Line where the reader stopped (1-based).
        line: usize,
        /// What the CSV reader said.
        message: String,
    },
    /// A file has no header line.
    #[error("{}:1: empty file, expected a header line", path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// The header lacks a column the comparison needs.
    #[error("{}:{line}: missing column `{column}`", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// Line of the header (1).
        line: usize,
        /// The column.
        column: String,
    },
    /// A data line has another number of fields than the header.
    #[error("{}:{line}: {found} fields, the header has {expected}", path.display())]
    FieldCount {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// Fields in the header.
        expected: usize,
        /// Fields on this line.
        found: usize,
    },
    /// A field is neither empty nor a finite number.
    #[error("{}:{line}: column `{column}`: `{value}` is not a number", path.display())]
    BadNumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The column.
        column: String,
        /// The field as written.
        value: String,
    },
}

/// One CSV file: its header and its data lines.
#[derive(Debug)]
pub(super) struct Table {
    path: PathBuf,
    header: Vec<String>,
    /// Data lines: 1-based line number in the file, and the fields.
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// Reads `dir/name`. Blank lines are skipped; a line with another
    /// number of fields than the header is an error.
    pub(super) fn read(dir: &Path, name: &str) -> Result<Table, CompareError> {
        let path = dir.join(name);
        let text = fs::read_to_string(&path).map_err(|source| CompareError::Read {
            path: path.clone(),
            source,
        })?;
        Table::parse(path, &text)
    }

    /// Parses `text`, the content of the file at `path`.
    pub(super) fn parse(path: PathBuf, text: &str) -> Result<Table, CompareError> {
        let bad_csv = |source: csv::Error| CompareError::Csv {
            path: path.clone(),
            line: source.position().map_or(0, |p| csvfile::line_of(text, p)),
            message: source.to_string(),
        };
        // Blank lines (also lines of white space only) are skipped.
        let mut records = csvfile::records(text).filter(|r| {
            !r.as_ref()
                .is_ok_and(|r| r.iter().all(|f| f.trim().is_empty()))
        });
        let Some(header) = records.next().transpose().map_err(bad_csv)? else {
            return Err(CompareError::NoHeader { path });
        };
        let trimmed = |r: &csv::StringRecord| -> Vec<String> {
            r.iter().map(|f| f.trim().to_string()).collect()
        };
        let header = trimmed(&header);
        let mut rows = Vec::new();
        for record in records {
            let record = record.map_err(bad_csv)?;
            let line = record.position().map_or(0, |p| csvfile::line_of(text, p));
            let fields = trimmed(&record);
            if fields.len() != header.len() {
                return Err(CompareError::FieldCount {
                    path,
                    line,
                    expected: header.len(),
                    found: fields.len(),
                });
            }
            rows.push((line, fields));
        }
        Ok(Table { path, header, rows })
    }

    /// Index of column `name`.
    fn column(&self, name: &str) -> Result<usize, CompareError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| CompareError::MissingColumn {
                path: self.path.clone(),
                line: 1,
                column: name.to_string(),
            })
    }

    /// The values of column `name`, one per data line in file order; an
    /// empty field is `None`. A field that is not a finite number is an
    /// error naming the file, line and column.
    pub(super) fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>, CompareError> {
        let col = self.column(name)?;
        self.rows
            .iter()
            .map(|(line, fields)| {
                let field = fields[col].as_str();
                if field.is_empty() {
                    return Ok(None);
                }
                match field.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Some(v)),
                    _ => Err(CompareError::BadNumber {
                        path: self.path.clone(),
                        line: *line,
                        column: name.to_string(),
                        value: field.to_string(),
                    }),
                }
            })
            .collect()
    }

    /// The values present in column `name`, in file order.
    pub(super) fn present(&self, name: &str) -> Result<Vec<f64>, CompareError> {
        Ok(self.numbers(name)?.into_iter().flatten().collect())
    }

    /// The values of column `name` on the lines whose column `key` holds
    /// its largest value (e.g. the last sample of `time_ms`); lines without
    /// a `key` are ignored. Empty when no line has a `key`.
    pub(super) fn at_max(&self, key: &str, name: &str) -> Result<Vec<Option<f64>>, CompareError> {
        let keys = self.numbers(key)?;
        let values = self.numbers(name)?;
        let Some(max) = keys.iter().flatten().copied().max_by(f64::total_cmp) else {
            return Ok(Vec::new());
        };
        Ok(keys
            .into_iter()
            .zip(values)
            .filter(|(k, _)| *k == Some(max))
            .map(|(_, v)| v)
            .collect())
    }
}
