//! Statements: the JSON an officer signs. Owns the statement types, their JSON Schemas (compiled
//! once from `schemas/`), and the typed view of a statement's fields. Parses the exact bytes the
//! client produced and never re-serializes them; never decides whether an act is allowed (that is
//! `rules`).

use crate::base::ids::{
    FacilityId, ItemId, OfficerId, OfficerRole, Origin, SignerRole, StatementId,
};
use crate::base::limits::STATEMENT_BYTES_MAX;
use crate::base::time::Timestamp;
use crate::base::words::{Explain, Message, msg};
use crate::format::merkle::Hash;
use crate::format::subject::{Commitment, SubjectId, SubjectKind};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

/// A statement that was refused before any rule ran. `field` is a JSON pointer into the statement
/// (empty for the whole document) and `rule` says what the field must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementError {
    TooLarge {
        size: usize,
        max: usize,
    },
    /// What is wrong with the JSON (`json_fault`).
    Json(Message),
    Field {
        field: String,
        rule: Message,
    },
}

crate::english_display!(StatementError);

impl Explain for StatementError {
    fn explain(&self) -> Message {
        match self {
            Self::TooLarge { size, max } => msg("err.statement.too_large")
                .arg("size", size)
                .arg("max", max),
            Self::Json(problem) => msg("err.statement.json").part("problem", problem.clone()),
            Self::Field { field, rule } => msg("err.statement.field")
                .arg("field", field)
                .part("rule", rule.clone()),
        }
    }
}

impl StatementError {
    fn field(field: impl Into<String>, rule: Message) -> Self {
        Self::Field {
            field: field.into(),
            rule,
        }
    }

    /// The JSON pointer of the offending field, when there is one.
    pub fn field_path(&self) -> Option<&str> {
        match self {
            Self::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

macro_rules! statement_types {
    ($( $variant:ident => $name:literal, $indonesian:literal; )*) => {
        /// Every statement type the ledger knows.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum StatementType { $( $variant, )* }

        impl StatementType {
            pub const ALL: &'static [StatementType] = &[ $( Self::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $name, )* }
            }

            /// The Indonesian term officers use for this act.
            pub fn indonesian(self) -> &'static str {
                match self { $( Self::$variant => $indonesian, )* }
            }

            /// The text of `schemas/<type>.json`.
            pub fn schema_text(self) -> &'static str {
                match self {
                    $( Self::$variant => include_str!(concat!("../../schemas/", $name, ".json")), )*
                }
            }
        }
    };
}

statement_types! {
    LedgerGenesis => "ledger_genesis", "pembukaan buku register";
    OfficerEnrolled => "officer_enrolled", "pendaftaran petugas";
    OfficerKeyRotated => "officer_key_rotated", "penggantian kunci petugas";
    OfficerRevoked => "officer_revoked", "pencabutan petugas";
    SearchConducted => "search_conducted", "penggeledahan";
    ContrabandFound => "contraband_found", "temuan barang terlarang";
    ItemSealed => "item_sealed", "penyegelan";
    Weighed => "weighed", "penimbangan";
    CustodyReleased => "custody_released", "serah terima (penyerah)";
    CustodyReceived => "custody_received", "serah terima (penerima)";
    SeizureRecorded => "seizure_recorded", "penyitaan";
    SampleSetAside => "sample_set_aside", "penyisihan sampel";
    SeizureNotified => "seizure_notified", "pemberitahuan penyitaan";
    LabRequested => "lab_requested", "permintaan pemeriksaan laboratoris";
    LabReceived => "lab_received", "penerimaan di laboratorium";
    LabResult => "lab_result", "berita acara pemeriksaan laboratoris";
    StatusDetermined => "status_determined", "penetapan status barang sitaan";
    Stored => "stored", "penyimpanan";
    CheckedOut => "checked_out", "pengeluaran / peminjaman";
    Returned => "returned", "pengembalian";
    Destroyed => "destroyed", "pemusnahan";
    InventoryCounted => "inventory_counted", "stock opname";
    NoteAdded => "note_added", "catatan";
    Correction => "correction", "ralat";
    RulesAdopted => "rules_adopted", "penetapan versi aturan";
    SubjectsLinked => "subjects_linked", "penggabungan subjek";
    SubjectErased => "subject_erased", "penghapusan data subjek";
    OfficerKeyReplaced => "officer_key_replaced", "penggantian kunci yang hilang";
    OfficerUpdated => "officer_updated", "perubahan data petugas";
    FacilityRegistered => "facility_registered", "pendaftaran satuan kerja";
}

impl StatementType {
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    /// Identity statements change the identity state — who may sign, and under which rules
    /// version; the ledger indexes them for fast reopening, and bundles carry them.
    pub fn is_identity(self) -> bool {
        matches!(
            self,
            Self::LedgerGenesis
                | Self::OfficerEnrolled
                | Self::OfficerKeyRotated
                | Self::OfficerKeyReplaced
                | Self::OfficerUpdated
                | Self::FacilityRegistered
                | Self::OfficerRevoked
                | Self::RulesAdopted
        )
    }
}

impl fmt::Display for StatementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const COMMON_SCHEMA: &str = include_str!("../../schemas/common.json");
const COMMON_URI: &str = "urn:custody:schema:common";

struct Schemas {
    validators: Vec<(StatementType, jsonschema::Validator)>,
}

fn registry() -> &'static jsonschema::Registry<'static> {
    static REGISTRY: OnceLock<jsonschema::Registry<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let common: serde_json::Value =
            serde_json::from_str(COMMON_SCHEMA).expect("schemas/common.json is valid JSON");
        jsonschema::Registry::new()
            .add(COMMON_URI, common)
            .and_then(|b| b.prepare())
            .expect("schemas/common.json is a valid schema resource")
    })
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let validators = StatementType::ALL
            .iter()
            .map(|&t| {
                let schema: serde_json::Value = serde_json::from_str(t.schema_text())
                    .expect("every schema file is valid JSON (checked by tests)");
                let validator = jsonschema::options()
                    .with_registry(registry())
                    .should_validate_formats(true)
                    .build(&schema)
                    .expect("every schema file compiles (checked by tests)");
                (t, validator)
            })
            .collect();
        Schemas { validators }
    })
}

/// Compiles every schema now, so that the first statement does not pay for it.
pub fn warm_up() {
    let _ = schemas();
}

/// One entry of `signers`: a function in the act and the officer who fills it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Signer {
    pub role: SignerRole,
    pub officer: OfficerId,
}

/// The enrollment record of an officer, as carried by genesis and enrollment statements.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OfficerRecord {
    pub id: OfficerId,
    pub name: String,
    pub agency: String,
    pub unit: String,
    pub roles: Vec<OfficerRole>,
    pub public_key: String,
    /// Rank or grade (*pangkat / golongan*), when recorded.
    pub rank: Option<String>,
}

/// What an `officer_updated` changes in an officer's record: each field given replaces the
/// recorded one (`home` is the home facility).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct OfficerUpdate {
    pub officer: OfficerId,
    pub name: Option<String>,
    pub rank: Option<String>,
    pub agency: Option<String>,
    pub unit: Option<String>,
    pub home: Option<FacilityId>,
    pub reason: String,
}

/// A facility's time zone, as the register of places records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum FacilityZone {
    #[serde(rename = "WIB")]
    Wib,
    #[serde(rename = "WITA")]
    Wita,
    #[serde(rename = "WIT")]
    Wit,
}

impl FacilityZone {
    /// The zone local times of the facility's acts are shown in.
    pub fn zone(self) -> crate::base::time::Zone {
        match self {
            Self::Wib => crate::base::time::Zone::Wib,
            Self::Wita => crate::base::time::Zone::Wita,
            Self::Wit => crate::base::time::Zone::Wit,
        }
    }
}

/// A facility in the register of places (`facility_registered`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct FacilityRecord {
    pub code: FacilityId,
    pub name: String,
    pub address: String,
    pub time_zone: FacilityZone,
    pub letterhead: Vec<String>,
}

/// A person involved in an act, identified by a register number, never by name alone. From
/// rules version 4 a person who is not an officer is a `Subject`: a pseudonym and a commitment,
/// their personal data kept in the subject register (docs/PRIVACY.md); the variants that carry
/// identifiers in the clear stay readable for entries recorded before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Person {
    Subject {
        /// Which kind of person (inmate, visitor, foreign national, unidentified).
        category: SubjectKind,
        /// The person's id in the subject register.
        subject: SubjectId,
        /// The salted commitment to the personal fields this statement relies on
        /// (docs/FORMAT.md §17): a court given the fields and the salt can check them.
        commitment: Commitment,
    },
    Inmate {
        sdp: String,
        name: Option<String>,
    },
    Visitor {
        nik: String,
        name: String,
    },
    ForeignNational {
        passport: String,
        nationality: String,
        name: String,
    },
    Officer {
        officer: OfficerId,
    },
    Unidentified {
        description: String,
    },
}

impl Person {
    /// The key a person is found by (`custody person KEY`): a subject id (`subj-…`), an officer's
    /// NIP/NRP, or for entries recorded before rules version 4 `SDP:…`, `NIK:…` or
    /// `PASSPORT:<nationality>:…`. None for the unidentified.
    pub fn key(&self) -> Option<String> {
        match self {
            Self::Subject { subject, .. } => Some(subject.to_string()),
            Self::Inmate { sdp, .. } => Some(format!("SDP:{sdp}")),
            Self::Visitor { nik, .. } => Some(format!("NIK:{nik}")),
            Self::ForeignNational {
                passport,
                nationality,
                ..
            } => Some(format!("PASSPORT:{nationality}:{passport}")),
            Self::Officer { officer } => Some(officer.to_string()),
            Self::Unidentified { .. } => None,
        }
    }
}

/// Who or what was searched: a person, or a place or parcel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Subject {
    Person(Person),
    Thing(Thing),
}

/// A searched place or parcel (no person to name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Thing {
    Area { area: String },
    Parcel { description: String },
}

impl Subject {
    pub fn person(&self) -> Option<&Person> {
        match self {
            Self::Person(p) => Some(p),
            Self::Thing(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchConducted {
    pub incident: String,
    pub kind: String,
    pub subject: Subject,
    pub location: String,
    pub body_search: bool,
    pub same_gender_searcher: Option<bool>,
    pub outcome: String,
    #[serde(default)]
    pub team: Vec<OfficerId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    pub name: String,
    pub form: String,
    pub colour: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContrabandFound {
    pub incident: String,
    pub item: ItemId,
    pub description: Description,
    pub category: String,
    pub narcotic_class: Option<String>,
    pub count: u64,
    pub gross_mass_mg: Option<u64>,
    pub concealment: String,
    #[serde(default)]
    pub persons: Vec<Person>,
    #[serde(default)]
    pub photos: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSealed {
    pub item: ItemId,
    pub seals_applied: Vec<String>,
    #[serde(default)]
    pub seals_removed: Vec<String>,
    pub open_reason: Option<String>,
    pub packaging: String,
    #[serde(default)]
    pub photos: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weighed {
    pub item: ItemId,
    pub gross_mass_mg: u64,
    pub net_mass_mg: u64,
    pub balance_id: String,
    pub readability_mg: u64,
    pub calibration_ref: String,
    pub seals_intact: bool,
    /// What the officers confirm they saw (rules version 5): `mass_difference`.
    #[serde(default)]
    pub confirmed: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyReleased {
    pub item: ItemId,
    pub to_officer: Option<OfficerId>,
    pub to_unit: String,
    pub purpose: String,
    pub seals: Vec<String>,
    pub seals_intact: bool,
    pub mass_observed_mg: Option<u64>,
    pub count_observed: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyReceived {
    pub item: ItemId,
    pub seals: Vec<String>,
    pub seals_intact: bool,
    pub mass_observed_mg: Option<u64>,
    pub count_observed: Option<u64>,
    pub location: Option<String>,
    /// What the officers confirm they saw (rules version 5): `late_receipt`.
    #[serde(default)]
    pub confirmed: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warrant {
    pub number: String,
    pub issued_by: String,
    pub date: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeizureRecorded {
    pub item: ItemId,
    pub case: String,
    pub warrant: Warrant,
    pub legal_basis: Vec<String>,
    pub description: String,
    pub count: u64,
    pub net_mass_mg: Option<u64>,
    pub possessor: Person,
    pub possessor_acknowledgement: String,
    pub refusal_note: Option<String>,
    #[serde(default)]
    pub photos: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleSetAside {
    pub item: ItemId,
    pub sample: ItemId,
    pub rule: String,
    pub sample_count: u64,
    pub sample_net_mass_mg: u64,
    pub sample_seals: Vec<String>,
    pub parent_seals: Vec<String>,
    pub suspect_acknowledgement: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeizureNotified {
    pub item: ItemId,
    pub letter_number: String,
    pub recipients: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabRequested {
    pub item: ItemId,
    pub lab: String,
    pub letter_number: String,
    pub seals: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabReceived {
    pub item: ItemId,
    pub lab_case: String,
    pub seals: Vec<String>,
    pub seals_intact: bool,
    pub mass_observed_mg: Option<u64>,
    /// What the officers confirm they saw (rules version 5): `late_receipt`.
    #[serde(default)]
    pub confirmed: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabResult {
    pub item: ItemId,
    pub report_number: String,
    pub result: String,
    pub substance: String,
    pub narcotic_class: Option<String>,
    pub method: String,
    pub net_mass_mg: u64,
    pub consumed_mass_mg: u64,
    pub residue_mass_mg: u64,
    pub residue_seals: Vec<String>,
    pub report_digest: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusItem {
    pub item: ItemId,
    pub status: String,
    pub retained_mass_mg: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetermined {
    pub order_number: String,
    pub items: Vec<StatusItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreLocation {
    pub store: String,
    pub room: String,
    pub shelf: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub item: ItemId,
    pub location: StoreLocation,
    pub authority: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedOut {
    pub item: ItemId,
    pub purpose: String,
    pub authority: String,
    pub expected_return: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Returned {
    pub item: ItemId,
    pub to: String,
    pub owner: Option<Person>,
    pub seals: Vec<String>,
    pub seals_intact: bool,
    pub mass_observed_mg: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destroyed {
    pub item: ItemId,
    pub order_ref: String,
    pub reweigh_seq: Option<u64>,
    pub mass_destroyed_mg: u64,
    pub method: String,
    #[serde(default)]
    pub media: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryCounted {
    pub scope: String,
    pub items_found: Vec<ItemId>,
    pub items_missing: Vec<ItemId>,
    pub items_extra: Vec<String>,
    pub seals_checked: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub refers_to: u64,
    pub item: Option<ItemId>,
    pub fields: BTreeMap<String, serde_json::Value>,
    pub reason: String,
}

/// The type-specific part of a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    LedgerGenesis {
        origin: Origin,
        ledger_key: String,
        admin: OfficerRecord,
        /// The rules version the ledger starts under; absent in ledgers written before rules
        /// were versioned, which start under version 1.
        rules: Option<u32>,
        /// Present when this ledger re-founds another (docs/FORMAT.md §17.7): its first entries
        /// re-record that ledger's history under an administrator's attestation.
        refounds: Option<Refounds>,
    },
    OfficerEnrolled {
        officer: OfficerRecord,
    },
    OfficerKeyRotated {
        officer: OfficerId,
        public_key: String,
        reason: String,
    },
    OfficerRevoked {
        officer: OfficerId,
        reason: String,
    },
    /// A lost or stolen key replaced by an administrator before witnesses, without the old key.
    OfficerKeyReplaced {
        officer: OfficerId,
        public_key: String,
        reason: String,
        /// The number of the report of the loss (e.g. a police report), when there is one.
        report: Option<String>,
    },
    OfficerUpdated(OfficerUpdate),
    FacilityRegistered(FacilityRecord),
    NoteAdded {
        refers_to: Option<u64>,
        text: String,
        item: Option<ItemId>,
    },
    SearchConducted(SearchConducted),
    ContrabandFound(ContrabandFound),
    ItemSealed(ItemSealed),
    Weighed(Weighed),
    CustodyReleased(CustodyReleased),
    CustodyReceived(CustodyReceived),
    SeizureRecorded(SeizureRecorded),
    SampleSetAside(SampleSetAside),
    SeizureNotified(SeizureNotified),
    LabRequested(LabRequested),
    LabReceived(LabReceived),
    LabResult(LabResult),
    StatusDetermined(StatusDetermined),
    Stored(Stored),
    CheckedOut(CheckedOut),
    Returned(Returned),
    Destroyed(Destroyed),
    InventoryCounted(InventoryCounted),
    Correction(Correction),
    /// An administrator puts a newer rules version in force from the next entry on.
    RulesAdopted {
        version: u32,
    },
    SubjectsLinked(SubjectsLinked),
    SubjectErased(SubjectErased),
}

/// A person's data erased from the subject register, and on what basis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectErased {
    pub subject: SubjectId,
    pub basis: String,
    #[serde(default)]
    pub order: Option<String>,
    #[serde(default)]
    pub retention_version: Option<u32>,
}

/// Two subject ids that are one person (recorded twice, e.g. offline on two devices).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectsLinked {
    pub subject: SubjectId,
    pub same_as: SubjectId,
    pub basis: String,
}

impl Body {
    /// The statement type this body belongs to.
    pub fn kind(&self) -> StatementType {
        match self {
            Self::LedgerGenesis { .. } => StatementType::LedgerGenesis,
            Self::OfficerEnrolled { .. } => StatementType::OfficerEnrolled,
            Self::OfficerKeyRotated { .. } => StatementType::OfficerKeyRotated,
            Self::OfficerKeyReplaced { .. } => StatementType::OfficerKeyReplaced,
            Self::OfficerUpdated(_) => StatementType::OfficerUpdated,
            Self::FacilityRegistered(_) => StatementType::FacilityRegistered,
            Self::OfficerRevoked { .. } => StatementType::OfficerRevoked,
            Self::NoteAdded { .. } => StatementType::NoteAdded,
            Self::SearchConducted(_) => StatementType::SearchConducted,
            Self::ContrabandFound(_) => StatementType::ContrabandFound,
            Self::ItemSealed(_) => StatementType::ItemSealed,
            Self::Weighed(_) => StatementType::Weighed,
            Self::CustodyReleased(_) => StatementType::CustodyReleased,
            Self::CustodyReceived(_) => StatementType::CustodyReceived,
            Self::SeizureRecorded(_) => StatementType::SeizureRecorded,
            Self::SampleSetAside(_) => StatementType::SampleSetAside,
            Self::SeizureNotified(_) => StatementType::SeizureNotified,
            Self::LabRequested(_) => StatementType::LabRequested,
            Self::LabReceived(_) => StatementType::LabReceived,
            Self::LabResult(_) => StatementType::LabResult,
            Self::StatusDetermined(_) => StatementType::StatusDetermined,
            Self::Stored(_) => StatementType::Stored,
            Self::CheckedOut(_) => StatementType::CheckedOut,
            Self::Returned(_) => StatementType::Returned,
            Self::Destroyed(_) => StatementType::Destroyed,
            Self::InventoryCounted(_) => StatementType::InventoryCounted,
            Self::Correction(_) => StatementType::Correction,
            Self::RulesAdopted { .. } => StatementType::RulesAdopted,
            Self::SubjectsLinked(_) => StatementType::SubjectsLinked,
            Self::SubjectErased(_) => StatementType::SubjectErased,
        }
    }

    /// The items this statement touches, each with whether the statement creates it. `after`
    /// must name exactly these.
    pub fn items(&self) -> Vec<(ItemId, bool)> {
        let one = |i: &ItemId| vec![(i.clone(), false)];
        match self {
            Self::LedgerGenesis { .. }
            | Self::OfficerEnrolled { .. }
            | Self::OfficerKeyRotated { .. }
            | Self::OfficerKeyReplaced { .. }
            | Self::OfficerUpdated(_)
            | Self::FacilityRegistered(_)
            | Self::OfficerRevoked { .. }
            | Self::RulesAdopted { .. }
            | Self::SearchConducted(_)
            | Self::SubjectsLinked(_)
            | Self::SubjectErased(_)
            | Self::InventoryCounted(_) => Vec::new(),
            Self::NoteAdded { item, .. } => item.iter().map(|i| (i.clone(), false)).collect(),
            Self::Correction(c) => c.item.iter().map(|i| (i.clone(), false)).collect(),
            Self::ContrabandFound(b) => vec![(b.item.clone(), true)],
            // A seizure creates the item when the police find it themselves; otherwise it
            // formalizes an item already held (the statement's `after` tells which).
            Self::SeizureRecorded(b) => one(&b.item),
            Self::SampleSetAside(b) => vec![(b.item.clone(), false), (b.sample.clone(), true)],
            Self::ItemSealed(b) => one(&b.item),
            Self::Weighed(b) => one(&b.item),
            Self::CustodyReleased(b) => one(&b.item),
            Self::CustodyReceived(b) => one(&b.item),
            Self::SeizureNotified(b) => one(&b.item),
            Self::LabRequested(b) => one(&b.item),
            Self::LabReceived(b) => one(&b.item),
            Self::LabResult(b) => one(&b.item),
            Self::StatusDetermined(b) => b.items.iter().map(|i| (i.item.clone(), false)).collect(),
            Self::Stored(b) => one(&b.item),
            Self::CheckedOut(b) => one(&b.item),
            Self::Returned(b) => one(&b.item),
            Self::Destroyed(b) => one(&b.item),
        }
    }
}

/// A statement whose bytes passed its schema. Holds the typed fields; the exact bytes stay with
/// the envelope they came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub kind: StatementType,
    pub id: StatementId,
    pub occurred_at: Timestamp,
    pub facility: FacilityId,
    pub signers: Vec<Signer>,
    /// Item id → the leaf hash of the item's latest event as the signers saw it (None: new item).
    pub after: BTreeMap<ItemId, Option<Hash>>,
    pub body: Body,
    /// The first thing the statement says about a person that rules version 4 refuses (a person
    /// in the clear, an identifier in free text), found while parsing (`format::people`).
    pub people: Option<crate::format::people::Finding>,
    /// Present on an entry a re-founding re-recorded: which entry of the old ledger it stands for.
    pub attests: Option<Attests>,
}

impl Statement {
    /// When the ledger recorded the act this statement states: the old ledger's time for an
    /// entry a re-founding re-recorded (`attests`), else `leaf` (this entry's own `recorded_at`).
    /// The audit's clocks and back-dating measure against this, so a re-founding does not make
    /// every old act look recorded late.
    pub fn recorded_at_or(&self, leaf: Timestamp) -> Timestamp {
        self.attests.as_ref().map_or(leaf, |a| a.recorded_at)
    }
}

/// What a re-founded ledger's genesis says of the ledger it re-records (`refounds`): that
/// ledger's origin and the checkpoint (size, root) whose entries it re-records, one for one at
/// the same seqs, and the administrator who attests them, with the key that signs them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refounds {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub by: OfficerId,
    pub key: String,
    pub reason: String,
}

/// Which entry of the re-founded ledger an attested entry stands for: its seq, its leaf hash and
/// when that ledger recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attests {
    pub seq: u64,
    pub leaf: Hash,
    pub recorded_at: Timestamp,
}

#[derive(Deserialize)]
struct CommonWire {
    id: StatementId,
    occurred_at: String,
    facility: FacilityId,
    signers: Vec<Signer>,
    after: BTreeMap<ItemId, Option<String>>,
    attests: Option<AttestsWire>,
}

#[derive(Deserialize)]
struct AttestsWire {
    seq: u64,
    leaf: String,
    recorded_at: String,
}

#[derive(Deserialize)]
struct RefoundsWire {
    origin: String,
    size: u64,
    root: String,
    by: OfficerId,
    key: String,
    reason: String,
}

#[derive(Deserialize)]
struct GenesisWire {
    origin: Origin,
    ledger_key: String,
    admin: OfficerRecord,
    rules: Option<u32>,
    refounds: Option<RefoundsWire>,
}
#[derive(Deserialize)]
struct EnrolledWire {
    officer: OfficerRecord,
}
#[derive(Deserialize)]
struct RotatedWire {
    officer: OfficerId,
    public_key: String,
    reason: String,
}
#[derive(Deserialize)]
struct ReplacedWire {
    officer: OfficerId,
    public_key: String,
    reason: String,
    report: Option<String>,
}
#[derive(Deserialize)]
struct RevokedWire {
    officer: OfficerId,
    reason: String,
}
#[derive(Deserialize)]
struct RulesAdoptedWire {
    version: u32,
}
#[derive(Deserialize)]
struct NoteWire {
    refers_to: Option<u64>,
    text: String,
    item: Option<ItemId>,
}

impl Statement {
    /// Parses and schema-checks statement bytes. The error names the first offending field.
    pub fn parse(bytes: &[u8]) -> Result<Self, StatementError> {
        if bytes.len() > STATEMENT_BYTES_MAX {
            return Err(StatementError::TooLarge {
                size: bytes.len(),
                max: STATEMENT_BYTES_MAX,
            });
        }
        let value = parse_unambiguous(bytes)?;
        let kind = match value.get("type") {
            None => {
                return Err(StatementError::field(
                    "/type",
                    msg("err.statement.rule.type_required"),
                ));
            }
            Some(serde_json::Value::String(s)) => StatementType::parse(s).ok_or_else(|| {
                let known: Vec<&str> = StatementType::ALL.iter().map(|t| t.as_str()).collect();
                StatementError::field(
                    "/type",
                    msg("err.statement.rule.type_unknown")
                        .quoted("got", s)
                        .arg("known", known.join(", ")),
                )
            })?,
            Some(_) => {
                return Err(StatementError::field(
                    "/type",
                    msg("err.statement.rule.type_string"),
                ));
            }
        };
        validate(kind, &value)?;
        Self::from_valid_value(kind, value)
    }

    fn from_valid_value(
        kind: StatementType,
        value: serde_json::Value,
    ) -> Result<Self, StatementError> {
        let common: CommonWire = typed(&value)?;
        let occurred_at = Timestamp::parse(&common.occurred_at)
            .map_err(|e| StatementError::field("/occurred_at", e.explain()))?;
        let after = decode_after(common.after)?;
        let attests = common.attests.map(decode_attests).transpose()?;
        let body = body_from_value(kind, &value)?;
        Ok(Self {
            kind,
            id: common.id,
            occurred_at,
            facility: common.facility,
            signers: common.signers,
            after,
            body,
            people: crate::format::people::first_finding(&value),
            attests,
        })
    }
}

fn decode_attests(w: AttestsWire) -> Result<Attests, StatementError> {
    Ok(Attests {
        seq: w.seq,
        leaf: decode_hash(&w.leaf).ok_or_else(|| {
            StatementError::field("/attests/leaf", msg("err.statement.rule.hash"))
        })?,
        recorded_at: Timestamp::parse(&w.recorded_at)
            .map_err(|e| StatementError::field("/attests/recorded_at", e.explain()))?,
    })
}

fn decode_refounds(w: RefoundsWire) -> Result<Refounds, StatementError> {
    Ok(Refounds {
        origin: w.origin,
        size: w.size,
        root: decode_hash(&w.root).ok_or_else(|| {
            StatementError::field("/refounds/root", msg("err.statement.rule.hash"))
        })?,
        by: w.by,
        key: w.key,
        reason: w.reason,
    })
}

/// Decodes `after`: each item's head as a SHA-256 hash, or none for a new item. The error names
/// the first item (in id order) whose hash is not base64 SHA-256.
fn decode_after(
    after: BTreeMap<ItemId, Option<String>>,
) -> Result<BTreeMap<ItemId, Option<Hash>>, StatementError> {
    let mut decoded = BTreeMap::new();
    for (item, hash) in after {
        let hash = match hash {
            None => None,
            Some(text) => Some(decode_hash(&text).ok_or_else(|| {
                StatementError::field(format!("/after/{item}"), msg("err.statement.rule.hash"))
            })?),
        };
        decoded.insert(item, hash);
    }
    Ok(decoded)
}

/// Reads the type-specific body of a schema-valid statement of type `kind`.
fn body_from_value(kind: StatementType, value: &serde_json::Value) -> Result<Body, StatementError> {
    Ok(match kind {
        StatementType::LedgerGenesis => {
            let w = typed::<GenesisWire>(value)?;
            Body::LedgerGenesis {
                origin: w.origin,
                ledger_key: w.ledger_key,
                admin: w.admin,
                rules: w.rules,
                refounds: w.refounds.map(decode_refounds).transpose()?,
            }
        }
        StatementType::OfficerEnrolled => typed::<EnrolledWire>(value)?.into(),
        StatementType::OfficerKeyRotated => typed::<RotatedWire>(value)?.into(),
        StatementType::OfficerUpdated => Body::OfficerUpdated(typed(value)?),
        StatementType::FacilityRegistered => Body::FacilityRegistered(typed(value)?),
        StatementType::OfficerKeyReplaced => {
            let w = typed::<ReplacedWire>(value)?;
            Body::OfficerKeyReplaced {
                officer: w.officer,
                public_key: w.public_key,
                reason: w.reason,
                report: w.report,
            }
        }
        StatementType::OfficerRevoked => typed::<RevokedWire>(value)?.into(),
        StatementType::NoteAdded => typed::<NoteWire>(value)?.into(),
        StatementType::SearchConducted => Body::SearchConducted(typed(value)?),
        StatementType::ContrabandFound => {
            let b: ContrabandFound = typed(value)?;
            crate::format::categories::check_class(&b.category, b.narcotic_class.as_deref())
                .map_err(|rule| StatementError::field("/narcotic_class", rule))?;
            Body::ContrabandFound(b)
        }
        StatementType::ItemSealed => Body::ItemSealed(typed(value)?),
        StatementType::Weighed => Body::Weighed(typed(value)?),
        StatementType::CustodyReleased => Body::CustodyReleased(typed(value)?),
        StatementType::CustodyReceived => Body::CustodyReceived(typed(value)?),
        StatementType::SeizureRecorded => Body::SeizureRecorded(typed(value)?),
        StatementType::SampleSetAside => Body::SampleSetAside(typed(value)?),
        StatementType::SeizureNotified => Body::SeizureNotified(typed(value)?),
        StatementType::LabRequested => Body::LabRequested(typed(value)?),
        StatementType::LabReceived => Body::LabReceived(typed(value)?),
        StatementType::LabResult => Body::LabResult(typed(value)?),
        StatementType::StatusDetermined => Body::StatusDetermined(typed(value)?),
        StatementType::Stored => Body::Stored(typed(value)?),
        StatementType::CheckedOut => Body::CheckedOut(typed(value)?),
        StatementType::Returned => Body::Returned(typed(value)?),
        StatementType::Destroyed => Body::Destroyed(typed(value)?),
        StatementType::InventoryCounted => Body::InventoryCounted(typed(value)?),
        StatementType::Correction => Body::Correction(typed(value)?),
        StatementType::RulesAdopted => Body::RulesAdopted {
            version: typed::<RulesAdoptedWire>(value)?.version,
        },
        StatementType::SubjectsLinked => Body::SubjectsLinked(typed(value)?),
        StatementType::SubjectErased => Body::SubjectErased(typed(value)?),
    })
}

impl From<EnrolledWire> for Body {
    fn from(w: EnrolledWire) -> Self {
        Body::OfficerEnrolled { officer: w.officer }
    }
}

impl From<RotatedWire> for Body {
    fn from(w: RotatedWire) -> Self {
        Body::OfficerKeyRotated {
            officer: w.officer,
            public_key: w.public_key,
            reason: w.reason,
        }
    }
}

impl From<RevokedWire> for Body {
    fn from(w: RevokedWire) -> Self {
        Body::OfficerRevoked {
            officer: w.officer,
            reason: w.reason,
        }
    }
}

impl From<NoteWire> for Body {
    fn from(w: NoteWire) -> Self {
        Body::NoteAdded {
            refers_to: w.refers_to,
            text: w.text,
            item: w.item,
        }
    }
}

/// Reads the fields the statement type needs from an already schema-valid value. A failure here
/// means a schema and its typed view disagree, reported as a field error rather than a panic.
fn typed<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<T, StatementError> {
    T::deserialize(value)
        .map_err(|e| StatementError::field("/", msg("err.statement.rule.typed").arg("problem", e)))
}

fn decode_hash(text: &str) -> Option<Hash> {
    B64.decode(text).ok()?.try_into().ok()
}

fn validate(kind: StatementType, value: &serde_json::Value) -> Result<(), StatementError> {
    let validator = schemas()
        .validators
        .iter()
        .find(|(t, _)| *t == kind)
        .map(|(_, v)| v)
        .expect("every statement type has a compiled schema");
    match validator.iter_errors(value).next() {
        None => Ok(()),
        Some(err) => {
            let path = err.instance_path().to_string();
            let field = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            Err(StatementError::field(field, schema_rule(&err)))
        }
    }
}

/// The rule an officer can act on, for a schema violation: the catalogue's sentence for each kind
/// a person's statement breaks, with the refused value (at most `ECHO_CHARS_MAX` of it) and the
/// limit, pattern or allowed values (every one listed, never cut short); a time with an offset
/// where UTC is required says how to write it. The rare kinds left keep the validator's words.
#[allow(clippy::too_many_lines)] // one arm per kind of violation reads better than a split
fn schema_rule(err: &jsonschema::ValidationError<'_>) -> Message {
    use jsonschema::error::{TypeKind, ValidationErrorKind as Kind};
    let value = crate::base::class::echo(&err.instance().to_string());
    let about = |key: &'static str| msg(key).arg("value", &value);
    // English says "1 character" and "2 characters": a sentence per number, as the validator.
    let counted = |one: &'static str, many: &'static str, limit: u64| {
        msg(if limit == 1 { one } else { many })
            .arg("value", &value)
            .arg("limit", limit)
    };
    let unexpected = |one: &'static str, many: &'static str, names: &[String]| {
        let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        msg(if names.len() == 1 { one } else { many }).arg("names", quoted.join(", "))
    };
    match err.kind() {
        Kind::Required { property } => msg("err.statement.rule.required").arg("property", property),
        Kind::Type {
            kind: TypeKind::Single(kind),
        } => about("err.statement.rule.type").arg("type", kind),
        Kind::Type {
            kind: TypeKind::Multiple(kinds),
        } => {
            let quoted: Vec<String> = kinds.iter().map(|k| format!("\"{k}\"")).collect();
            about("err.statement.rule.types").arg("types", quoted.join(", "))
        }
        Kind::Pattern { pattern } if pattern == "Z$" => about("err.statement.rule.utc"),
        Kind::Pattern { pattern } => about("err.statement.rule.pattern").arg("pattern", pattern),
        Kind::Format { format } => about("err.statement.rule.format").arg("format", format),
        Kind::Enum { options } if options.is_array() => {
            let allowed: Vec<String> = options
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                .collect();
            about("err.statement.rule.enum").arg("allowed", allowed.join(", "))
        }
        Kind::Constant { expected_value } => {
            msg("err.statement.rule.const").arg("expected", expected_value)
        }
        Kind::MaxLength { limit } => counted(
            "err.statement.rule.max_length_one",
            "err.statement.rule.max_length",
            *limit,
        ),
        Kind::MinLength { limit } => counted(
            "err.statement.rule.min_length_one",
            "err.statement.rule.min_length",
            *limit,
        ),
        Kind::MaxItems { limit } => counted(
            "err.statement.rule.max_items_one",
            "err.statement.rule.max_items",
            *limit,
        ),
        Kind::MinItems { limit } => counted(
            "err.statement.rule.min_items_one",
            "err.statement.rule.min_items",
            *limit,
        ),
        Kind::MaxProperties { limit } => counted(
            "err.statement.rule.max_properties_one",
            "err.statement.rule.max_properties",
            *limit,
        ),
        Kind::MinProperties { limit } => counted(
            "err.statement.rule.min_properties_one",
            "err.statement.rule.min_properties",
            *limit,
        ),
        Kind::Minimum { limit } => about("err.statement.rule.minimum").arg("limit", limit),
        Kind::Maximum { limit } => about("err.statement.rule.maximum").arg("limit", limit),
        Kind::ExclusiveMinimum { limit } => {
            about("err.statement.rule.exclusive_minimum").arg("limit", limit)
        }
        Kind::ExclusiveMaximum { limit } => {
            about("err.statement.rule.exclusive_maximum").arg("limit", limit)
        }
        Kind::AdditionalProperties { unexpected: names } => unexpected(
            "err.statement.rule.additional_property",
            "err.statement.rule.additional_properties",
            names,
        ),
        Kind::UnevaluatedProperties { unexpected: names } => unexpected(
            "err.statement.rule.unevaluated_property",
            "err.statement.rule.unevaluated_properties",
            names,
        ),
        Kind::UniqueItems => about("err.statement.rule.unique_items"),
        Kind::AnyOf { .. } => about("err.statement.rule.any_of"),
        Kind::OneOfNotValid { .. } => about("err.statement.rule.one_of_none"),
        Kind::OneOfMultipleValid { .. } => about("err.statement.rule.one_of_many"),
        _ => Message::verbatim(validator_words(err)),
    }
}

/// The validator's own sentence, for the rare kinds the catalogue does not say: the refused value
/// at most `ECHO_CHARS_MAX` long, the whole at most 300 bytes.
fn validator_words(err: &jsonschema::ValidationError<'_>) -> String {
    let instance = err.instance().to_string();
    let mut rule = err.to_string();
    if instance.chars().count() > crate::base::limits::ECHO_CHARS_MAX {
        rule = rule.replace(&instance, &crate::base::class::echo(&instance));
    }
    // Long instance dumps make the message unreadable for an officer at a gate.
    if rule.len() > 300 {
        let cut = (0..=300)
            .rev()
            .find(|&i| rule.is_char_boundary(i))
            .unwrap_or(0);
        rule.truncate(cut);
        rule.push('…');
    }
    rule
}

/// What is wrong with JSON that did not parse, for a person: which kind of fault and where, and
/// the field when serde names one. Never serde's own sentence, which can name Rust types
/// ("expected struct WireEnvelope with 3 elements") or repeat a whole input value.
pub fn json_fault(e: &serde_json::Error) -> Message {
    use serde_json::error::Category;
    let text = e.to_string();
    let named_field = [
        ("missing field `", "err.statement.json.missing_field"),
        ("unknown field `", "err.statement.json.unknown_field"),
        ("duplicate field `", "err.statement.json.duplicate_field"),
    ]
    .iter()
    .find_map(|(prefix, key)| {
        let rest = text.strip_prefix(prefix)?;
        let field = rest.split('`').next()?;
        Some(msg(key).arg("field", crate::base::class::echo(field)))
    });
    let what = match (e.classify(), named_field) {
        (Category::Data, Some(field)) => field,
        (Category::Data, None) => msg("err.statement.json.wrong_kind"),
        (Category::Syntax, _) => msg("err.statement.json.syntax"),
        (Category::Eof, _) => msg("err.statement.json.eof"),
        (Category::Io, _) => msg("err.statement.json.io"),
    };
    msg("err.statement.json.at")
        .part("what", what)
        .arg("line", e.line())
        .arg("column", e.column())
}

/// Parses JSON into a value, refusing an object that names a key twice (with the path of the
/// second one): JSON allows an object to repeat a key and parsers disagree on which copy wins,
/// and a signed statement must mean one thing to every verifier. One pass: the same parse that builds the value checks the keys, and a path is
/// only spelled out when there is an error to report.
pub fn parse_unambiguous(bytes: &[u8]) -> Result<serde_json::Value, StatementError> {
    let path = std::cell::RefCell::new(Vec::new());
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = Unambiguous { path: &path }.deserialize(&mut de);
    match result.and_then(|v| de.end().map(|()| v)) {
        Ok(value) => Ok(value),
        Err(e) => {
            let text = e.to_string();
            match text.strip_prefix("duplicate key ") {
                Some(rest) => {
                    let field =
                        crate::base::class::echo(rest.split(" at line").next().unwrap_or(rest));
                    Err(StatementError::field(
                        field,
                        msg("err.statement.rule.duplicate_key"),
                    ))
                }
                None => Err(StatementError::Json(json_fault(&e))),
            }
        }
    }
}

/// One step of the path to the value being parsed.
enum Step {
    Key(String),
    Index(usize),
}

/// Builds a `serde_json::Value` like serde_json does, but refuses repeated keys.
struct Unambiguous<'p> {
    path: &'p std::cell::RefCell<Vec<Step>>,
}

impl Unambiguous<'_> {
    fn spelled(&self, last: &str) -> String {
        let mut out = String::new();
        for step in self.path.borrow().iter() {
            match step {
                Step::Key(k) => out.push_str(&format!("/{k}")),
                Step::Index(i) => out.push_str(&format!("/{i}")),
            }
        }
        out.push('/');
        out.push_str(last);
        out
    }
}

impl<'de> DeserializeSeed<'de> for Unambiguous<'_> {
    type Value = serde_json::Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unambiguous<'_> {
    type Value = serde_json::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .ok_or_else(|| E::custom("a number is not finite"))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        loop {
            self.path.borrow_mut().push(Step::Index(out.len()));
            let next = seq.next_element_seed(Unambiguous { path: self.path });
            self.path.borrow_mut().pop();
            match next? {
                Some(v) => out.push(v),
                None => return Ok(serde_json::Value::Array(out)),
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key {}",
                    self.spelled(&key)
                )));
            }
            self.path.borrow_mut().push(Step::Key(key));
            let value = map.next_value_seed(Unambiguous { path: self.path });
            // The step pushed above, popped here: it gives the key back without a copy.
            let popped = self.path.borrow_mut().pop();
            let Some(Step::Key(key)) = popped else {
                return Err(de::Error::custom("the JSON path lost its step"));
            };
            out.insert(key, value?);
        }
        Ok(serde_json::Value::Object(out))
    }
}

impl crate::base::class::Classify for StatementError {
    fn class(&self) -> crate::base::class::Class {
        use crate::base::class::Class;
        match self {
            Self::TooLarge { .. } => Class::TooLarge,
            Self::Json(_) => Class::Malformed,
            Self::Field { .. } => Class::Invalid,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Field { field, .. } => Some(field.clone()),
            Self::Json(_) => Some("payload".into()),
            Self::TooLarge { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signer_roles_are_the_schema_enum() {
        let common: serde_json::Value =
            serde_json::from_str(COMMON_SCHEMA).expect("schemas/common.json is valid JSON");
        let names: Vec<&str> = common["$defs"]["signer_role"]["enum"]
            .as_array()
            .expect("signer_role is an enum")
            .iter()
            .map(|v| v.as_str().expect("a role is a string"))
            .collect();
        let ours: Vec<&str> = SignerRole::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, ours);
    }

    fn note(extra: &str) -> String {
        format!(
            r#"{{"type":"note_added","id":"01987a3c-5b2e-7c41-9a10-3f2b8c4d5e6f","occurred_at":"2025-08-04T02:15:00Z","facility":"LPN-JAKARTA","signers":[{{"role":"author","officer":"198507142010121001"}}],"after":{{}},"text":"Gate log checked"{extra}}}"#
        )
    }

    #[test]
    fn a_valid_note_parses() {
        let s = Statement::parse(note("").as_bytes()).expect("valid");
        assert_eq!(s.kind, StatementType::NoteAdded);
        assert_eq!(s.signers[0].officer.as_str(), "198507142010121001");
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = Statement::parse(note(r#","colour":"red""#).as_bytes()).expect_err("refused");
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = Statement::parse(note(r#","text":"other""#).as_bytes()).expect_err("refused");
        assert_eq!(err.field_path(), Some("/text"));
    }

    #[test]
    fn bad_officer_id_names_the_field() {
        let bad = note("").replace("198507142010121001", "BUDI");
        let err = Statement::parse(bad.as_bytes()).expect_err("refused");
        assert_eq!(err.field_path(), Some("/signers/0/officer"), "{err}");
    }

    #[test]
    fn every_schema_compiles() {
        warm_up();
        assert_eq!(schemas().validators.len(), StatementType::ALL.len());
    }
}
