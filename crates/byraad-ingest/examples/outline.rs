//! Prints the documents and sections a corpus yields: `cargo run --example outline -- corpus`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args().nth(1).unwrap_or_else(|| "corpus".into());
    let corpus = byraad_ingest::Corpus::open(root.as_ref())?;
    for file in corpus.files() {
        let bytes = file.read()?;
        match corpus.parse(file, &bytes) {
            Err(e) => println!("{}: ERROR {e}", file.rel),
            Ok(docs) => {
                for d in docs {
                    println!("{} [{}] {:?} {} bytes, {} pages", d.meta.doc_id, d.meta.title, d.meta.date, d.text.len(), d.page_breaks.len() + 1);
                    for s in &d.sections {
                        println!("    {:?} {:?} p{:?} {:?} {}", s.item, s.case, d.page_at(s.span.start), s.heading.join(" › ").chars().take(90).collect::<String>(), s.span.len());
                    }
                }
            }
        }
    }
    Ok(())
}
