//! Chat exports uploaded on the chat selection page, kept on disk between its steps.
//!
//! The page takes several requests (upload, choose a channel and a window, tick messages,
//! import) and a browser cannot send a chosen file again without the person choosing it again,
//! so the file is kept on the server, not in memory: a 64 MB export held per person across
//! requests would let a handful of tabs exhaust the process. Each upload is a file in the
//! upload directory (`<data dir>/uploads`), named by a random 128-bit id, with a small JSON
//! file beside it saying who uploaded it, for which incident and when. Only that person can use
//! it, on that incident. It is deleted after its import, and anything older than [`KEPT_FOR`]
//! is deleted whenever a new upload arrives and refused when asked for; the directory as a
//! whole holds at most [`MAX_TOTAL_BYTES`]. The directory belongs to one node: behind a load
//! balancer without sticky sessions, a step served by another node finds no upload and asks
//! for the file again (nothing is lost but the choosing).

use postmortem_core::{IncidentId, UserId};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long an upload is kept when it is not imported.
pub(crate) const KEPT_FOR: Duration = Duration::from_secs(60 * 60);

/// The most the upload directory holds at once, all uploads together.
pub(crate) const MAX_TOTAL_BYTES: u64 = 1_000_000_000;

/// An upload's name: 32 lowercase hexadecimal digits, so it can never name another path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadId(String);

impl UploadId {
    fn random() -> Self {
        Self(format!("{:032x}", rand::random::<u128>()))
    }

    /// The id from a URL; `None` for anything that is not one.
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(raw.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// What is known of an upload besides its bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct UploadInfo {
    pub incident: i64,
    pub owner: i64,
    /// The file's name on the uploader's computer, for the page to show.
    pub file_name: String,
    pub bytes: u64,
}

/// Why an upload could not be kept or found.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    #[error(
        "this upload is no longer here: uploads are kept for an hour and until they are imported; choose the file again"
    )]
    Gone,
    #[error("the server holds too many uploads right now; try again in an hour")]
    Full,
    #[error("the upload could not be kept: {0}")]
    Io(#[from] std::io::Error),
}

/// The upload directory.
#[derive(Debug)]
pub(crate) struct Uploads {
    dir: PathBuf,
}

/// A file being written as its parts arrive; removed unless [`Uploads::finish`] keeps it.
pub(crate) struct Pending {
    id: UploadId,
    file: std::fs::File,
    path: PathBuf,
    written: u64,
    kept: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Pending {
    /// Appends a part of the file. The parts are at most a few dozen kilobytes and go to the
    /// page cache, so writing them on the request's task does not hold it up noticeably.
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), UploadError> {
        self.file.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    pub(crate) fn written(&self) -> u64 {
        self.written
    }
}

impl Uploads {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn data_path(&self, id: &UploadId) -> PathBuf {
        self.dir.join(format!("{}.upload", id.as_str()))
    }

    fn info_path(&self, id: &UploadId) -> PathBuf {
        self.dir.join(format!("{}.json", id.as_str()))
    }

    /// Starts a new upload, after deleting expired ones; refused when the directory is full.
    pub(crate) fn start(&self) -> Result<Pending, UploadError> {
        create_private_dir(&self.dir)?;
        if self.sweep()? > MAX_TOTAL_BYTES {
            return Err(UploadError::Full);
        }
        let id = UploadId::random();
        let path = self.data_path(&id);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        Ok(Pending {
            id,
            file,
            path,
            written: 0,
            kept: false,
        })
    }

    /// Keeps a written upload under its id.
    pub(crate) fn finish(
        &self,
        mut pending: Pending,
        incident: IncidentId,
        owner: UserId,
        file_name: &str,
    ) -> Result<UploadId, UploadError> {
        pending.file.flush()?;
        let info = UploadInfo {
            incident: incident.get(),
            owner: owner.get(),
            file_name: file_name.chars().take(200).collect(),
            bytes: pending.written,
        };
        std::fs::write(
            self.info_path(&pending.id),
            serde_json::to_vec(&info).map_err(std::io::Error::other)?,
        )?;
        pending.kept = true;
        Ok(pending.id.clone())
    }

    /// What is known of an upload, when it exists, is young enough and belongs to `owner` on
    /// `incident` (anyone else is told it is gone, so ids cannot be probed).
    pub(crate) fn info(
        &self,
        id: &UploadId,
        incident: IncidentId,
        owner: UserId,
    ) -> Result<UploadInfo, UploadError> {
        let path = self.info_path(id);
        let expired = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_or(true, |at| is_expired(at, SystemTime::now()));
        if expired {
            return Err(UploadError::Gone);
        }
        let info: UploadInfo = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(UploadError::Gone)?;
        if info.incident != incident.get() || info.owner != owner.get() {
            return Err(UploadError::Gone);
        }
        Ok(info)
    }

    /// The upload's bytes, read on a blocking thread (up to the chat export limit).
    pub(crate) async fn read(
        &self,
        id: &UploadId,
        incident: IncidentId,
        owner: UserId,
    ) -> Result<(UploadInfo, Vec<u8>), UploadError> {
        let info = self.info(id, incident, owner)?;
        let path = self.data_path(id);
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(std::io::Error::other)?
            .map_err(|_| UploadError::Gone)?;
        Ok((info, bytes))
    }

    /// Deletes an upload (after its import).
    pub(crate) fn remove(&self, id: &UploadId) {
        let _ = std::fs::remove_file(self.info_path(id));
        let _ = std::fs::remove_file(self.data_path(id));
    }

    /// Deletes uploads older than [`KEPT_FOR`], and files left half-written as long ago;
    /// answers how many bytes the others hold.
    fn sweep(&self) -> std::io::Result<u64> {
        let now = SystemTime::now();
        let mut kept = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let Ok(entry) = entry else { continue };
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            if meta.modified().is_ok_and(|at| is_expired(at, now)) {
                let _ = std::fs::remove_file(entry.path());
            } else {
                kept += meta.len();
            }
        }
        Ok(kept)
    }
}

fn is_expired(at: SystemTime, now: SystemTime) -> bool {
    now.duration_since(at).is_ok_and(|age| age > KEPT_FOR)
}

/// The directory, readable only by this server's user where the system knows permissions.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_is_read_back_only_by_its_owner_on_its_incident_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = Uploads::new(dir.path().join("uploads"));
        let mut pending = uploads.start().unwrap();
        pending.write(b"time,author,text\n").unwrap();
        let id = uploads
            .finish(pending, IncidentId::new(7), UserId::new(3), "chat.csv")
            .unwrap();
        let info = uploads
            .info(&id, IncidentId::new(7), UserId::new(3))
            .unwrap();
        assert_eq!((info.file_name.as_str(), info.bytes), ("chat.csv", 17));
        assert!(
            uploads
                .info(&id, IncidentId::new(7), UserId::new(4))
                .is_err()
        );
        assert!(
            uploads
                .info(&id, IncidentId::new(8), UserId::new(3))
                .is_err()
        );
        uploads.remove(&id);
        assert!(matches!(
            uploads.info(&id, IncidentId::new(7), UserId::new(3)),
            Err(UploadError::Gone)
        ));
    }

    #[test]
    fn an_upload_never_finished_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let uploads = Uploads::new(dir.path().to_owned());
        let mut pending = uploads.start().unwrap();
        pending.write(b"half").unwrap();
        drop(pending);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn only_ids_of_32_hex_digits_name_an_upload() {
        assert!(UploadId::parse("0123456789abcdef0123456789abcdef").is_some());
        assert!(UploadId::parse("../../etc/passwd").is_none());
        assert!(UploadId::parse("0123456789ABCDEF0123456789ABCDEF").is_none());
        assert!(UploadId::parse("").is_none());
    }

    #[test]
    fn an_hour_old_upload_is_expired() {
        let now = SystemTime::now();
        assert!(!is_expired(now - Duration::from_secs(59 * 60), now));
        assert!(is_expired(now - Duration::from_secs(61 * 60), now));
    }
}
