//! The shared conformance fixture of `centrale-busta/1` (CONTRACT.md §1): the writer must
//! reproduce `fixtures/busta-a.tar` byte for byte (the browser's packer is checked against the
//! same file), and the reader must accept it. The fixture was made by an independent
//! implementation of the contract, not by this writer.

use std::io::{Cursor, Read};

use offerte::archive::{self, ArchiveFile, Manifest};
use uuid::Uuid;

const FIXTURE: &[u8] = include_bytes!("fixtures/busta-a.tar");
const DOMANDA: &[u8] = b"Domanda di partecipazione\n";
const DGUE: &[u8] = b"<dgue/>\n";

#[test]
fn the_writer_reproduces_the_shared_fixture_and_the_reader_accepts_it() {
    let files = vec![
        ArchiveFile::digest("domanda.txt", DOMANDA).expect("digest"),
        ArchiveFile::digest("dgue.xml", DGUE).expect("digest"),
    ];
    let bando = Uuid::parse_str("00000000-0000-0000-0000-000000000001").expect("uuid");
    let manifest = Manifest::new(bando, None, "A", files).expect("manifest");
    let mut out = Vec::new();
    let n = archive::write_archive(
        &manifest,
        [("dgue.xml".to_string(), DGUE), ("domanda.txt".to_string(), DOMANDA)],
        &mut out,
    )
    .expect("write");
    assert_eq!(n as usize, out.len());
    assert_eq!(out.len(), FIXTURE.len());
    assert!(out == FIXTURE, "the writer's bytes differ from fixtures/busta-a.tar");

    assert_eq!(archive::validate(FIXTURE).expect("valid"), manifest);
    let (entry, mut body) = archive::extract(Cursor::new(FIXTURE), "dgue.xml").expect("extract");
    let mut text = Vec::new();
    body.read_to_end(&mut text).expect("read");
    assert_eq!(text, DGUE);
    assert_eq!(entry.size, DGUE.len() as u64);
}
