//! Deliverables and their revisions: a revision is numbered at commit and accepted only when
//! every blob it lists is uploaded.

use std::collections::BTreeSet;

use handoff_core::activity::ActivityEvent;
use handoff_core::protocol::{ApiErrorCode, Outcome, Record};
use handoff_core::*;

use super::records::{Meta, exists, load};
use super::{Ctx, rejected};
use crate::error::{Result, ServerError};
use crate::storage::queries;

/// `deliverable.create`.
pub(super) async fn create_deliverable(cx: &mut Ctx<'_, '_>, deliverable_id: &DeliverableId) -> Result<Outcome> {
    let id = deliverable_id.to_string();
    if exists(cx.tx, cx.db, "deliverable", &id).await? {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("deliverable {id} already exists")));
    }
    let d =
        Deliverable { id: *deliverable_id, spec_id: cx.spec_id, created_by: cx.email.to_owned(), created_at: cx.env.created_at };
    cx.tx.put(cx.db, "deliverable", &id, &cx.spec, &Record::Deliverable(d), &Meta::new()).await?;
    Ok(Outcome::Applied)
}

/// `revision.create`: `Err(BlobsMissing)` refuses the whole push until the blobs are uploaded.
pub(super) async fn create_revision(
    cx: &mut Ctx<'_, '_>,
    revision_id: &RevisionId,
    deliverable_id: &DeliverableId,
    files: &[ManifestEntry],
    summary: &str,
    addresses: &[ThreadId],
) -> Result<Outcome> {
    if load(cx.tx, cx.db, "deliverable", &deliverable_id.to_string(), &cx.scope, |_| Some(())).await?.is_none() {
        return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no deliverable {deliverable_id}")));
    }
    let id = revision_id.to_string();
    if exists(cx.tx, cx.db, "revision", &id).await? {
        return Ok(rejected(ApiErrorCode::AlreadyExists, format!("revision {id} already exists")));
    }
    for t in addresses {
        if load(cx.tx, cx.db, "thread", &t.to_string(), &cx.scope, |_| Some(())).await?.is_none() {
            return Ok(rejected(ApiErrorCode::NotFound, format!("this spec has no thread {t} for the revision to address")));
        }
    }
    let hashes: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let present = queries::blobs_present(cx.db, &hashes).await?;
    let missing: Vec<String> = hashes.iter().filter(|h| !present.contains_key(*h)).cloned().collect();
    if !missing.is_empty() {
        return Err(ServerError::BlobsMissing(missing));
    }
    if let Some(f) = files.iter().find(|f| present.get(&f.sha256).is_some_and(|s| *s as u64 != f.size)) {
        return Ok(rejected(
            ApiErrorCode::Invalid,
            format!("file {:?} is {} bytes in the manifest, but its blob has a different size", f.path, f.size),
        ));
    }
    // A revision may list only content its pusher uploaded or can already read; anything else
    // would hand them another workspace's file by its hash.
    let readable = crate::pull::readable_blobs(cx.db, &cx.tx.user, &hashes).await?;
    if let Some(f) = files.iter().find(|f| !readable.contains(&f.sha256)) {
        return Ok(rejected(
            ApiErrorCode::Forbidden,
            format!("file {:?} lists content you have not uploaded and cannot read; upload the file itself", f.path),
        ));
    }
    let number = queries::assign_revision_number(cx.db, &deliverable_id.to_string(), &id).await?;
    for h in &hashes {
        queries::add_revision_blob(cx.db, h, &cx.scope).await?;
    }
    let r = Revision {
        id: *revision_id,
        deliverable_id: *deliverable_id,
        spec_id: cx.spec_id,
        number: u32::try_from(number).map_err(|_| ServerError::Internal("revision number overflow".into()))?,
        number_confirmed: true,
        files: files.to_vec(),
        summary: summary.to_owned(),
        addresses: addresses.to_vec(),
        created_by: cx.email.to_owned(),
        created_at: cx.env.created_at,
        received_at: Some(cx.now),
    };
    let number = r.number;
    cx.tx.put(cx.db, "revision", &id, &cx.spec, &Record::Revision(r), &Meta::new()).await?;
    let delivered = ActivityEvent::RevisionDelivered { deliverable_id: *deliverable_id, revision_id: *revision_id, number };
    super::activity::note(cx, delivered).await?;
    // Each addressed thread records the claim, in server order with its resolves and reopens.
    for t in addresses {
        if let Some((mut tr, meta)) = super::thread::load_thread(cx, t).await? {
            super::thread::push_history(cx, &mut tr, ThreadHistoryKind::Claim, Some(*revision_id));
            cx.tx.put(cx.db, "thread", &t.to_string(), &cx.spec, &Record::Thread(tr), &meta).await?;
        }
    }
    Ok(Outcome::Applied)
}
