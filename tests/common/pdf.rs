//! PDFs made by hand for the tests.

/// A PDF made by hand: each page either lines of text (Helvetica, WinAnsi: æ, ø, å) or a grey
/// image filling the page (a scan: no text layer).
pub enum Page {
    Text(Vec<String>),
    Scan { width: usize, height: usize, grey: Vec<u8> },
}

pub fn pdf(pages: &[Page]) -> Vec<u8> {
    let latin1 = |s: &str| -> Vec<u8> { s.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect() };
    let mut objects: Vec<Vec<u8>> = vec![b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(), Vec::new(), b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec()];
    let mut kids = Vec::new();
    for page in pages {
        let (content, image) = match page {
            Page::Text(lines) => {
                let mut c = b"BT /F1 14 Tf 60 760 Td 20 TL".to_vec();
                for line in lines {
                    c.extend(b" (");
                    c.extend(latin1(&line.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)")));
                    c.extend(b") Tj T*");
                }
                c.extend(b" ET");
                (c, None)
            }
            Page::Scan { width, height, grey } => {
                let mut img = format!("<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n", grey.len()).into_bytes();
                img.extend(grey);
                img.extend(b"\nendstream");
                (b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec(), Some(img))
            }
        };
        let content_id = objects.len() + 1;
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend(&content);
        stream.extend(b"\nendstream");
        objects.push(stream);
        let xobject = image.map(|img| {
            objects.push(img);
            format!(" /XObject << /Im0 {} 0 R >>", objects.len())
        });
        objects.push(format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content_id} 0 R /Resources << /Font << /F1 3 0 R >>{} >> >>", xobject.unwrap_or_default()).into_bytes());
        kids.push(format!("{} 0 R", objects.len()));
    }
    objects[1] = format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), kids.len()).into_bytes();
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend(o);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").into_bytes());
    }
    out.extend(format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).into_bytes());
    out
}

