//! A small, deterministic layout layer on top of `pdf-writer`: A4 pages, paragraphs, label/value
//! fields, list items and tables (wrapped cells, the header row repeated on every page a table
//! spans), a running header with the document's title and CIG and a footer with
//! "Pagina n di m" on every page.
//!
//! Text is set in DejaVu Sans / DejaVu Sans Bold (Bitstream Vera licence, `assets/`), embedded
//! as a subset (only the glyphs used; `subsetter`) in a Type 0 / CIDFontType2 font with
//! Identity-H encoding and a ToUnicode map, so any character the font covers prints and
//! extracts (Ł, ő, ’, —, €, ≥ ...); a character it does not cover prints as the .notdef box,
//! never as a silently different letter.
//!
//! Why pdf-writer with `ttf-parser` and `subsetter` 0.2.0 rather than krilla: they are the same
//! authors' building blocks krilla stands on, with no further dependencies, while krilla (and
//! later `subsetter` releases) bring the whole `skrifa`/`read-fonts`/`write-fonts` stack for
//! variable fonts, shaping and images we do not use. What krilla would add for PDF/A we write
//! ourselves: XMP metadata, an sRGB output intent (Debian's icc-profiles-free, zlib licence),
//! a document id, fonts embedded. See `docs/documents.md` for what PDF/A-2b is still missing.
//!
//! Deterministic: no clock, no random id. The creation date is the caller's (the act's
//! instant); the document id is a hash of the content; streams are compressed at a fixed level.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Timelike, Utc};
use pdf_writer::types::{CidFontType, FontFlags, OutputIntentSubtype, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use sha2::{Digest, Sha256};

/// A4 in points.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN_X: f32 = 50.0;
/// Top of the body (below the running header).
const BODY_TOP: f32 = PAGE_H - 62.0;
/// Bottom of the body (above the footer).
const BODY_BOTTOM: f32 = 58.0;
const WIDTH: f32 = PAGE_W - 2.0 * MARGIN_X;
/// Label column of a [`Block::Field`].
const LABEL_W: f32 = 165.0;
const CELL_PAD: f32 = 3.0;
const TABLE_SIZE: f32 = 7.5;

static REGULAR_TTF: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../assets/DejaVuSans-Bold.ttf");
static SRGB_ICC: &[u8] = include_bytes!("../assets/sRGB.icc");

/// One of the two embedded faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Face {
    Regular,
    Bold,
}

struct FontData {
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
    name: &'static str,
}

fn font(f: Face) -> &'static FontData {
    static REGULAR: OnceLock<FontData> = OnceLock::new();
    static BOLD: OnceLock<FontData> = OnceLock::new();
    let (cell, data, name) = match f {
        Face::Regular => (&REGULAR, REGULAR_TTF, "DejaVuSans"),
        Face::Bold => (&BOLD, BOLD_TTF, "DejaVuSans-Bold"),
    };
    cell.get_or_init(|| FontData {
        data,
        // The fonts are compiled in and tested: a parse failure is a build defect.
        #[allow(clippy::expect_used)]
        face: ttf_parser::Face::parse(data, 0).expect("embedded DejaVu font parses"),
        name,
    })
}

impl FontData {
    fn gid(&self, c: char) -> u16 {
        self.face.glyph_index(c).map_or(0, |g| g.0)
    }

    /// Advance of glyph `gid` in 1/1000 em.
    fn advance(&self, gid: u16) -> f32 {
        let upem = f32::from(self.face.units_per_em());
        let adv = self.face.glyph_hor_advance(ttf_parser::GlyphId(gid)).unwrap_or(0);
        f32::from(adv) * 1000.0 / upem
    }

    fn units(&self, v: i16) -> f32 {
        f32::from(v) * 1000.0 / f32::from(self.face.units_per_em())
    }
}

/// Width in points of `text` set in `face` at `size`.
pub fn text_width(text: &str, size: f32, face: Face) -> f32 {
    let f = font(face);
    let units: f32 = text
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .map(|c| f.advance(f.gid(c)))
        .sum();
    units * size / 1000.0
}

/// Breaks `text` into lines no wider than `max` points: on spaces, and inside words longer
/// than a line (hashes, identifiers). Explicit `\n` start a new line.
pub fn wrap(text: &str, max: f32, size: f32, face: Face) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut line_w = 0.0;
        let space = text_width(" ", size, face);
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let ww = text_width(word, size, face);
            let with = if line.is_empty() { ww } else { line_w + space + ww };
            if with <= max {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_w = with;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            // The word alone: split it when it does not fit on a line by itself.
            let mut piece = String::new();
            let mut piece_w = 0.0;
            for c in word.chars() {
                let cw = text_width(c.encode_utf8(&mut [0; 4]), size, face);
                if piece_w + cw > max && !piece.is_empty() {
                    out.push(std::mem::take(&mut piece));
                    piece_w = 0.0;
                }
                piece.push(c);
                piece_w += cw;
            }
            line = piece;
            line_w = piece_w;
        }
        out.push(line);
    }
    out
}

/// Horizontal alignment of a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A table column: header text, relative width, alignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    pub weight: f32,
    pub align: Align,
}

impl Column {
    pub fn left(header: &str, weight: f32) -> Self {
        Column {
            header: header.into(),
            weight,
            align: Align::Left,
        }
    }

    pub fn right(header: &str, weight: f32) -> Self {
        Column {
            header: header.into(),
            weight,
            align: Align::Right,
        }
    }
}

/// A table: its header row is repeated at the top of every page it continues on.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

/// One piece of the document, laid out top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The document title (bold, 15 pt).
    Title(String),
    /// A section heading (bold, 11 pt, space above, kept with what follows).
    Heading(String),
    /// A paragraph (9 pt), wrapped.
    Para(String),
    /// A `label: value` line: the label bold in a column of its own, both wrapped.
    Field(String, String),
    /// An indented list item (9 pt), wrapped, continuation lines aligned.
    Item(String),
    /// A table.
    Table(Table),
    /// Vertical space in points.
    Space(f32),
}

/// What every page and the document's metadata say.
#[derive(Debug, Clone)]
pub struct Meta {
    /// Title (document information, XMP, running header).
    pub title: String,
    /// The CIG shown on every page (or `—`).
    pub cig: String,
    /// Left part of the footer (ente, oggetto).
    pub footer: String,
    /// Author (the stazione appaltante).
    pub author: String,
    /// Creation date: the instant of the act the document records, never the clock.
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        face: Face,
        size: f32,
        text: String,
    },
    /// A filled rectangle (light grey: table headers).
    Fill { x: f32, y: f32, w: f32, h: f32 },
    /// A stroked rectangle (cell borders).
    Frame { x: f32, y: f32, w: f32, h: f32 },
}

struct Paginator {
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Paginator {
    fn new() -> Self {
        Paginator {
            pages: vec![Vec::new()],
            y: BODY_TOP,
        }
    }

    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = BODY_TOP;
    }

    /// Starts a new page unless `h` points still fit (an empty page always takes it).
    fn ensure(&mut self, h: f32) {
        let empty = self.pages.last().is_none_or(Vec::is_empty);
        if self.y - h < BODY_BOTTOM && !empty {
            self.new_page();
        }
    }

    fn text(&mut self, x: f32, y: f32, face: Face, size: f32, text: String) {
        if !text.is_empty() {
            self.page().push(Op::Text { x, y, face, size, text });
        }
    }

    /// Wrapped lines at `indent`, the first `before` points lower; each line may start a page.
    fn lines(&mut self, text: &str, face: Face, size: f32, indent: f32, before: f32) {
        let lead = size * 1.32;
        for (i, l) in wrap(text, WIDTH - indent, size, face).into_iter().enumerate() {
            let step = lead + if i == 0 { before } else { 0.0 };
            self.ensure(step);
            self.y -= step;
            let y = self.y;
            self.text(MARGIN_X + indent, y, face, size, l);
        }
    }

    fn block(&mut self, b: &Block) {
        match b {
            Block::Title(t) => self.lines(t, Face::Bold, 15.0, 0.0, 0.0),
            Block::Heading(t) => {
                // Keep a heading with at least three lines of what follows.
                self.ensure(11.0 * 1.32 + 10.0 + 40.0);
                self.lines(t, Face::Bold, 11.0, 0.0, 10.0);
                self.y -= 2.0;
            }
            Block::Para(t) => self.lines(t, Face::Regular, 9.0, 0.0, 2.0),
            Block::Item(t) => {
                let bullet = "•";
                let indent = 12.0;
                let lead = 9.0 * 1.32;
                for (i, l) in wrap(t, WIDTH - indent - 10.0, 9.0, Face::Regular)
                    .into_iter()
                    .enumerate()
                {
                    let step = lead + if i == 0 { 1.0 } else { 0.0 };
                    self.ensure(step);
                    self.y -= step;
                    let y = self.y;
                    if i == 0 {
                        self.text(MARGIN_X + indent, y, Face::Regular, 9.0, bullet.into());
                    }
                    self.text(MARGIN_X + indent + 10.0, y, Face::Regular, 9.0, l);
                }
            }
            Block::Field(label, value) => {
                let size = 9.0;
                let lead = size * 1.32;
                let labels = wrap(label, LABEL_W - 6.0, size, Face::Bold);
                let values = wrap(value, WIDTH - LABEL_W, size, Face::Regular);
                let n = labels.len().max(values.len());
                for i in 0..n {
                    let step = lead + if i == 0 { 1.5 } else { 0.0 };
                    self.ensure(step);
                    self.y -= step;
                    let y = self.y;
                    if let Some(l) = labels.get(i) {
                        self.text(MARGIN_X, y, Face::Bold, size, l.clone());
                    }
                    if let Some(v) = values.get(i) {
                        self.text(MARGIN_X + LABEL_W, y, Face::Regular, size, v.clone());
                    }
                }
            }
            Block::Space(h) => {
                self.y -= h;
            }
            Block::Table(t) => self.table(t),
        }
    }

    fn table(&mut self, t: &Table) {
        let total: f32 = t.columns.iter().map(|c| c.weight).sum::<f32>().max(f32::EPSILON);
        let widths: Vec<f32> = t.columns.iter().map(|c| c.weight / total * WIDTH).collect();
        let lead = TABLE_SIZE * 1.25;
        let cells = |row: &[String], face: Face| -> Vec<Vec<String>> {
            widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    wrap(
                        row.get(i).map_or("", String::as_str),
                        w - 2.0 * CELL_PAD,
                        TABLE_SIZE,
                        face,
                    )
                })
                .collect()
        };
        let height = |c: &[Vec<String>]| c.iter().map(Vec::len).max().unwrap_or(1) as f32 * lead + 2.0 * CELL_PAD;
        let header: Vec<String> = t.columns.iter().map(|c| c.header.clone()).collect();
        let head = cells(&header, Face::Bold);
        let head_h = height(&head);
        self.y -= 4.0;
        let mut header_on_page = false;
        let rows: Vec<Vec<Vec<String>>> = t.rows.iter().map(|r| cells(r, Face::Regular)).collect();
        if rows.is_empty() {
            self.ensure(head_h);
            self.row(&head, &widths, t, Face::Bold, head_h, true);
            return;
        }
        for r in &rows {
            let h = height(r);
            let before = self.pages.len();
            // A row never starts a page without the header above it.
            self.ensure(h + if header_on_page { 0.0 } else { head_h });
            if self.pages.len() != before {
                header_on_page = false;
            }
            if !header_on_page {
                self.row(&head, &widths, t, Face::Bold, head_h, true);
                header_on_page = true;
            }
            if self.y - h < BODY_BOTTOM {
                // Taller than what is left even after the header: a new page, header again.
                self.new_page();
                self.row(&head, &widths, t, Face::Bold, head_h, true);
            }
            self.row(r, &widths, t, Face::Regular, h, false);
        }
        self.y -= 4.0;
    }

    fn row(&mut self, cells: &[Vec<String>], widths: &[f32], t: &Table, face: Face, h: f32, header: bool) {
        let top = self.y;
        let mut x = MARGIN_X;
        let lead = TABLE_SIZE * 1.25;
        for (i, w) in widths.iter().enumerate() {
            if header {
                self.page().push(Op::Fill {
                    x,
                    y: top - h,
                    w: *w,
                    h,
                });
            }
            self.page().push(Op::Frame {
                x,
                y: top - h,
                w: *w,
                h,
            });
            let align = t.columns.get(i).map_or(Align::Left, |c| c.align);
            for (j, l) in cells.get(i).into_iter().flatten().enumerate() {
                let y = top - CELL_PAD - (j as f32 + 1.0) * lead + 1.8;
                let lx = match align {
                    Align::Left => x + CELL_PAD,
                    Align::Right => x + w - CELL_PAD - text_width(l, TABLE_SIZE, face),
                };
                self.text(lx, y, face, TABLE_SIZE, l.clone());
            }
            x += w;
        }
        self.y = top - h;
    }
}

/// Lays the blocks out on pages (what [`render`] draws), for tests of the layout.
fn paginate(blocks: &[Block]) -> Vec<Vec<Op>> {
    let mut p = Paginator::new();
    for b in blocks {
        p.block(b);
    }
    p.pages
}

/// One embedded font subset: glyphs remapped in order of first use, so the same text gives
/// the same subset.
struct Subset {
    face: Face,
    remap: subsetter::GlyphRemapper,
    /// New glyph id → the character it was first used for (ToUnicode).
    chars: BTreeMap<u16, char>,
}

impl Subset {
    fn new(face: Face) -> Self {
        Subset {
            face,
            remap: subsetter::GlyphRemapper::new(),
            chars: BTreeMap::new(),
        }
    }

    /// `text` as Identity-H codes (two bytes per glyph), registering its glyphs.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let f = font(self.face);
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let c = if c == '\t' { ' ' } else { c };
            let new = self.remap.remap(f.gid(c));
            self.chars.entry(new).or_insert(c);
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

fn pdf_date(at: DateTime<Utc>) -> Date {
    Date::new(at.year() as u16)
        .month(at.month() as u8)
        .day(at.day() as u8)
        .hour(at.hour() as u8)
        .minute(at.minute() as u8)
        .second(at.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const PRODUCER: &str = "Centrale (documents: pdf-writer, DejaVu Sans)";
const CREATOR: &str = "Centrale";

/// The XMP packet PDF/A requires, equal to the document information dictionary.
fn xmp(meta: &Meta) -> Vec<u8> {
    let date = meta.created.format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" \
xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n\
<dc:format>application/pdf</dc:format>\n\
<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>\n\
<dc:creator><rdf:Seq><rdf:li>{author}</rdf:li></rdf:Seq></dc:creator>\n\
<dc:language><rdf:Bag><rdf:li>it-IT</rdf:li></rdf:Bag></dc:language>\n\
<xmp:CreateDate>{date}</xmp:CreateDate>\n\
<xmp:ModifyDate>{date}</xmp:ModifyDate>\n\
<xmp:CreatorTool>{CREATOR}</xmp:CreatorTool>\n\
<pdf:Producer>{PRODUCER}</pdf:Producer>\n\
<pdfaid:part>2</pdfaid:part>\n\
<pdfaid:conformance>B</pdfaid:conformance>\n\
</rdf:Description>\n\
</rdf:RDF>\n\
</x:xmpmeta>\n\
<?xpacket end=\"w\"?>",
        title = xml_escape(&meta.title),
        author = xml_escape(&meta.author),
    )
    .into_bytes()
}

/// Renders the blocks as a PDF (aiming at PDF/A-2b): deterministic in `meta` and `blocks`.
pub fn render(meta: &Meta, blocks: &[Block]) -> Vec<u8> {
    let pages = paginate(blocks);
    let total = pages.len();
    let mut fonts = [Subset::new(Face::Regular), Subset::new(Face::Bold)];
    let fidx = |f: Face| match f {
        Face::Regular => 0,
        Face::Bold => 1,
    };

    // Content streams first: they decide which glyphs the subsets hold.
    let mut contents = Vec::with_capacity(total);
    for (n, ops) in pages.iter().enumerate() {
        let mut c = Content::new();
        c.set_fill_rgb(0.9, 0.9, 0.9);
        for op in ops {
            if let Op::Fill { x, y, w, h } = op {
                c.rect(*x, *y, *w, *h);
                c.fill_nonzero();
            }
        }
        c.set_stroke_rgb(0.45, 0.45, 0.45);
        c.set_line_width(0.4);
        for op in ops {
            if let Op::Frame { x, y, w, h } = op {
                c.rect(*x, *y, *w, *h);
            }
        }
        c.stroke();
        c.set_fill_rgb(0.0, 0.0, 0.0);
        let mut text = |c: &mut Content, x: f32, y: f32, face: Face, size: f32, s: &str| {
            let code = fonts[fidx(face)].encode(s);
            c.begin_text();
            c.set_font(Name(if face == Face::Bold { b"F2" } else { b"F1" }), size);
            c.next_line(x, y);
            c.show(Str(&code));
            c.end_text();
        };
        for op in ops {
            if let Op::Text {
                x,
                y,
                face,
                size,
                text: s,
            } = op
            {
                text(&mut c, *x, *y, *face, *size, s);
            }
        }
        // Running header: title and CIG; footer: ente and oggetto, page n of m.
        let head = format!("{} — CIG {}", meta.title, meta.cig);
        let head = wrap(&head, WIDTH, 7.5, Face::Regular)
            .into_iter()
            .next()
            .unwrap_or_default();
        text(&mut c, MARGIN_X, PAGE_H - 40.0, Face::Regular, 7.5, &head);
        let number = format!("Pagina {} di {}", n + 1, total);
        let nw = text_width(&number, 7.5, Face::Regular);
        let foot = wrap(&meta.footer, WIDTH - nw - 20.0, 7.5, Face::Regular)
            .into_iter()
            .next()
            .unwrap_or_default();
        text(&mut c, MARGIN_X, 36.0, Face::Regular, 7.5, &foot);
        text(&mut c, PAGE_W - MARGIN_X - nw, 36.0, Face::Regular, 7.5, &number);
        c.set_stroke_rgb(0.3, 0.3, 0.3);
        c.set_line_width(0.5);
        c.move_to(MARGIN_X, PAGE_H - 46.0);
        c.line_to(PAGE_W - MARGIN_X, PAGE_H - 46.0);
        c.move_to(MARGIN_X, 46.0);
        c.line_to(PAGE_W - MARGIN_X, 46.0);
        c.stroke();
        contents.push(c.finish());
    }

    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog = alloc();
    let tree = alloc();
    let info = alloc();
    let metadata = alloc();
    let icc = alloc();
    let font_refs: Vec<[Ref; 5]> = (0..2).map(|_| [alloc(), alloc(), alloc(), alloc(), alloc()]).collect();
    let page_ids: Vec<(Ref, Ref)> = (0..total).map(|_| (alloc(), alloc())).collect();

    let mut pdf = Pdf::new();
    // The document id: a digest of what it shows (PDF/A requires one; random ids would break
    // "same data, same bytes").
    let mut h = Sha256::new();
    h.update(meta.title.as_bytes());
    h.update(meta.created.to_rfc3339().as_bytes());
    for c in &contents {
        h.update(c);
    }
    let id = h.finalize()[..16].to_vec();
    pdf.set_file_id((id.clone(), id));

    {
        let mut cat = pdf.catalog(catalog);
        cat.pages(tree).metadata(metadata).lang(TextStr("it-IT"));
        cat.output_intents()
            .push()
            .subtype(OutputIntentSubtype::PDFA)
            .output_condition_identifier(TextStr("sRGB IEC61966-2.1"))
            .info(TextStr("sRGB IEC61966-2.1"))
            .dest_output_profile(icc);
    }
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(total as i32);
    pdf.document_info(info)
        .title(TextStr(&meta.title))
        .author(TextStr(&meta.author))
        .creator(TextStr(CREATOR))
        .producer(TextStr(PRODUCER))
        .creation_date(pdf_date(meta.created))
        .modified_date(pdf_date(meta.created));
    pdf.metadata(metadata, &xmp(meta));
    let icc_data = deflate(SRGB_ICC);
    pdf.icc_profile(icc, &icc_data).n(3).filter(Filter::FlateDecode);

    for (subset, [type0, cid, descriptor, file, cmap]) in fonts.iter().zip(&font_refs) {
        let f = font(subset.face);
        // A subset tag derived from the glyphs it holds (ISO 32000 9.6.4: six capitals).
        let glyphs: Vec<u16> = subset.remap.remapped_gids().collect();
        let digest = Sha256::digest(glyphs.iter().flat_map(|g| g.to_be_bytes()).collect::<Vec<_>>());
        let tag: String = digest.iter().take(6).map(|b| char::from(b'A' + b % 26)).collect();
        let base = format!("{tag}+{}", f.name);
        pdf.type0_font(*type0)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(*cid)
            .to_unicode(*cmap);
        let system = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };
        {
            let mut c = pdf.cid_font(*cid);
            c.subtype(CidFontType::Type2)
                .base_font(Name(base.as_bytes()))
                .system_info(system)
                .font_descriptor(*descriptor)
                .default_width(0.0)
                .cid_to_gid_map_predefined(Name(b"Identity"));
            c.widths().consecutive(0, glyphs.iter().map(|g| f.advance(*g)));
        }
        let bbox = f.face.global_bounding_box();
        pdf.font_descriptor(*descriptor)
            .name(Name(base.as_bytes()))
            .flags(FontFlags::SYMBOLIC)
            .bbox(Rect::new(
                f.units(bbox.x_min),
                f.units(bbox.y_min),
                f.units(bbox.x_max),
                f.units(bbox.y_max),
            ))
            .italic_angle(0.0)
            .ascent(f.units(f.face.ascender()))
            .descent(f.units(f.face.descender()))
            .cap_height(f.units(f.face.capital_height().unwrap_or(f.face.ascender())))
            .stem_v(if subset.face == Face::Bold { 120.0 } else { 80.0 })
            .font_file2(*file);
        // The embedded font is ours and parses; a failure would leave the glyphs undrawn,
        // so fall back to the whole font rather than to no font.
        let data = subsetter::subset(f.data, 0, &subset.remap).unwrap_or_else(|_| f.data.to_vec());
        let packed = deflate(&data);
        pdf.stream(*file, &packed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), data.len() as i32);
        let mut map = UnicodeCmap::new(Name(b"Centrale-UCS"), system);
        for (g, ch) in &subset.chars {
            map.pair(*g, *ch);
        }
        pdf.stream(*cmap, &map.finish());
    }

    for ((page_id, content_id), content) in page_ids.iter().zip(&contents) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(*content_id);
        page.resources()
            .fonts()
            .pair(Name(b"F1"), font_refs[0][0])
            .pair(Name(b"F2"), font_refs[1][0]);
        page.finish();
        let packed = deflate(content);
        pdf.stream(*content_id, &packed).filter(Filter::FlateDecode);
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn meta() -> Meta {
        Meta {
            title: "Verbale".into(),
            cig: "A1B2C3D4E5".into(),
            footer: "Comune — piè di pagina".into(),
            author: "Comune".into(),
            created: Utc.with_ymd_and_hms(2026, 6, 6, 10, 0, 0).single().expect("instant"),
        }
    }

    #[test]
    fn widths_follow_the_embedded_font() {
        assert!(text_width("W", 10.0, Face::Regular) > text_width("i", 10.0, Face::Regular));
        assert!(text_width("Wiki", 10.0, Face::Bold) > text_width("Wiki", 10.0, Face::Regular));
        // Characters outside Windows-1252 have their own glyphs (not the .notdef box's width).
        let notdef = font(Face::Regular).advance(0);
        for c in ['Ł', 'ő', '’', '—', '€', '≥'] {
            assert_ne!(font(Face::Regular).gid(c), 0, "{c} is in DejaVu Sans");
        }
        assert!(notdef > 0.0);
    }

    #[test]
    fn wrap_breaks_on_spaces_within_the_width_and_splits_long_words() {
        let text = "La stazione appaltante è tenuta a verificare la congruità delle offerte anormalmente basse";
        let lines = wrap(text, 150.0, 10.0, Face::Regular);
        assert!(lines.len() > 1, "{lines:?}");
        for l in &lines {
            assert!(text_width(l, 10.0, Face::Regular) <= 150.0, "{l}");
        }
        assert_eq!(lines.join(" "), text, "no word lost or split");
        let hash = "a".repeat(64);
        let pieces = wrap(&hash, 100.0, 10.0, Face::Regular);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| text_width(p, 10.0, Face::Regular) <= 100.0));
        assert_eq!(pieces.concat(), hash);
        assert_eq!(wrap("uno\ndue", 500.0, 10.0, Face::Regular), vec!["uno", "due"]);
        assert_eq!(wrap("", 500.0, 10.0, Face::Regular), vec![String::new()]);
    }

    #[test]
    fn a_table_repeats_its_header_on_every_page_it_spans() {
        let t = Table {
            columns: vec![Column::left("Concorrente", 3.0), Column::right("Ribasso", 1.0)],
            rows: (0..300)
                .map(|i| vec![format!("Impresa {i} S.r.l."), format!("{i},5%")])
                .collect(),
        };
        let pages = paginate(&[Block::Title("T".into()), Block::Table(t)]);
        assert!(pages.len() >= 4, "{}", pages.len());
        for (n, p) in pages.iter().enumerate() {
            let headers = p
                .iter()
                .filter(|o| matches!(o, Op::Text { text, face: Face::Bold, .. } if text == "Concorrente"))
                .count();
            assert_eq!(headers, 1, "page {n}");
            for o in p {
                if let Op::Frame { y, .. } = o {
                    assert!(*y >= BODY_BOTTOM - 0.01, "page {n}: a row below the margin");
                }
            }
        }
        let all: Vec<&str> = pages
            .iter()
            .flatten()
            .filter_map(|o| match o {
                Op::Text { text, .. } if text.starts_with("Impresa") => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(all.len(), 300, "every row once");
        assert_eq!(all.last().copied(), Some("Impresa 299 S.r.l."));
    }

    #[test]
    fn rendering_is_deterministic_embeds_a_subset_and_aims_at_pdfa() {
        let mut blocks = vec![
            Block::Title("Verbale di aggiudicazione".into()),
            Block::Heading("Sezione".into()),
            Block::Field("Operatore".into(), "Łódź Ősz S.p.A. — ’≥ € 1.000".into()),
        ];
        for i in 0..200 {
            blocks.push(Block::Item(format!(
                "Riga {i}: offerta ammessa, ribasso 15,420% — congrua"
            )));
        }
        let a = render(&meta(), &blocks);
        let b = render(&meta(), &blocks);
        assert_eq!(a, b);
        assert!(a.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("/Identity-H"));
        assert!(text.contains("+DejaVuSans"));
        assert!(text.contains("/FontFile2"));
        assert!(text.contains("/GTS_PDFA1"));
        assert!(text.contains("<pdfaid:part>2</pdfaid:part>"));
        assert!(!text.contains("/Helvetica"));
        // A subset: far smaller than the 1.4 MB of the two fonts.
        assert!(a.len() < 200_000, "{}", a.len());
        let mut later = meta();
        later.created += chrono::Duration::seconds(1);
        assert_ne!(render(&later, &blocks), a);
    }
}
