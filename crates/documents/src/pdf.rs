//! A small, deterministic PDF writer on top of `pdf-writer`: A4 pages, the standard base-14
//! fonts Helvetica and Helvetica-Bold with `WinAnsiEncoding` (so Italian accents à è é ì ò ù
//! print without embedding a font), lines wrapped on the font's metrics, as many pages as the
//! text needs, page numbers. No random document id and no clock: the same blocks and the same
//! generation instant give the same bytes.

use chrono::{DateTime, Datelike, Timelike, Utc};
use pdf_writer::{Content, Date, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// A4 in points.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN_X: f32 = 56.0;
const MARGIN_TOP: f32 = 60.0;
const MARGIN_BOTTOM: f32 = 60.0;

/// One piece of the document, laid out top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The document title (bold, 15 pt).
    Title(String),
    /// A section heading (bold, 11.5 pt, space above).
    Heading(String),
    /// A paragraph (9.5 pt), wrapped.
    Para(String),
    /// A `label: value` line, the label bold, the value wrapped under it when long.
    Field(String, String),
    /// An indented list item (9 pt), wrapped, continuation lines aligned.
    Item(String),
    /// Vertical space in points.
    Space(f32),
}

/// Encodes `text` in WinAnsiEncoding (Windows-1252): ASCII and Latin-1 as themselves, the
/// typographic characters of 0x80–0x9F at their code points, anything else as `?`.
pub fn winansi(text: &str) -> Vec<u8> {
    text.chars().map(winansi_byte).collect()
}

fn winansi_byte(c: char) -> u8 {
    let u = c as u32;
    match c {
        '\u{20}'..='\u{7E}' => u as u8,
        '\u{A0}'..='\u{FF}' => u as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '™' => 0x99,
        '\t' => b' ',
        _ => b'?',
    }
}

/// Helvetica advance widths (AFM, 1/1000 em) of the printable ASCII range 0x20–0x7E.
const HELVETICA_ASCII: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // space ! " # $ % & ' ( ) * + , - . /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
    278, 278, 584, 584, 584, 556, 1015, // : ; < = > ? @
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944,
    667, 667, 611, // A-Z
    278, 278, 278, 469, 556, 333, // [ \ ] ^ _ `
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
    500, 500, 500, // a-z
    334, 260, 334, 584, // { | } ~
];

/// Width of one WinAnsi byte in 1/1000 em (regular Helvetica; bold is scaled by the caller).
fn byte_width(b: u8) -> u16 {
    match b {
        0x20..=0x7E => HELVETICA_ASCII[(b - 0x20) as usize],
        // Accented capitals À–Ý: as wide as the widest of their base letters.
        0xC0..=0xDD => 722,
        // Accented small letters à–ÿ (ì í î ï are narrow).
        0xEC..=0xEF => 278,
        0xDF..=0xFF => 556,
        0x97 => 1000,
        0x85 => 1000,
        0x80 | 0x96 | 0x95 => 556,
        _ => 556,
    }
}

/// Width in points of `text` set in Helvetica (or Helvetica-Bold) at `size`.
pub fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = winansi(text).iter().map(|b| u32::from(byte_width(*b))).sum();
    // Helvetica-Bold is at most ~11% wider than the regular cut.
    let scale = if bold { 1.11 } else { 1.0 };
    units as f32 * size / 1000.0 * scale
}

/// Breaks `text` into lines no wider than `max` points: on spaces, and inside words longer
/// than a line (hashes, identifiers). Explicit `\n` start a new line.
pub fn wrap(text: &str, max: f32, size: f32, bold: bool) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if text_width(&candidate, size, bold) <= max {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            // The word alone: split it when it does not fit on a line by itself.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if text_width(&piece, size, bold) > max {
                    piece.pop();
                    out.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        out.push(line);
    }
    out
}

/// One laid-out line: font, size, x offset from the left margin, text.
#[derive(Debug, Clone)]
struct Line {
    bold: bool,
    size: f32,
    indent: f32,
    text: String,
    /// Space before the line, in addition to the leading.
    before: f32,
}

fn layout(blocks: &[Block]) -> Vec<Line> {
    let width = PAGE_W - 2.0 * MARGIN_X;
    let mut lines = Vec::new();
    let push = |lines: &mut Vec<Line>, bold: bool, size: f32, indent: f32, before: f32, text: &str| {
        for (i, l) in wrap(text, width - indent, size, bold).into_iter().enumerate() {
            lines.push(Line {
                bold,
                size,
                indent,
                text: l,
                before: if i == 0 { before } else { 0.0 },
            });
        }
    };
    for b in blocks {
        match b {
            Block::Title(t) => push(&mut lines, true, 15.0, 0.0, 0.0, t),
            Block::Heading(t) => push(&mut lines, true, 11.5, 0.0, 10.0, t),
            Block::Para(t) => push(&mut lines, false, 9.5, 0.0, 2.0, t),
            Block::Field(label, value) => {
                let label = format!("{label}:");
                let lw = text_width(&label, 9.5, true) + 4.0;
                let rest = wrap(value, width - lw, 9.5, false);
                if lw < width * 0.45 && !rest.is_empty() {
                    // Label and the first line of the value side by side: the label line
                    // carries the value's first line as a second run (see `render`).
                    lines.push(Line {
                        bold: true,
                        size: 9.5,
                        indent: 0.0,
                        text: label,
                        before: 1.0,
                    });
                    for (i, l) in rest.into_iter().enumerate() {
                        lines.push(Line {
                            bold: false,
                            size: 9.5,
                            indent: lw,
                            text: l,
                            before: if i == 0 { -1.0 } else { 0.0 },
                        });
                    }
                } else {
                    push(&mut lines, true, 9.5, 0.0, 1.0, &label);
                    push(&mut lines, false, 9.5, 14.0, 0.0, value);
                }
            }
            Block::Item(t) => {
                let bullet = "• ";
                let bw = text_width(bullet, 9.0, false);
                let rest = wrap(t, width - 14.0 - bw, 9.0, false);
                for (i, l) in rest.into_iter().enumerate() {
                    let text = if i == 0 { format!("{bullet}{l}") } else { l };
                    let indent = if i == 0 { 14.0 } else { 14.0 + bw };
                    lines.push(Line {
                        bold: false,
                        size: 9.0,
                        indent,
                        text,
                        before: if i == 0 { 1.0 } else { 0.0 },
                    });
                }
            }
            Block::Space(h) => lines.push(Line {
                bold: false,
                size: 0.0,
                indent: 0.0,
                text: String::new(),
                before: *h,
            }),
        }
    }
    lines
}

/// Renders the blocks as a PDF. `title` goes into the document information dictionary with
/// `generated_at` as creation date; every page carries `footer` and its number.
pub fn render(title: &str, footer: &str, generated_at: DateTime<Utc>, blocks: &[Block]) -> Vec<u8> {
    // Paginate: a line with `before < 0` continues the previous line (same baseline).
    let mut pages: Vec<Vec<(f32, Line)>> = vec![Vec::new()];
    let mut y = PAGE_H - MARGIN_TOP;
    let mut last_y = y;
    for line in layout(blocks) {
        if line.before < 0.0 {
            if let Some(page) = pages.last_mut() {
                page.push((last_y, line));
            }
            continue;
        }
        let step = line.size * 1.35 + line.before;
        if y - step < MARGIN_BOTTOM && pages.last().is_some_and(|p| !p.is_empty()) {
            pages.push(Vec::new());
            y = PAGE_H - MARGIN_TOP;
        }
        y -= step;
        last_y = y;
        if let Some(page) = pages.last_mut() {
            page.push((y, line));
        }
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
    let regular = alloc();
    let bold = alloc();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(page_ids.len() as i32);
    let date = Date::new(generated_at.year() as u16)
        .month(generated_at.month() as u8)
        .day(generated_at.day() as u8)
        .hour(generated_at.hour() as u8)
        .minute(generated_at.minute() as u8)
        .second(generated_at.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0);
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("Centrale (documents, pdf-writer)"))
        .creation_date(date);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));

    let total = pages.len();
    for (n, (lines, (page_id, content_id))) in pages.iter().zip(&page_ids).enumerate() {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(*content_id);
        page.resources()
            .fonts()
            .pair(Name(b"F1"), regular)
            .pair(Name(b"F2"), bold);
        page.finish();

        let mut content = Content::new();
        for (y, line) in lines {
            if line.text.is_empty() {
                continue;
            }
            content.begin_text();
            content.set_font(Name(if line.bold { b"F2" } else { b"F1" }), line.size);
            content.next_line(MARGIN_X + line.indent, *y);
            content.show(Str(&winansi(&line.text)));
            content.end_text();
        }
        // Footer: rule, text and page number.
        content.set_line_width(0.5);
        content.move_to(MARGIN_X, MARGIN_BOTTOM - 18.0);
        content.line_to(PAGE_W - MARGIN_X, MARGIN_BOTTOM - 18.0);
        content.stroke();
        let number = format!("Pagina {} di {}", n + 1, total);
        let footer_text = wrap(footer, PAGE_W - 2.0 * MARGIN_X - 80.0, 7.5, false)
            .into_iter()
            .next()
            .unwrap_or_default();
        content.begin_text();
        content.set_font(Name(b"F1"), 7.5);
        content.next_line(MARGIN_X, MARGIN_BOTTOM - 30.0);
        content.show(Str(&winansi(&footer_text)));
        content.end_text();
        content.begin_text();
        content.set_font(Name(b"F1"), 7.5);
        content.next_line(
            PAGE_W - MARGIN_X - text_width(&number, 7.5, false),
            MARGIN_BOTTOM - 30.0,
        );
        content.show(Str(&winansi(&number)));
        content.end_text();
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn winansi_encodes_italian_accents_and_typographic_marks() {
        assert_eq!(winansi("àèéìòù"), vec![0xE0, 0xE8, 0xE9, 0xEC, 0xF2, 0xF9]);
        assert_eq!(winansi("È così"), vec![0xC8, b' ', b'c', b'o', b's', 0xEC]);
        assert_eq!(
            winansi("€ – — «»"),
            vec![0x80, b' ', 0x96, b' ', 0x97, b' ', 0xAB, 0xBB]
        );
        assert_eq!(winansi("’"), vec![0x92]);
        // Outside WinAnsi: a visible replacement, never a dropped or multi-byte character.
        assert_eq!(winansi("中≥"), b"??".to_vec());
        assert_eq!(winansi("abc").len(), 3);
    }

    #[test]
    fn widths_follow_helvetica_metrics() {
        assert!((text_width("a", 10.0, false) - 5.56).abs() < 1e-4);
        assert!((text_width("à", 10.0, false) - 5.56).abs() < 1e-4);
        assert!((text_width("i", 10.0, false) - 2.22).abs() < 1e-4);
        assert!(text_width("W", 10.0, true) > text_width("W", 10.0, false));
    }

    #[test]
    fn wrap_breaks_on_spaces_within_the_width_and_splits_long_words() {
        let text = "La stazione appaltante è tenuta a verificare la congruità delle offerte anormalmente basse";
        let lines = wrap(text, 150.0, 10.0, false);
        assert!(lines.len() > 1, "{lines:?}");
        for l in &lines {
            assert!(text_width(l, 10.0, false) <= 150.0, "{l}");
            assert!(!l.starts_with(' ') && !l.ends_with(' '));
        }
        assert_eq!(lines.join(" "), text, "no word lost or split");
        // A 64-hex hash does not fit in 100 pt: it is cut, every piece within the width.
        let hash = "a".repeat(64);
        let pieces = wrap(&hash, 100.0, 10.0, false);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| text_width(p, 10.0, false) <= 100.0));
        assert_eq!(pieces.concat(), hash);
        // Explicit newlines; empty text is one empty line.
        assert_eq!(wrap("uno\ndue", 500.0, 10.0, false), vec!["uno", "due"]);
        assert_eq!(wrap("", 500.0, 10.0, false), vec![String::new()]);
    }

    #[test]
    fn rendering_is_deterministic_and_paginates() {
        let at = Utc.with_ymd_and_hms(2026, 6, 6, 10, 0, 0).single().expect("instant");
        let mut blocks = vec![
            Block::Title("Verbale di aggiudicazione".into()),
            Block::Heading("Sezione".into()),
        ];
        for i in 0..200 {
            blocks.push(Block::Item(format!(
                "Riga {i}: offerta ammessa, ribasso 15,420% — verificata la congruità"
            )));
        }
        let a = render("Verbale", "piè di pagina", at, &blocks);
        let b = render("Verbale", "piè di pagina", at, &blocks);
        assert_eq!(a, b);
        assert!(a.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("/WinAnsiEncoding"));
        assert!(text.contains("/Helvetica"));
        let pages = text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count();
        let count = text
            .split("/Count ")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .unwrap_or("0");
        assert!(
            count.parse::<u32>().unwrap_or(0) >= 3,
            "200 items need several pages ({pages})"
        );
        // Another instant, another document.
        let later = at + chrono::Duration::seconds(1);
        assert_ne!(render("Verbale", "piè di pagina", later, &blocks), a);
    }
}
