//! The *uraian*: one line a prosecutor can read aloud about an act, in Indonesian, for the
//! Indonesian report and berita acara (the English line is `domain::projection::summary`, kept in
//! the views). Enumeration values are the workbench's words (`enum.*` in id.json, one catalogue);
//! masses carry the decimal comma. Edge layer: renders a statement already verified, decides
//! nothing and never touches the ledger.

use crate::base::words::{Lang, grams};
use crate::format::statement::{
    Body, ContrabandFound, CustodyReceived, CustodyReleased, ItemSealed, LabResult, SampleSetAside,
    SearchConducted, SeizureRecorded, Statement, StatusDetermined, Weighed,
};

/// An enumeration value in the workbench's Indonesian words; as written when it has none.
fn word(value: &str) -> String {
    crate::edge::web::word(false, &format!("enum.{value}"))
        .unwrap_or_else(|| value.replace('_', " "))
}

fn g(mg: u64) -> String {
    grams(Some(mg), Lang::Indonesian)
}

fn g_or(mg: Option<u64>) -> String {
    mg.map_or_else(|| "tidak dinyatakan".to_owned(), g)
}

fn intact(seals_intact: bool) -> &'static str {
    if seals_intact { "utuh" } else { "TIDAK utuh" }
}

fn seals(list: &[String]) -> String {
    if list.is_empty() {
        "—".to_owned()
    } else {
        list.join(", ")
    }
}

/// Adds `uraian`, the Indonesian line, beside the English `summary` of every event in `json`'s
/// `events` (an item's history, an incident's or a person's events), from the statement at its
/// seq as `statement_at` reads it; an event whose statement cannot be read keeps its summary only.
pub fn annotate(json: &mut serde_json::Value, statement_at: impl Fn(u64) -> Option<Statement>) {
    let Some(events) = json
        .get_mut("events")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return;
    };
    for event in events {
        let seq = event.get("seq").and_then(serde_json::Value::as_u64);
        if let (Some(statement), Some(map)) = (seq.and_then(&statement_at), event.as_object_mut()) {
            map.insert("uraian".into(), indonesian(&statement).into());
        }
    }
}

/// An answer with events (an item's history, an incident's or a person's events) as JSON, each
/// event with its Indonesian line read from `ledger`'s statements: what the server and the
/// command line answer alike.
pub fn with_uraian(
    ledger: &crate::app::ledger::Ledger,
    answer: &impl serde::Serialize,
) -> serde_json::Value {
    let mut json = serde_json::to_value(answer).expect("every answer serializes to JSON");
    annotate(&mut json, |seq| ledger.statement_at(seq).ok());
    json
}

/// The act's *uraian* in Indonesian; for an act on the ledger itself (an enrollment, a rules
/// adoption), the English summary, which no berita acara of an item shows.
pub fn indonesian(statement: &Statement) -> String {
    match &statement.body {
        Body::SearchConducted(b) => search(b),
        Body::ContrabandFound(b) => found(b),
        Body::ItemSealed(b) => sealed(b),
        Body::Weighed(b) => weighed(b),
        Body::CustodyReleased(b) => released(b),
        Body::CustodyReceived(b) => received(b),
        Body::SeizureRecorded(b) => seized(b),
        Body::SampleSetAside(b) => sample(b),
        Body::LabResult(b) => lab_result(b),
        Body::StatusDetermined(b) => order(b),
        _ => other(statement),
    }
}

/// The acts whose line is a single phrase.
fn other(statement: &Statement) -> String {
    match &statement.body {
        Body::SeizureNotified(b) => format!(
            "penyitaan diberitahukan dengan surat {} kepada {}",
            b.letter_number,
            b.recipients.join(", ")
        ),
        Body::LabRequested(b) => format!(
            "pemeriksaan laboratorium dimintakan kepada {} (surat {}); segel [{}]",
            b.lab,
            b.letter_number,
            seals(&b.seals)
        ),
        Body::LabReceived(b) => format!(
            "diterima di laboratorium sebagai perkara {}; segel [{}] {}{}",
            b.lab_case,
            seals(&b.seals),
            intact(b.seals_intact),
            b.mass_observed_mg
                .map_or(String::new(), |m| format!(", berat teramati {}", g(m)))
        ),
        Body::Stored(b) => format!(
            "disimpan di {} › {} › {} ({})",
            b.location.store, b.location.room, b.location.shelf, b.authority
        ),
        Body::CheckedOut(b) => format!(
            "dikeluarkan untuk {} ({}), kembali paling lambat {}",
            b.purpose, b.authority, b.expected_return
        ),
        Body::Returned(b) => format!(
            "dikembalikan kepada {}; segel [{}] {}",
            b.to,
            seals(&b.seals),
            intact(b.seals_intact)
        ),
        Body::Destroyed(b) => format!(
            "dimusnahkan ({}) berdasarkan {}: {}",
            b.method,
            b.order_ref,
            g(b.mass_destroyed_mg)
        ),
        Body::InventoryCounted(b) => format!(
            "stock opname {}: {} ditemukan, {} tidak ditemukan",
            b.scope,
            b.items_found.len(),
            b.items_missing.len()
        ),
        Body::NoteAdded { text, .. } => format!("catatan: {text}"),
        Body::Correction(c) => format!(
            "koreksi atas no. urut {}: {} ({})",
            c.refers_to,
            c.fields.keys().cloned().collect::<Vec<_>>().join(", "),
            c.reason
        ),
        _ => crate::domain::projection::summary(statement),
    }
}

fn search(b: &SearchConducted) -> String {
    format!(
        "penggeledahan {} ({}) di {}: {}",
        word(&b.kind),
        if b.body_search {
            "dengan penggeledahan badan"
        } else {
            "tanpa penggeledahan badan"
        },
        b.location,
        word(&b.outcome)
    )
}

fn found(b: &ContrabandFound) -> String {
    format!(
        "ditemukan {} × {} ({}, {}), berat kotor sementara {}, disembunyikan: {}",
        b.count,
        b.description.name,
        word(&b.category),
        word(&b.description.form),
        g_or(b.gross_mass_mg),
        b.concealment
    )
}

fn sealed(b: &ItemSealed) -> String {
    let removed = if b.seals_removed.is_empty() {
        String::new()
    } else {
        format!(
            ", segel [{}] dilepas karena {}",
            b.seals_removed.join(", "),
            b.open_reason.as_deref().unwrap_or("(tanpa alasan)")
        )
    };
    format!(
        "disegel dengan [{}]{removed}; kemasan: {}",
        seals(&b.seals_applied),
        b.packaging
    )
}

fn weighed(b: &Weighed) -> String {
    format!(
        "ditimbang: kotor {}, bersih {} pada timbangan {} (d = {} mg, kalibrasi {}), segel {}",
        g(b.gross_mass_mg),
        g(b.net_mass_mg),
        b.balance_id,
        b.readability_mg,
        b.calibration_ref,
        intact(b.seals_intact)
    )
}

fn released(b: &CustodyReleased) -> String {
    format!(
        "diserahkan kepada {} ({}) untuk {}; segel [{}] {}",
        b.to_officer
            .as_ref()
            .map_or("petugas mana pun dari satuan itu".to_owned(), |o| o
                .to_string()),
        b.to_unit,
        b.purpose,
        seals(&b.seals),
        intact(b.seals_intact)
    )
}

fn received(b: &CustodyReceived) -> String {
    format!(
        "diterima; segel [{}] {}{}",
        seals(&b.seals),
        intact(b.seals_intact),
        b.mass_observed_mg
            .map_or(String::new(), |m| format!(", berat teramati {}", g(m)))
    )
}

fn seized(b: &SeizureRecorded) -> String {
    let possessor = match b.possessor_acknowledgement.as_str() {
        "signed" => "menandatangani",
        "refused" => "menolak menandatangani",
        "absent" => "tidak hadir",
        other => other,
    };
    format!(
        "disita berdasarkan surat perintah {} ({}), perkara {}; {} satuan, bersih {}; pihak yang disita {possessor}",
        b.warrant.number,
        b.legal_basis.join("; "),
        b.case,
        b.count,
        g_or(b.net_mass_mg),
    )
}

fn sample(b: &SampleSetAside) -> String {
    format!(
        "sampel {} disisihkan menurut aturan {}: {} satuan, bersih {}, disegel [{}]; barang induk disegel ulang [{}]",
        b.sample,
        word(&b.rule),
        b.sample_count,
        g(b.sample_net_mass_mg),
        seals(&b.sample_seals),
        seals(&b.parent_seals)
    )
}

fn lab_result(b: &LabResult) -> String {
    format!(
        "laporan laboratorium {}: {} — {}{}, bersih {}, terpakai {}, sisa {}",
        b.report_number,
        word(&b.result),
        b.substance,
        b.narcotic_class
            .as_ref()
            .map_or(String::new(), |c| format!(" (golongan {c})")),
        g(b.net_mass_mg),
        g(b.consumed_mass_mg),
        g(b.residue_mass_mg)
    )
}

fn order(b: &StatusDetermined) -> String {
    format!(
        "penetapan status barang bukti {}: {}",
        b.order_number,
        b.items
            .iter()
            .map(|i| format!("{} → {}", i.item, word(&i.status)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::statement::StatementType;

    /// Every act on an item has its own Indonesian line, never the English one, for the example
    /// statement of its type; acts on the ledger itself keep the English summary.
    #[test]
    fn every_act_on_an_item_reads_in_indonesian() {
        for kind in StatementType::ALL {
            let json = crate::app::templates::template(*kind);
            let bytes = serde_json::to_vec(&json).expect("JSON");
            let statement = Statement::parse(&bytes)
                .unwrap_or_else(|e| panic!("the example {} parses: {e}", kind.as_str()));
            let english = crate::domain::projection::summary(&statement);
            let line = indonesian(&statement);
            let on_the_ledger = line == english;
            let item_act = !matches!(
                statement.body,
                Body::LedgerGenesis { .. }
                    | Body::OfficerEnrolled { .. }
                    | Body::OfficerKeyRotated { .. }
                    | Body::OfficerKeyReplaced { .. }
                    | Body::OfficerRevoked { .. }
                    | Body::OfficerUpdated(_)
                    | Body::FacilityRegistered(_)
                    | Body::RulesAdopted { .. }
                    | Body::SubjectsLinked(_)
                    | Body::SubjectErased(_)
            );
            assert_eq!(
                on_the_ledger,
                !item_act,
                "{}: {line:?} / {english:?}",
                kind.as_str()
            );
            assert!(!line.is_empty(), "{}", kind.as_str());
        }
    }

    /// Masses in an Indonesian line carry the decimal comma.
    #[test]
    fn masses_carry_the_decimal_comma() {
        assert_eq!(g(10_790), "10,790 g");
        assert_eq!(g(1_250_000), "1.250,000 g");
        assert_eq!(g_or(None), "tidak dinyatakan");
    }
}
