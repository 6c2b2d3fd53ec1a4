//! Where the socket lives: `.corral/control.sock`, unless that path is too long for a Unix
//! socket address (108 bytes on Linux, the NUL included), in which case it lives in the
//! user's runtime directory under a name derived from the project's path. The lock file
//! records which (see `lock`), and clients go where it says.

use std::path::{Path, PathBuf};

/// The longest socket path `bind` takes: `sun_path` is 108 bytes with its NUL.
const MAX_PATH: usize = 107;
/// Room for the temporary name the socket is bound under first (`.<pid>`, pids to 4194304).
const TEMPORARY: usize = 8;

/// Where the owner of `project` listens.
pub fn socket_path(project: &Path) -> PathBuf {
    let inside = crate::runtime::store::state_dir(project).join("control.sock");
    if inside.as_os_str().len() + TEMPORARY <= MAX_PATH {
        return inside;
    }
    runtime_dir().join(format!("corral-{:016x}.sock", fnv1a(project.as_os_str())))
}

/// Where a client reaches the owner of `project`: where its lock file says, else where an
/// owner would listen.
pub fn reach(project: &Path) -> PathBuf {
    crate::runtime::daemon::LockInfo::read(project)
        .and_then(|info| info.socket)
        .unwrap_or_else(|| socket_path(project))
}

/// `$XDG_RUNTIME_DIR`, or `/tmp/corral-<uid>` where there is none.
fn runtime_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() && dir.is_dir() => dir,
        _ => std::env::temp_dir().join(format!("corral-{}", nix::unistd::geteuid())),
    }
}

/// Makes sure the directory a socket outside the project goes in is this user's alone: made
/// 0700 when missing, refused when someone else owns it or others may enter it.
pub(super) fn ensure_private_parent(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    if dir.ends_with(".corral") {
        return Ok(()); // made 0700 with the state directory
    }
    if !dir.exists() {
        std::fs::DirBuilder::new().mode(0o700).create(dir)?;
    }
    let meta = std::fs::symlink_metadata(dir)?;
    let ours = meta.uid() == nix::unistd::geteuid().as_raw();
    // The system's runtime directory is ours and 0700; a /tmp one must be too.
    if !meta.is_dir() || !ours || meta.mode() & 0o077 != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{}: the socket's directory must be a directory of this user's alone (mode 0700)",
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// FNV-1a: a hash that stays the same across corral builds (std's may not), so a client and a
/// daemon of different versions name the same socket.
fn fnv1a(text: &std::ffi::OsStr) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    text.as_bytes().iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_project_path_keeps_the_socket_inside_and_a_long_one_moves_it_out() {
        let short = Path::new("/home/me/shop");
        assert_eq!(
            socket_path(short),
            Path::new("/home/me/shop/.corral/control.sock")
        );
        let long = PathBuf::from(format!("/home/me/{}", "deep/".repeat(20)));
        let moved = socket_path(&long);
        assert!(!moved.starts_with(&long), "{}", moved.display());
        assert!(moved.as_os_str().len() + TEMPORARY <= MAX_PATH);
        assert_eq!(moved, socket_path(&long), "the same place every time");
        assert_ne!(moved, socket_path(&long.join("other")));
    }

    #[test]
    fn the_name_hash_is_fixed() {
        assert_eq!(fnv1a(std::ffi::OsStr::new("")), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(std::ffi::OsStr::new("a")), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_directory_others_may_enter_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(ensure_private_parent(&open.join("x.sock")).is_err());
        let made = dir.path().join("made");
        ensure_private_parent(&made.join("x.sock")).unwrap();
        let mode = std::fs::metadata(&made).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
