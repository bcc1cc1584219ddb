//! How every CSV file of the project is written and read: RFC 4180 through
//! the `csv` crate, and into place atomically.
//!
//! A file is a header line and one line per row, fields separated by commas,
//! lines ended by `\n`. A field that holds a comma, a double quote, a CR or
//! an LF is enclosed in double quotes, with its quotes doubled, so free text
//! (an event's details, an error message) is kept exactly. A missing value is
//! an empty field. Numbers are formatted by the caller before they are
//! written, so every file keeps its number format (see `docs/outputs.md`).
//!
//! Files are written under a temporary name and renamed, so a file that
//! exists under its name is complete.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::Serialize;

/// A CSV file being built in memory: the header, then rows.
pub struct CsvBuf {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvBuf {
    /// A file with these column names; rows [`CsvBuf::serialize`]d into it
    /// must have them as their fields.
    pub fn new<I, T>(header: I) -> CsvBuf
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut buf = CsvBuf {
            writer: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new()),
        };
        buf.row(header);
        buf
    }

    /// Appends one row of already formatted fields.
    pub fn row<I, T>(&mut self, fields: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(fields)
            .expect("writing to memory cannot fail");
    }

    /// Appends one row from a serde struct whose fields are the columns.
    pub fn serialize<S: Serialize>(&mut self, row: &S) {
        self.writer
            .serialize(row)
            .expect("rows are flat structs of strings and numbers");
    }

    /// The file's text.
    pub fn finish(self) -> String {
        let bytes = self
            .writer
            .into_inner()
            .expect("flushing into memory cannot fail");
        String::from_utf8(bytes).expect("every field written is a Rust string")
    }
}

/// One row as a CSV line (without its line end), e.g. to quote a row of a
/// file in a message exactly as the file holds it.
pub fn line<I, T>(fields: I) -> String
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut text = CsvBuf::new(fields).finish();
    text.pop();
    text
}

/// A reader of CSV `text` whose first line is the header: RFC 4180 quoting,
/// fields exactly as written, rows of any length (the caller checks them
/// against the header, to name the line that differs).
pub fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// A `metric,value` file (`summary.csv`, `performance.csv`): one row per
/// metric, in the given order.
pub fn metric_values<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    rows: impl IntoIterator<Item = (K, V)>,
) -> String {
    let mut out = CsvBuf::new(["metric", "value"]);
    for (k, v) in rows {
        out.row([k.as_ref(), v.as_ref()]);
    }
    out.finish()
}

/// The rows of a `metric,value` file by metric name; rows that are not two
/// fields long are skipped.
pub fn read_metric_values(text: &str) -> Result<BTreeMap<String, String>, csv::Error> {
    let mut out = BTreeMap::new();
    for row in reader(text).records() {
        let row = row?;
        if let (2, Some(k), Some(v)) = (row.len(), row.get(0), row.get(1)) {
            out.insert(k.to_owned(), v.to_owned());
        }
    }
    Ok(out)
}

/// Every row of CSV `text`, the header line included, as [`reader`] reads
/// them; empty lines are skipped.
pub fn records(text: &str) -> csv::StringRecordsIntoIter<&[u8]> {
    records_of(text.as_bytes())
}

/// [`records`] of a reader (a file, say), read as it goes.
pub fn records_of<R: io::Read>(reader: R) -> csv::StringRecordsIntoIter<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader)
        .into_records()
}

/// The 1-based line of `text` on which the record read at `pos` starts
/// (the `csv` crate's own line count leaves out skipped blank lines).
pub fn line_of(text: &str, pos: &csv::Position) -> usize {
    let start = usize::try_from(pos.byte()).map_or(text.len(), |b| b.min(text.len()));
    let blank = text[start..]
        .bytes()
        .take_while(|b| matches!(b, b'\n' | b'\r'))
        .count();
    text.as_bytes()[..start + blank]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Writes `body` to `path` through a temporary file in the same directory
/// and a rename, so a file that exists under `path` is always complete.
pub fn write_atomic(path: &Path, body: &str) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, body)?;
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_fields_are_written_as_they_are() {
        let mut buf = CsvBuf::new(["a", "b", "c"]);
        buf.row(["1", "", "0.2500"]);
        buf.row(["x y", "-3", "12D3KooW"]);
        assert_eq!(buf.finish(), "a,b,c\n1,,0.2500\nx y,-3,12D3KooW\n");
    }

    #[test]
    fn free_text_is_quoted_and_reads_back_exactly() {
        let text = "dial failed: a, \"b\"\nand c\r\n";
        let mut buf = CsvBuf::new(["n", "text"]);
        buf.row(["1", text]);
        let file = buf.finish();
        assert_eq!(file, "n,text\n1,\"dial failed: a, \"\"b\"\"\nand c\r\n\"\n");
        let mut rows = csv::Reader::from_reader(file.as_bytes());
        let row = rows.records().next().unwrap().unwrap();
        assert_eq!(&row[1], text);
    }

    #[test]
    fn a_line_is_the_row_as_the_file_holds_it() {
        assert_eq!(line(["1", "a,b", "c"]), "1,\"a,b\",c");
    }

    #[test]
    fn metric_value_files_round_trip() {
        let text = metric_values([("scenario", "a, \"b\""), ("seed", "7")]);
        assert_eq!(text, "metric,value\nscenario,\"a, \"\"b\"\"\"\nseed,7\n");
        let back = read_metric_values(&text).unwrap();
        assert_eq!(back["scenario"], "a, \"b\"");
        assert_eq!(back["seed"], "7");
        assert_eq!(back.len(), 2);
    }

    #[test]
    fn serde_rows_follow_the_header() {
        #[derive(Serialize)]
        struct Row<'a> {
            seed: u64,
            message: &'a str,
        }
        let row = Row {
            seed: 3,
            message: "x,y",
        };
        let mut buf = CsvBuf::new(["seed", "message"]);
        buf.serialize(&row);
        buf.serialize(&row);
        assert_eq!(buf.finish(), "seed,message\n3,\"x,y\"\n3,\"x,y\"\n");
    }

    #[test]
    fn the_reader_keeps_fields_and_takes_rows_of_any_length() {
        let mut r = reader("a,b\n 1 ,\"2\n\"\n3\n");
        assert_eq!(r.headers().unwrap(), vec!["a", "b"]);
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows[0], vec![" 1 ", "2\n"]);
        assert_eq!(rows[1].len(), 1);
        let text = "a,b\n1,2\n\n\r\n3\n";
        let rows: Vec<csv::StringRecord> = records(text).map(Result::unwrap).collect();
        let lines: Vec<usize> = rows
            .iter()
            .map(|r| line_of(text, r.position().unwrap()))
            .collect();
        assert_eq!(lines, vec![1, 2, 5]);
    }
}
