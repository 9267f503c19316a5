//! The statutory clocks of narcotics procedure, as a versioned data table carrying the legal basis
//! of each clock (docs/DOMAIN.md "Statutory clocks"). Data only: the audit decides what to do with it.
//! Legal bases live here and on events, never in type names, because procedure law changes (the
//! new criminal procedure code, UU 20/2025, took effect on 2 January 2026).

/// The table's version: bump it, and say what changed, whenever a limit or basis changes.
pub const CLOCKS_VERSION: &str = "2025-08 (UU 35/2009; PP 40/2013; Rupbasan procedure)";

/// What starts a clock and what stops it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A statement of this type (on the item) starts or stops the clock.
    Type(&'static str),
    /// A seizure's record is due the same day (WIB, UTC+7) as the act.
    SameDayAsAct,
    /// A custody_received by an officer of the police or BNN.
    ReceivedByPolice,
    /// A status order giving the item the status `destroy`.
    DestroyOrder,
    /// A find of narcotic plants (`description.form` = plant).
    PlantFound,
    /// The destruction's record (its recorded_at) after the destruction (its occurred_at).
    RecordOfDestruction,
}

/// A statute or rule a clock rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    /// Undang-Undang Nomor 35 Tahun 2009 tentang Narkotika.
    Uu35Of2009,
    /// Peraturan Pemerintah Nomor 40 Tahun 2013 (the implementing regulation of UU 35/2009).
    Pp40Of2013,
    /// The Rupbasan's own procedure for evidence lent out for a hearing (no article to cite).
    RupbasanProcedure,
}

impl Law {
    /// The short form, as it is cited in English text: `UU 35/2009`.
    fn short(self) -> &'static str {
        match self {
            Self::Uu35Of2009 => "UU 35/2009",
            Self::Pp40Of2013 => "PP 40/2013",
            Self::RupbasanProcedure => "Rupbasan procedure",
        }
    }

    /// The full title, as Indonesian legal writing cites it.
    fn title(self) -> &'static str {
        match self {
            Self::Uu35Of2009 => "Undang-Undang Nomor 35 Tahun 2009 tentang Narkotika",
            Self::Pp40Of2013 => {
                "Peraturan Pemerintah Nomor 40 Tahun 2013 tentang Pelaksanaan Undang-Undang Nomor 35 Tahun 2009 tentang Narkotika"
            }
            Self::RupbasanProcedure => {
                "tata cara pengelolaan benda sitaan dan barang rampasan negara di Rupbasan"
            }
        }
    }
}

/// Where a clock's limit is written: a law, an article (*pasal*) and its paragraphs (*ayat*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Citation {
    pub law: Law,
    /// 0 when the source has no article to cite.
    pub article: u16,
    pub paragraphs: &'static [u8],
}

impl Citation {
    /// The short form English text and the JSON's `basis` carry: `UU 35/2009 art. 91(2),(4)`.
    pub fn short(&self) -> String {
        if self.article == 0 {
            return self.law.short().to_owned();
        }
        let paragraphs: Vec<String> = self.paragraphs.iter().map(|p| format!("({p})")).collect();
        format!(
            "{} art. {}{}",
            self.law.short(),
            self.article,
            paragraphs.join(",")
        )
    }

    /// The form Indonesian legal writing uses: `Pasal 91 ayat (2) dan ayat (4) Undang-Undang
    /// Nomor 35 Tahun 2009 tentang Narkotika`.
    pub fn indonesian(&self) -> String {
        if self.article == 0 {
            return self.law.title().to_owned();
        }
        let ayat: Vec<String> = self
            .paragraphs
            .iter()
            .map(|p| format!("ayat ({p})"))
            .collect();
        let ayat = match ayat.as_slice() {
            [] => String::new(),
            [one] => format!(" {one}"),
            [rest @ .., last] => format!(" {} dan {last}", rest.join(", ")),
        };
        format!("Pasal {}{ayat} {}", self.article, self.law.title())
    }
}

const fn cite(law: Law, article: u16, paragraphs: &'static [u8]) -> Citation {
    Citation {
        law,
        article,
        paragraphs,
    }
}

/// One statutory clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatutoryClock {
    pub id: &'static str,
    pub english: &'static str,
    pub indonesian: &'static str,
    pub start: Trigger,
    pub stop: Trigger,
    /// The limit in hours (7 days = 168).
    pub limit_hours: i64,
    pub basis: Citation,
}

/// The clocks in force.
pub const CLOCKS: &[StatutoryClock] = &[
    StatutoryClock {
        id: "seizure_record",
        english: "seizure record on the day of the seizure",
        indonesian: "berita acara penyitaan pada hari yang sama",
        start: Trigger::Type("seizure_recorded"),
        stop: Trigger::SameDayAsAct,
        limit_hours: 24,
        basis: cite(Law::Pp40Of2013, 14, &[]),
    },
    StatutoryClock {
        id: "notice_to_prosecutor",
        english: "notice of the seizure to the prosecutor within 3 × 24 hours",
        indonesian: "pemberitahuan penyitaan kepada Kejaksaan dalam 3 × 24 jam",
        start: Trigger::Type("seizure_recorded"),
        stop: Trigger::Type("seizure_notified"),
        limit_hours: 72,
        basis: cite(Law::Uu35Of2009, 87, &[]),
    },
    StatutoryClock {
        id: "handover_to_police",
        english: "find handed to the police or BNN within 3 × 24 hours",
        indonesian: "penyerahan temuan kepada Polri/BNN dalam 3 × 24 jam",
        start: Trigger::Type("contraband_found"),
        stop: Trigger::ReceivedByPolice,
        limit_hours: 72,
        basis: cite(Law::Pp40Of2013, 14, &[4]),
    },
    StatutoryClock {
        id: "lab_test",
        english: "lab examination within 3 × 24 hours of receipt at the lab",
        indonesian: "pemeriksaan laboratoris dalam 3 × 24 jam sejak diterima",
        start: Trigger::Type("lab_received"),
        stop: Trigger::Type("lab_result"),
        limit_hours: 72,
        basis: cite(Law::Pp40Of2013, 17, &[]),
    },
    StatutoryClock {
        id: "status_order",
        english: "prosecutor's status order within 7 days of the notice",
        indonesian: "penetapan status oleh Kejaksaan dalam 7 hari sejak pemberitahuan",
        start: Trigger::Type("seizure_notified"),
        stop: Trigger::Type("status_determined"),
        limit_hours: 7 * 24,
        basis: cite(Law::Uu35Of2009, 91, &[1]),
    },
    StatutoryClock {
        id: "destruction",
        english: "destruction within 7 days of the order (one 7-day extension possible)",
        indonesian: "pemusnahan dalam 7 hari sejak penetapan (dapat diperpanjang satu kali 7 hari)",
        start: Trigger::DestroyOrder,
        stop: Trigger::Type("destroyed"),
        limit_hours: 7 * 24,
        basis: cite(Law::Uu35Of2009, 91, &[2, 4]),
    },
    StatutoryClock {
        id: "destruction_record",
        english: "destruction record within 1 × 24 hours of the destruction",
        indonesian: "berita acara pemusnahan dalam 1 × 24 jam",
        start: Trigger::Type("destroyed"),
        stop: Trigger::RecordOfDestruction,
        limit_hours: 24,
        basis: cite(Law::Uu35Of2009, 91, &[3]),
    },
    StatutoryClock {
        id: "plant_destruction",
        english: "narcotic plants destroyed within 2 × 24 hours of the find",
        indonesian: "tanaman narkotika dimusnahkan dalam 2 × 24 jam sejak ditemukan",
        start: Trigger::PlantFound,
        stop: Trigger::Type("destroyed"),
        limit_hours: 48,
        basis: cite(Law::Pp40Of2013, 27, &[3]),
    },
    StatutoryClock {
        id: "rupbasan_loan",
        english: "Rupbasan loan for a hearing returned within 2 × 24 hours",
        indonesian: "peminjaman dari Rupbasan untuk persidangan dikembalikan dalam 2 × 24 jam",
        start: Trigger::Type("checked_out"),
        stop: Trigger::Type("returned"),
        limit_hours: 48,
        basis: cite(Law::RupbasanProcedure, 0, &[]),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_read_as_indonesian_legal_writing_and_as_before_in_short() {
        let destruction = cite(Law::Uu35Of2009, 91, &[2, 4]);
        assert_eq!(destruction.short(), "UU 35/2009 art. 91(2),(4)");
        assert_eq!(
            destruction.indonesian(),
            "Pasal 91 ayat (2) dan ayat (4) Undang-Undang Nomor 35 Tahun 2009 tentang Narkotika"
        );
        assert_eq!(
            cite(Law::Pp40Of2013, 14, &[]).indonesian(),
            "Pasal 14 Peraturan Pemerintah Nomor 40 Tahun 2013 tentang Pelaksanaan Undang-Undang Nomor 35 Tahun 2009 tentang Narkotika"
        );
        assert_eq!(
            cite(Law::Uu35Of2009, 1, &[1, 2, 3]).indonesian(),
            "Pasal 1 ayat (1), ayat (2) dan ayat (3) Undang-Undang Nomor 35 Tahun 2009 tentang Narkotika"
        );
        assert_eq!(
            cite(Law::RupbasanProcedure, 0, &[]).short(),
            "Rupbasan procedure"
        );
    }
}
