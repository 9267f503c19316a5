//! The subject register and subject commitments (docs/FORMAT.md §17): a commitment opens only
//! with what it was made from; the FORMAT.md vector; lookups that survive a reopen and never leave
//! an identifier or a name in the clear on disk; erasure that destroys the wrapped key in place;
//! master key rotation; a wrong master key refused; the identifier detector's shapes.

use custody::{
    MasterKey, PersonalFields, Register, RegisterError, Salt, SubjectId, SubjectKind, commit,
    generate_master_key, looks_like_identifier, opens, random_bytes,
};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn new_id() -> SubjectId {
    SubjectId::from_bytes(random_bytes().expect("randomness"))
}

fn nik_of(n: u64) -> String {
    format!("{:016}", 3_171_000_000_000_000 + n)
}

fn visitor(nik: &str, name: &str) -> PersonalFields {
    PersonalFields::new(SubjectKind::Visitor)
        .with_nik(nik)
        .and_then(|f| f.with_name(name))
        .expect("valid fields")
}

/// A register folder and its master key in a fresh temporary folder.
fn setup() -> (tempfile::TempDir, PathBuf, MasterKey) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = generate_master_key(&tmp.path().join("master.key")).expect("master key");
    let dir = tmp.path().join("register");
    (tmp, dir, key)
}

fn every_file(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            every_file(&path, out);
        } else {
            let bytes = std::fs::read(&path).expect("read");
            out.push((path, bytes));
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn the_format_md_vector() {
    let id: SubjectId = "subj-000102030405060708090a0b0c0d0e0f".parse().expect("id");
    let salt: Salt = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        .parse()
        .expect("salt");
    let fields = PersonalFields::new(SubjectKind::ForeignNational)
        .with_name("Siti Aminah")
        .and_then(|f| f.with_passport("A1234567", "MYS"))
        .and_then(|f| f.with_birth_date("1990-02-28"))
        .expect("valid");
    let c = commit(&salt, &id, &fields);
    assert_eq!(
        c.to_string(),
        "b2865f269acdd3652f1c9de758a966530022921b0cd6ec580c09ac262747516e"
    );
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/FORMAT.md"))
        .expect("FORMAT.md");
    assert!(
        doc.contains(&c.to_string()),
        "FORMAT.md §17.3 shows another vector"
    );
    assert!(opens(&c, &salt, &id, &fields));
}

/// One field changed: `which` picks the field, `nik_tail` the new value's digits.
fn changed(fields: &PersonalFields, which: u8, n: u64) -> PersonalFields {
    let base = PersonalFields::new(fields.kind());
    let keep = |f: PersonalFields| {
        let f = match fields.name() {
            Some(v) if which != 1 => f.with_name(v).expect("valid"),
            _ => f,
        };
        match fields.nik() {
            Some(v) if which != 2 => f.with_nik(v).expect("valid"),
            _ => f,
        }
    };
    match which {
        0 => keep(PersonalFields::new(SubjectKind::Inmate)),
        1 => keep(base).with_name(&format!("Nama {n}")).expect("valid"),
        2 => keep(base).with_nik(&nik_of(n + 1)).expect("valid"),
        3 => keep(base).with_sdp("B.I-123/2024").expect("valid"),
        _ => keep(base).with_birth_date("2001-01-01").expect("valid"),
    }
}

proptest! {
    #[test]
    fn a_commitment_opens_only_with_what_it_was_made_from(
        id in any::<[u8; 16]>(),
        salt in any::<[u8; 32]>(),
        n in 0u64..1_000_000,
        which in 0u8..5,
        flip in 0usize..48,
    ) {
        let id = SubjectId::from_bytes(id);
        let salt = Salt::from_bytes(salt);
        let fields = visitor(&nik_of(n), "Budi Santoso");
        let c = commit(&salt, &id, &fields);
        prop_assert!(opens(&c, &salt, &id, &fields));
        prop_assert!(!opens(&c, &salt, &id, &changed(&fields, which, n)));
        let (mut id2, mut salt2) = (*id.as_bytes(), *salt.as_bytes());
        if flip < 16 {
            id2[flip] ^= 1;
        } else {
            salt2[flip - 16] ^= 0x80;
        }
        prop_assert!(!opens(&c, &Salt::from_bytes(salt2), &SubjectId::from_bytes(id2), &fields));
    }
}

#[test]
fn lookups_survive_reopen_never_collide_and_leave_nothing_in_the_clear() {
    let (_tmp, dir, key) = setup();
    let mut register = Register::open(&dir, &key).expect("creates");
    assert!(register.report().created);
    let ids: Vec<SubjectId> = (0..300).map(|_| new_id()).collect();
    for (n, id) in ids.iter().enumerate() {
        let fields = visitor(&nik_of(n as u64), &format!("Pengunjung Nomor {n}"));
        register.enroll(fields, *id).expect("enrolls");
    }
    let sdp = PersonalFields::new(SubjectKind::ForeignNational)
        .with_passport("A7654321", "MYS")
        .and_then(|f| f.with_sdp("B.I-77/2025"))
        .expect("valid");
    let foreigner = new_id();
    register.enroll(sdp, foreigner).expect("enrolls");
    let again = register.enroll(visitor(&nik_of(5), "Lain"), new_id());
    assert!(matches!(
        again,
        Err(RegisterError::IdentifierTaken { field: "nik", .. })
    ));
    assert!(matches!(
        register.enroll(PersonalFields::new(SubjectKind::Unidentified), ids[0]),
        Err(RegisterError::Duplicate(_))
    ));
    drop(register);
    let register = Register::open(&dir, &key).expect("reopens");
    assert_eq!(register.report(), &custody::OpenReport::default());
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(register.lookup_nik(&nik_of(n as u64)), Some(*id), "NIK {n}");
    }
    assert_eq!(register.lookup_nik(&nik_of(10_000)), None);
    assert_eq!(register.lookup_passport("A7654321", "MYS"), Some(foreigner));
    assert_eq!(register.lookup_passport("A7654321", "SGP"), None);
    assert_eq!(register.lookup_sdp("B.I-77/2025"), Some(foreigner));
    let record = register.read(&ids[7]).expect("reads").expect("present");
    assert_eq!(record.fields.nik(), Some(nik_of(7).as_str()));
    let mut files = Vec::new();
    every_file(&dir, &mut files);
    assert!(files.len() > 300);
    for (path, bytes) in &files {
        for n in [0u64, 7, 299] {
            assert!(
                !contains(bytes, nik_of(n).as_bytes()),
                "{} holds a NIK",
                path.display()
            );
        }
        for needle in [&b"Pengunjung"[..], b"A7654321", b"B.I-77/2025"] {
            assert!(
                !contains(bytes, needle),
                "{} holds personal data",
                path.display()
            );
        }
    }
}

#[test]
fn erasure_destroys_the_wrapped_key_in_place() {
    let (_tmp, dir, key) = setup();
    let mut register = Register::open(&dir, &key).expect("creates");
    let (a, b) = (new_id(), new_id());
    register
        .enroll(visitor(&nik_of(1), "Ani"), a)
        .expect("enrolls");
    register
        .enroll(visitor(&nik_of(2), "Budi"), b)
        .expect("enrolls");
    register
        .add_salt(&a, Salt::from_bytes([3; 32]))
        .expect("salt");
    let keys = dir.join("keys.slots");
    let before = std::fs::read(&keys).expect("keys");
    // Slot 1 is a's (slot 0 holds the lookup key): its nonce and wrapped key, bytes 20..92.
    let wrapped = before[96 + 20..96 + 92].to_vec();
    register.erase(&a).expect("erases");
    let after = std::fs::read(&keys).expect("keys");
    assert_eq!(
        before.len(),
        after.len(),
        "overwritten in place, not appended"
    );
    assert!(!contains(&after, &wrapped));
    assert!(after[96 + 20..96 + 92].iter().all(|b| *b == 0));
    assert_eq!(&after[96..96 + 16], a.as_bytes(), "the id is kept");
    assert!(!dir.join("records").join(a.to_string()).exists());
    for register in [register, Register::open(&dir, &key).expect("reopens")] {
        assert!(matches!(register.read(&a), Err(RegisterError::Erased(id)) if id == a));
        assert_eq!(register.lookup_nik(&nik_of(1)), None);
        assert_eq!(register.lookup_nik(&nik_of(2)), Some(b));
        assert!(register.read(&b).expect("reads").is_some());
        assert!(
            register.read(&new_id()).expect("reads").is_none(),
            "unknown is not erased"
        );
    }
}

#[test]
fn rotation_reseals_every_key_under_the_new_master_only() {
    let (tmp, dir, old) = setup();
    let mut register = Register::open(&dir, &old).expect("creates");
    let ids: Vec<SubjectId> = (0..20).map(|_| new_id()).collect();
    for (n, id) in ids.iter().enumerate() {
        register
            .enroll(visitor(&nik_of(n as u64), "Citra"), *id)
            .expect("enrolls");
    }
    register.erase(&ids[3]).expect("erases");
    let new = generate_master_key(&tmp.path().join("master2.key")).expect("new key");
    register.rotate_master(&new).expect("rotates");
    for (n, id) in ids.iter().enumerate().filter(|(n, _)| *n != 3) {
        assert!(register.read(id).expect("reads").is_some());
        assert_eq!(register.lookup_nik(&nik_of(n as u64)), Some(*id));
    }
    drop(register);
    let refused = Register::open(&dir, &old);
    assert!(
        matches!(refused, Err(RegisterError::WrongMasterKey { .. })),
        "{refused:?}"
    );
    let register = Register::open(&dir, &new).expect("reopens with the new key");
    assert!(matches!(
        register.read(&ids[3]),
        Err(RegisterError::Erased(_))
    ));
    for id in ids.iter().filter(|id| **id != ids[3]) {
        assert!(register.read(id).expect("reads").is_some());
    }
    assert!(!dir.join("keys.slots.new").exists());
}

#[test]
fn a_wrong_master_key_is_refused_and_a_master_key_file_is_checked() {
    let (tmp, dir, key) = setup();
    let mut register = Register::open(&dir, &key).expect("creates");
    register
        .enroll(visitor(&nik_of(1), "Dewi"), new_id())
        .expect("enrolls");
    drop(register);
    let other = generate_master_key(&tmp.path().join("other.key")).expect("key");
    let err = Register::open(&dir, &other).expect_err("refused");
    assert!(matches!(err, RegisterError::WrongMasterKey { .. }));
    assert!(err.to_string().contains("wrong master key"), "{err}");
    let path = tmp.path().join("master.key");
    assert!(
        generate_master_key(&path).is_err(),
        "never overwrites a key"
    );
    assert!(MasterKey::read(&path).is_ok());
    let text = std::fs::read_to_string(&path).expect("reads");
    assert!(text.starts_with("custody-master-key v1\n") && text.len() == 22 + 65);
    let bad = tmp.path().join("bad.key");
    std::fs::write(&bad, "custody-master-key v1\nzz\n").expect("writes");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(MasterKey::read(&bad).is_err());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert!(
        MasterKey::read(&path).is_err(),
        "a world-readable key is refused"
    );
}

#[test]
fn open_repairs_what_a_crashed_enrolment_left() {
    let (_tmp, dir, key) = setup();
    let mut register = Register::open(&dir, &key).expect("creates");
    let a = new_id();
    register
        .enroll(visitor(&nik_of(1), "Eka"), a)
        .expect("enrolls");
    drop(register);
    // A torn append: half a key slot at the end of keys.slots.
    let keys = dir.join("keys.slots");
    let mut bytes = std::fs::read(&keys).expect("keys");
    bytes.extend_from_slice(&[7; 40]);
    std::fs::write(&keys, &bytes).expect("writes");
    // A record without a slot.
    let orphan = new_id();
    std::fs::write(dir.join("records").join(orphan.to_string()), b"\x01junk").expect("writes");
    let register = Register::open(&dir, &key).expect("reopens");
    assert_eq!(register.report().orphan_records, vec![orphan]);
    assert_eq!(std::fs::read(&keys).expect("keys").len(), 2 * 96);
    assert!(register.read(&orphan).expect("reads").is_none());
    assert!(register.read(&a).expect("reads").is_some());
    // A live subject whose record went missing reads as damaged.
    std::fs::remove_file(dir.join("records").join(a.to_string())).expect("removes");
    drop(register);
    let register = Register::open(&dir, &key).expect("reopens");
    assert_eq!(register.report().missing_records, vec![a]);
    assert!(matches!(register.read(&a), Err(RegisterError::Damaged(_))));
}

#[test]
fn identifier_shapes_in_free_text() {
    for (text, what) in [
        ("pengunjung NIK 3171012345678901 membawa paket", "nik"),
        ("NIK:3171012345678901", "nik"),
        ("paspor A1234567 (MYS)", "passport"),
        ("passport no. XK99812B", "passport"),
    ] {
        assert_eq!(looks_like_identifier(text), Some(what), "{text}");
    }
    for text in [
        "diterima 2025-08-17 pukul 12:30, segel SEG-2025-000418 utuh",
        "BB-2025-000418 berat bersih 12500 mg (12500MG)",
        "statement 0198c2a3-5b7e-7c11-9a4e-3f2d1c0b9a88",
        "NIP petugas 198503122010011002",
        "17AUG2025 diserahkan ke LPN-JAKARTA",
        "SP.Sita/123/VIII/2025/Satresnarkoba, 3PCS",
        "kunci 9f86d081884c7d65",
    ] {
        assert_eq!(looks_like_identifier(text), None, "{text}");
    }
}

#[test]
fn a_damaged_key_slot_reads_as_damaged_and_can_still_be_erased() {
    let (_tmp, dir, key) = setup();
    let mut register = Register::open(&dir, &key).expect("creates");
    let (a, b) = (new_id(), new_id());
    register
        .enroll(visitor(&nik_of(1), "Fajar"), a)
        .expect("enrolls");
    register
        .enroll(visitor(&nik_of(2), "Gita"), b)
        .expect("enrolls");
    drop(register);
    let keys = dir.join("keys.slots");
    let mut bytes = std::fs::read(&keys).expect("keys");
    bytes[96 + 50] ^= 1; // inside a's wrapped key: its checksum fails
    std::fs::write(&keys, &bytes).expect("writes");
    let mut register = Register::open(&dir, &key).expect("reopens");
    assert_eq!(register.report().damaged_key_slots, 1);
    assert!(matches!(register.read(&a), Err(RegisterError::Damaged(_))));
    assert_eq!(register.lookup_nik(&nik_of(1)), None);
    assert!(register.read(&b).expect("reads").is_some());
    register.erase(&a).expect("erases a damaged subject");
    assert!(matches!(register.read(&a), Err(RegisterError::Erased(_))));
    let lookups = std::fs::read(dir.join("lookup.slots")).expect("lookups");
    assert!(lookups[56..].iter().any(|b| *b != 0), "b's entry kept");
    assert!(lookups[..56].iter().all(|b| *b == 0), "a's entry zeroed");
}

#[test]
fn a_register_folder_others_may_open_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_tmp, dir, key) = setup();
    drop(Register::open(&dir, &key).expect("creates"));
    let mode = std::fs::metadata(&dir).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let err = Register::open(&dir, &key).expect_err("refused");
    assert!(matches!(err, RegisterError::FolderMode { .. }), "{err}");
}
