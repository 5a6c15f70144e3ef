//! Lines on standard output for a reader that may stop early: `byraad audit | head` ends
//! quietly when `head` has read enough, instead of failing on the closed pipe.

use std::io::{ErrorKind, Write};

/// Writes each of `lines` on its own line; stops without error when the reader has closed the
/// pipe.
pub fn lines<I: IntoIterator<Item = anyhow::Result<String>>>(lines: I) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = (|| -> anyhow::Result<()> {
        for line in lines {
            writeln!(out, "{}", line?)?;
        }
        out.flush()?;
        Ok(())
    })();
    match written {
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == ErrorKind::BrokenPipe) => Ok(()),
        other => other,
    }
}
