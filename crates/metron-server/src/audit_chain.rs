//! The audit trail as a hash chain (issue 27). Each organization's audit rows are numbered
//! 1, 2, 3... (`seq`), and each row's `hash` is SHA-256 over a canonical encoding of its
//! fields, its number and the previous row's hash ([`link`]). A row changed, removed or
//! slipped in afterwards breaks the chain from there on; [`verify`] walks every chain and
//! names the first row that does not hold (`metron-server audit verify`).
//!
//! The database refuses UPDATE and DELETE on the table (migration 0010's triggers); the chain
//! catches what those can't: someone with the database's owner rights who drops a trigger, or
//! edits the file. It does not stop a writer who recomputes every hash after a change: the
//! last hash (`audit_heads`) kept somewhere else, or printed by `audit verify` into a ticket,
//! is what makes that visible (docs/SECURITY.md).
//!
//! Rows are added by the stores (`db/timesheets.rs`), inside the transaction of the change
//! they record, with the organization's chain head locked: two changes at once never take the
//! same previous hash.
//!
//! Erasure (issue 28): removing a person writes a tombstone row ([`REMOVAL`]) whose `after`
//! names how many earlier rows about the person it erased and a digest of their ids and hashes
//! ([`ErasedRows`]); those rows then lose their content (migration 0015's one allowed update)
//! and name the tombstone in `erased_by`. An erased row's hash can no longer be recomputed, so
//! it is taken as written: it still links to the rows beside it, and the tombstone's digest,
//! itself in the chain, says exactly which rows were erased. Erasing any other row, or
//! un-erasing one, breaks the chain as any change does.

use sha2::{Digest, Sha256};

use crate::db::timesheets::AuditRow;
use crate::db::{Database, DbError};

/// The previous hash of an organization's first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The action of a removal's tombstone row.
pub const REMOVAL: &str = "user.remove";

/// The rows a removal erased, as its tombstone names them: how many, and SHA-256 over each
/// one's id and hash in chain order.
#[derive(Clone)]
pub struct ErasedRows {
    hash: Sha256,
    pub count: u64,
}

impl Default for ErasedRows {
    fn default() -> Self {
        let mut hash = Sha256::new();
        hash.update(b"metron erased v1\0");
        ErasedRows { hash, count: 0 }
    }
}

impl ErasedRows {
    pub fn add(&mut self, id: &str, row_hash: &str) {
        for v in [id, row_hash] {
            self.hash.update((v.len() as u64).to_be_bytes());
            self.hash.update(v.as_bytes());
        }
        self.count += 1;
    }

    pub fn digest(&self) -> String {
        hex::encode(self.hash.clone().finalize())
    }
}

/// How many rows [`verify`] reads at a time.
const PAGE: i64 = 1000;

/// The hash of `row` as number `seq` of its organization's chain, after `prev_hash`. Every
/// field goes in with its length (and an absent one with a mark of its own), so no two
/// different rows encode alike: "ab" + "c" is not "a" + "bc", and null is not "".
pub fn link(row: &AuditRow, seq: i64, prev_hash: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"metron audit v1\0");
    let mut text = |value: Option<&str>| match value {
        None => hash.update([0u8]),
        Some(v) => {
            hash.update([1u8]);
            hash.update((v.len() as u64).to_be_bytes());
            hash.update(v.as_bytes());
        }
    };
    text(Some(prev_hash));
    text(Some(&row.org_id));
    text(Some(&row.id));
    text(Some(&row.user_id));
    text(Some(&row.actor_id));
    text(Some(&row.action));
    text(Some(&row.subject_id));
    text(row.before.as_deref());
    text(row.after.as_deref());
    text(Some(&row.reason));
    hash.update(seq.to_be_bytes());
    hash.update(row.at.to_be_bytes());
    hex::encode(hash.finalize())
}

/// Every chain holds: how many organizations and rows were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub organizations: usize,
    pub rows: u64,
    /// Rows whose content a removal erased (each named by its tombstone).
    pub erased: u64,
    /// Each organization's last (seq, hash), to keep elsewhere: a later run that prints other
    /// hashes for the same numbers shows the chain was rewritten.
    pub heads: Vec<(String, i64, String)>,
}

/// The first row where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub org_id: String,
    /// The row's id (or the chain's head when rows are missing at its end).
    pub row: String,
    pub seq: Option<i64>,
    pub why: String,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seq = self
            .seq
            .map_or_else(|| "no number".into(), |s| format!("#{s}"));
        write!(
            f,
            "organization {}: audit row {} ({seq}): {}",
            self.org_id, self.row, self.why
        )
    }
}

/// Walks every organization's chain, in order: Ok(Err(first break)) when one doesn't hold.
pub async fn verify(db: &dyn Database) -> Result<Result<Verified, Broken>, DbError> {
    let mut done = Verified {
        organizations: 0,
        rows: 0,
        erased: 0,
        heads: Vec::new(),
    };
    for org_id in db.organization_ids().await? {
        match verify_org(db, &org_id).await? {
            Ok((rows, erased, head)) => {
                done.organizations += 1;
                done.rows += rows;
                done.erased += erased;
                if let Some((seq, hash)) = head {
                    done.heads.push((org_id, seq, hash));
                }
            }
            Err(broken) => return Ok(Err(broken)),
        }
    }
    Ok(Ok(done))
}

type Head = Option<(i64, String)>;

async fn verify_org(
    db: &dyn Database,
    org_id: &str,
) -> Result<Result<(u64, u64, Head), Broken>, DbError> {
    let broken = |row: &str, seq: Option<i64>, why: String| Broken {
        org_id: org_id.into(),
        row: row.into(),
        seq,
        why,
    };
    let (mut seq, mut prev) = (0i64, GENESIS.to_string());
    // The erased rows seen so far, by the tombstone they name (which comes after them).
    let mut erased: std::collections::HashMap<String, ErasedRows> = Default::default();
    let mut erased_total = 0u64;
    loop {
        let page = db.audit_chain(org_id, seq, PAGE).await?;
        for row in &page {
            // audit_chain reads numbered rows only; a row without one is reported all the same.
            let n = row.seq.unwrap_or(0);
            if n != seq + 1 {
                let why = if n > seq + 1 {
                    format!("rows #{} to #{} before it are missing", seq + 1, n - 1)
                } else {
                    format!("its number is out of order after #{seq}")
                };
                return Ok(Err(broken(&row.id, row.seq, why)));
            }
            if row.prev_hash.as_deref() != Some(prev.as_str()) {
                return Ok(Err(broken(
                    &row.id,
                    row.seq,
                    "its previous hash is not the hash of the row before it".into(),
                )));
            }
            if let Some(tombstone) = &row.erased_by {
                // Its content is gone: its hash is taken as written, and counted towards the
                // digest its tombstone recorded.
                let Some(hash) = row.hash.clone() else {
                    return Ok(Err(broken(&row.id, row.seq, "it has no hash".into())));
                };
                erased
                    .entry(tombstone.clone())
                    .or_default()
                    .add(&row.id, &hash);
                erased_total += 1;
                seq = n;
                prev = hash;
                continue;
            }
            let expected = link(&row.record(), n, &prev);
            if row.hash.as_deref() != Some(expected.as_str()) {
                return Ok(Err(broken(
                    &row.id,
                    row.seq,
                    "its fields do not match its hash: it was changed after it was written".into(),
                )));
            }
            if row.action == REMOVAL {
                let found = erased.remove(&row.id).unwrap_or_default();
                let said: Option<serde_json::Value> = row
                    .after
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok());
                let said = said.as_ref().map(|v| {
                    (
                        v["erased_audit_rows"].as_u64(),
                        v["erased_digest"].as_str().map(String::from),
                    )
                });
                if said != Some((Some(found.count), Some(found.digest()))) {
                    return Ok(Err(broken(
                        &row.id,
                        row.seq,
                        format!(
                            "this removal's record does not name the {} rows erased in its name",
                            found.count
                        ),
                    )));
                }
            }
            seq = n;
            prev = expected;
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    let head = db.audit_head(org_id).await?;
    let at_head = head
        .as_ref()
        .map_or((0, GENESIS), |(s, h)| (*s, h.as_str()));
    if at_head != (seq, prev.as_str()) {
        return Ok(Err(broken(
            "(head)",
            Some(at_head.0),
            format!(
                "the chain ends at #{seq} but its head says #{}: rows at its end are missing or were replaced",
                at_head.0
            ),
        )));
    }
    if let Some(tombstone) = erased.keys().next() {
        return Ok(Err(broken(
            tombstone,
            None,
            "rows name it as the removal that erased them, but no such removal follows them".into(),
        )));
    }
    if let Some(id) = db.unchained_audit_row(org_id).await? {
        return Ok(Err(broken(
            &id,
            None,
            "it has no place in the chain: it was written around the server".into(),
        )));
    }
    Ok(Ok((seq as u64, erased_total, head)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(reason: &str, before: Option<&str>) -> AuditRow {
        AuditRow {
            id: "01930000-0000-7000-8000-000000000001".into(),
            org_id: "org".into(),
            user_id: "ann".into(),
            actor_id: "boss".into(),
            at: 1_795_420_800,
            action: "manual_entry.approve".into(),
            subject_id: "e1".into(),
            before: before.map(String::from),
            after: None,
            reason: reason.into(),
        }
    }

    #[test]
    fn a_link_depends_on_every_field_its_number_and_the_previous_hash() {
        let base = link(&row("ok", None), 1, GENESIS);
        assert_eq!(base.len(), 64);
        assert_eq!(base, link(&row("ok", None), 1, GENESIS), "deterministic");
        assert_ne!(base, link(&row("ok!", None), 1, GENESIS));
        assert_ne!(
            base,
            link(&row("ok", Some("")), 1, GENESIS),
            "null is not empty"
        );
        assert_ne!(base, link(&row("ok", None), 2, GENESIS));
        assert_ne!(base, link(&row("ok", None), 1, &base));
        let mut later = row("ok", None);
        later.at += 1;
        assert_ne!(base, link(&later, 1, GENESIS));
        // Lengths keep the fields apart: moving a character between two changes the hash.
        let mut a = row("ok", None);
        a.subject_id = "e1x".into();
        a.reason = "".into();
        let mut b = row("ok", None);
        b.subject_id = "e1".into();
        b.reason = "x".into();
        assert_ne!(link(&a, 1, GENESIS), link(&b, 1, GENESIS));
    }
}
