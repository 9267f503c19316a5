//! Erasing a person's data as an administrator's signed act: the register permits it (retention,
//! or an order), the `subject_erased` statement is appended, and only then is the person's key
//! destroyed (docs/PRIVACY.md). `custody subject erase` calls it; the HTTP API offers no erasure (an
//! administrator acts on the register's host). Must never destroy a key before its act
//! is in the log, nor record an act the register would not permit.

use crate::app::ledger::{AppendError, Ledger, Receipt};
use crate::app::queries;
use crate::app::subjects::{self, SubjectsError};
use crate::base::class::{Class, Classify};
use crate::base::words::{Explain, Message, msg};
use crate::format::subject::SubjectId;
use crate::keys::signing::SecretKey;

/// Why erasing a person's data failed: the register refused or failed, the act could not be
/// composed, or the ledger refused or failed to record it (then nothing was erased).
#[derive(Debug)]
pub enum EraseError {
    Subjects(SubjectsError),
    Compose(crate::app::compose::ComposeError),
    Append(AppendError),
}

impl From<SubjectsError> for EraseError {
    fn from(e: SubjectsError) -> Self {
        Self::Subjects(e)
    }
}

impl From<crate::app::compose::ComposeError> for EraseError {
    fn from(e: crate::app::compose::ComposeError) -> Self {
        Self::Compose(e)
    }
}

impl From<AppendError> for EraseError {
    fn from(e: AppendError) -> Self {
        Self::Append(e)
    }
}

crate::english_display!(EraseError);

impl Explain for EraseError {
    fn explain(&self) -> Message {
        match self {
            Self::Subjects(e) => e.explain(),
            Self::Compose(e) => e.explain(),
            Self::Append(e) => e.explain(),
        }
    }
}

impl Classify for EraseError {
    fn class(&self) -> Class {
        match self {
            Self::Subjects(e) => e.class(),
            Self::Compose(e) => e.class(),
            Self::Append(e) => e.class(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            Self::Subjects(e) => e.field(),
            Self::Compose(e) => e.field(),
            Self::Append(e) => e.field(),
        }
    }
}

/// Erases a person — `subject` and every subject id linked to it as the same person
/// (`subjects_linked`) whose data the register still holds — each as its own signed act. Every
/// erasure is permitted first (retention, or `order`), so none happens unless all may.
pub fn erase_person(
    ledger: &Ledger,
    subject: &SubjectId,
    basis: &str,
    order: Option<&str>,
    asker: &subjects::Asker,
    key: &SecretKey,
) -> Result<Vec<Receipt>, EraseError> {
    let store = ledger.store();
    let failed = |e: crate::storage::fault::StoreError| {
        let reason = msg("err.subjects.reading_views").part("reason", e.explain());
        EraseError::Subjects(SubjectsError::AccessLog(reason))
    };
    let last_ms = queries::last_act_ms(store, &subject.to_string()).map_err(failed)?;
    let register = ledger.subjects()?;
    let mut ids = vec![*subject];
    for other in queries::linked(store, &subject.to_string()).map_err(failed)? {
        if let Ok(id) = other.parse::<SubjectId>()
            && !ids.contains(&id)
            && register.is_live(&id)
        {
            ids.push(id);
        }
    }
    let erasures: Vec<subjects::Erasure<'_>> = ids
        .iter()
        .map(|id| subjects::Erasure {
            subject: id,
            basis,
            order,
            last_ms,
        })
        .collect();
    for e in &erasures {
        register.permit_erasure(e, asker, ledger.now())?;
    }
    erasures
        .iter()
        .map(|e| erase(ledger, e, asker, key))
        .collect()
}

/// Erases a person's data from the subject register as an administrator's signed act: the
/// register permits it (retention, or an order), the `subject_erased` statement signed with
/// `key` is appended — the record of who erased whom on what basis — and only then is the
/// key destroyed. A crash between the two is finished when the register is next opened.
pub fn erase(
    ledger: &Ledger,
    erasure: &subjects::Erasure<'_>,
    asker: &subjects::Asker,
    key: &SecretKey,
) -> Result<Receipt, EraseError> {
    let register = ledger.subjects()?;
    let now = ledger.now();
    let retention_version = register.permit_erasure(erasure, asker, now)?;
    let officer = asker.officer().clone();
    let facility = ledger
        .state()
        .officer(&officer)
        .map(|o| o.facility.to_string())
        .unwrap_or_default();
    let statement = serde_json::json!({
        "type": "subject_erased", "subject": erasure.subject, "basis": erasure.basis,
        "order": erasure.order, "retention_version": retention_version,
        "signers": [{"role": "admin", "officer": officer}], "facility": facility, "after": {},
    });
    let mut map = statement.as_object().cloned().unwrap_or_default();
    map.retain(|_, v| !v.is_null());
    let bytes = crate::app::compose::fill_defaults(
        serde_json::Value::Object(map).to_string().as_bytes(),
        ledger.clock(),
    )?;
    let receipt = ledger.submit_envelope(crate::app::compose::sign_statement(bytes, &[key])?)?;
    register.erase_recorded(erasure.subject, receipt.seq, Some(&officer), now)?;
    Ok(receipt)
}
