//! The C side: the VFS object, its `xOpen`, and the methods of a WAL file.
//!
//! Layout of a file object SQLite allocates for this VFS (`szOsFile` bytes):
//!
//! ```text
//! | WalFile (pMethods, inner, gather) | the wrapped VFS's own file object |
//! ```
//!
//! A WAL file uses both parts: `WalFile.base.pMethods` points at [`WAL_METHODS`], and
//! the wrapped VFS opens its file in the second part. Any other file is opened by the
//! wrapped VFS at the start of the allocation, so SQLite calls the wrapped methods
//! directly, with nothing of ours in between (the allocation is larger than that VFS
//! asked for, which is all a VFS can assume).
//!
//! SQLite calls a file's methods from one thread at a time (one connection owns it),
//! so `WalFile` needs no lock.

use crate::gather::{Gather, Sink};
use crate::{RegisterError, C_NAME};
use libsqlite3_sys as ffi;
use std::ffi::{c_int, c_void};
use std::mem::{align_of, size_of};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

/// Our part of a WAL file's object. `base` must come first: SQLite sees a
/// `*mut sqlite3_file`.
#[repr(C)]
struct WalFile {
    base: ffi::sqlite3_file,
    /// The wrapped VFS's file, in the same allocation, right after this header.
    inner: *mut ffi::sqlite3_file,
    /// Owned; freed in `x_close`.
    gather: *mut Gather,
}

/// Bytes before the wrapped file object: `WalFile`, rounded up to 8 (SQLite allocates
/// file objects 8-byte aligned).
const HEADER: usize = size_of::<WalFile>().next_multiple_of(8);

const _: () = assert!(align_of::<WalFile>() <= 8);

/// The wrapped VFS, and our copy of it with our `xOpen` (leaked: a registered VFS
/// lives as long as the process).
struct Registered {
    inner: *mut ffi::sqlite3_vfs,
}

// The wrapped VFS is a static object of SQLite's (its default VFS), valid and
// thread-safe for the whole process; SQLite's own VFS methods may be called from any
// thread.
unsafe impl Send for Registered {}
unsafe impl Sync for Registered {}

static INNER: std::sync::OnceLock<Registered> = std::sync::OnceLock::new();

fn inner_vfs() -> *mut ffi::sqlite3_vfs {
    INNER
        .get()
        .map_or(ptr::null_mut(), |registered| registered.inner)
}

pub(crate) fn register() -> Result<(), RegisterError> {
    // SAFETY: sqlite3_initialize and sqlite3_vfs_find may be called at any time;
    // `find(NULL)` returns the default VFS, a static object of SQLite's, or NULL.
    let inner = unsafe {
        let rc = ffi::sqlite3_initialize();
        if rc != ffi::SQLITE_OK {
            return Err(RegisterError::Register(rc));
        }
        ffi::sqlite3_vfs_find(ptr::null())
    };
    if inner.is_null() {
        return Err(RegisterError::NoDefaultVfs);
    }
    let _ = INNER.set(Registered { inner });
    // SAFETY: `inner` is a valid VFS object (above). Our copy keeps its methods and
    // `pAppData`, so its other methods behave as the wrapped VFS's own; SQLite's
    // `unix` methods ignore the VFS pointer they are given except to read
    // `pAppData` and `mxPathname`, which the copy has too.
    let ours = unsafe {
        let mut ours: ffi::sqlite3_vfs = ptr::read(inner);
        let size = usize::try_from(ours.szOsFile).unwrap_or(0) + HEADER;
        ours.szOsFile = c_int::try_from(size).map_err(|_| RegisterError::Register(0))?;
        ours.zName = C_NAME.as_ptr();
        ours.pNext = ptr::null_mut();
        ours.xOpen = Some(x_open);
        Box::leak(Box::new(ours))
    };
    // SAFETY: `ours` is a complete VFS object that lives for the rest of the process.
    let rc = unsafe { ffi::sqlite3_vfs_register(ours, 0) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(RegisterError::Register(rc))
    }
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const std::ffi::c_char,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let inner_vfs = inner_vfs();
    // SAFETY (whole function): SQLite gives `file`, an allocation of our `szOsFile`
    // bytes, 8-byte aligned, and the other arguments as for the wrapped VFS's xOpen.
    unsafe {
        let Some(inner_open) = inner_vfs.as_ref().and_then(|vfs| vfs.xOpen) else {
            (*file).pMethods = ptr::null();
            return ffi::SQLITE_CANTOPEN;
        };
        if flags & ffi::SQLITE_OPEN_WAL == 0 {
            return inner_open(inner_vfs, name, file, flags, out_flags);
        }
        let inner = file.cast::<u8>().add(HEADER).cast::<ffi::sqlite3_file>();
        let rc = inner_open(inner_vfs, name, inner, flags, out_flags);
        if rc != ffi::SQLITE_OK || (*inner).pMethods.is_null() {
            // SQLite calls xClose only on a file whose pMethods is set.
            (*file).pMethods = ptr::null();
            if !(*inner).pMethods.is_null() {
                if let Some(close) = (*(*inner).pMethods).xClose {
                    close(inner);
                }
            }
            return if rc == ffi::SQLITE_OK {
                ffi::SQLITE_CANTOPEN
            } else {
                rc
            };
        }
        file.cast::<WalFile>().write(WalFile {
            base: ffi::sqlite3_file {
                pMethods: &WAL_METHODS,
            },
            inner,
            gather: Box::into_raw(Box::default()),
        });
        ffi::SQLITE_OK
    }
}

/// The methods of a WAL file: those that read or change the file send what is held
/// first; the others go straight to the wrapped file.
static WAL_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};

/// Counters behind [`crate::stats`].
pub(crate) static REQUESTED: AtomicU64 = AtomicU64::new(0);
pub(crate) static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// The wrapped file's `xWrite`, as where held bytes go.
struct InnerWrite(*mut ffi::sqlite3_file);

/// The most bytes handed to the wrapped `xWrite` at once. SQLite's `unix` VFS takes
/// at most 128 KiB − 1 per call (`seekAndWriteFd` masks the length with `0x1ffff`:
/// no write of its own is larger) and reports anything longer as a full disk. 31
/// pages: a commit of up to 30 frames still goes in one call.
const MAX_WRITE: usize = 31 * 4096;

const _: () = assert!(MAX_WRITE <= 0x1ffff);

impl Sink for InnerWrite {
    fn write_at(&mut self, bytes: &[u8], offset: i64) -> Result<(), i32> {
        let mut offset = offset;
        for chunk in bytes.chunks(MAX_WRITE) {
            let amount = c_int::try_from(chunk.len()).map_err(|_| ffi::SQLITE_IOERR_WRITE)?;
            // SAFETY: `self.0` is the open wrapped file (see `parts`); `chunk` is valid
            // for `amount` bytes for the duration of the call.
            let rc = unsafe {
                match methods(self.0).xWrite {
                    Some(write) => write(self.0, chunk.as_ptr().cast::<c_void>(), amount, offset),
                    None => ffi::SQLITE_IOERR_WRITE,
                }
            };
            WRITTEN.fetch_add(1, Ordering::Relaxed);
            if rc != ffi::SQLITE_OK {
                return Err(rc);
            }
            offset += i64::from(amount);
        }
        Ok(())
    }
}

/// The wrapped file and the gathering state of a WAL file object.
///
/// # Safety
/// `file` must be a WAL file object opened by [`x_open`] and not yet closed.
unsafe fn parts<'a>(file: *mut ffi::sqlite3_file) -> (*mut ffi::sqlite3_file, &'a mut Gather) {
    // SAFETY: per the contract, `file` is a live `WalFile` whose `gather` is a live Box.
    unsafe {
        let wal = file.cast::<WalFile>();
        ((*wal).inner, &mut *(*wal).gather)
    }
}

/// The wrapped file's methods.
///
/// # Safety
/// `inner` must be an open file object.
unsafe fn methods<'a>(inner: *mut ffi::sqlite3_file) -> &'a ffi::sqlite3_io_methods {
    // SAFETY: an open file object has valid `pMethods`.
    unsafe { &*(*inner).pMethods }
}

/// Sends what `file` holds; `Err` with SQLite's code if that write failed.
///
/// # Safety
/// As [`parts`].
unsafe fn flush(file: *mut ffi::sqlite3_file) -> Result<*mut ffi::sqlite3_file, c_int> {
    // SAFETY: as `parts`.
    let (inner, gather) = unsafe { parts(file) };
    gather.flush(&mut InnerWrite(inner))?;
    Ok(inner)
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: SQLite closes a file it opened with x_open, once; afterwards nothing of
    // it is used again, so the Box is freed here.
    unsafe {
        let flushed = flush(file);
        let wal = file.cast::<WalFile>();
        let inner = (*wal).inner;
        let rc = match methods(inner).xClose {
            Some(close) => close(inner),
            None => ffi::SQLITE_OK,
        };
        drop(Box::from_raw((*wal).gather));
        (*wal).gather = ptr::null_mut();
        (*file).pMethods = ptr::null();
        match flushed {
            Err(code) => code,
            Ok(_) => rc,
        }
    }
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    buffer: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let Ok(length) = usize::try_from(amount) else {
        return ffi::SQLITE_IOERR_WRITE;
    };
    REQUESTED.fetch_add(1, Ordering::Relaxed);
    // SAFETY: SQLite calls this on a file opened by x_open, with `amount` readable
    // bytes at `buffer`.
    unsafe {
        let (inner, gather) = parts(file);
        let bytes = std::slice::from_raw_parts(buffer.cast::<u8>(), length);
        match gather.write(&mut InnerWrite(inner), bytes, offset) {
            Ok(()) => ffi::SQLITE_OK,
            Err(code) => code,
        }
    }
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    // SAFETY: SQLite calls this on a file opened by x_open.
    unsafe {
        match flush(file) {
            Ok(inner) => {
                let (_, gather) = parts(file);
                gather.truncated(size);
                match methods(inner).xTruncate {
                    Some(truncate) => truncate(inner, size),
                    None => ffi::SQLITE_IOERR_TRUNCATE,
                }
            }
            Err(code) => code,
        }
    }
}

/// Methods that read the file, or change or describe it: what is held is written
/// first, then the wrapped file's method runs; `$missing` if it lacks the method.
macro_rules! after_flush {
    ($name:ident, $method:ident, $missing:expr, ($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> $ret {
            // SAFETY: SQLite calls this on a file opened by x_open; the arguments are
            // the wrapped method's.
            unsafe {
                match flush(file) {
                    Ok(inner) => match methods(inner).$method {
                        Some(method) => method(inner, $($arg),*),
                        None => $missing,
                    },
                    Err(code) => code,
                }
            }
        }
    };
}

after_flush!(x_read, xRead, ffi::SQLITE_IOERR_READ, (buffer: *mut c_void, amount: c_int, offset: ffi::sqlite3_int64) -> c_int);
after_flush!(x_sync, xSync, ffi::SQLITE_IOERR_FSYNC, (flags: c_int) -> c_int);
after_flush!(x_file_size, xFileSize, ffi::SQLITE_IOERR_FSTAT, (size: *mut ffi::sqlite3_int64) -> c_int);
after_flush!(x_file_control, xFileControl, ffi::SQLITE_NOTFOUND, (op: c_int, argument: *mut c_void) -> c_int);

/// Methods that neither read nor change the file's bytes: straight to the wrapped
/// file, with `$missing` if it lacks the method.
macro_rules! pass_through {
    ($name:ident, $method:ident, $missing:expr, ($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> $ret {
            // SAFETY: SQLite calls this on a file opened by x_open; the arguments are
            // the wrapped method's.
            unsafe {
                let (inner, _) = parts(file);
                match methods(inner).$method {
                    Some(method) => method(inner, $($arg),*),
                    None => $missing,
                }
            }
        }
    };
}

pass_through!(x_lock, xLock, ffi::SQLITE_IOERR_LOCK, (level: c_int) -> c_int);
pass_through!(x_unlock, xUnlock, ffi::SQLITE_IOERR_UNLOCK, (level: c_int) -> c_int);
pass_through!(x_check_reserved_lock, xCheckReservedLock, ffi::SQLITE_IOERR_CHECKRESERVEDLOCK, (out: *mut c_int) -> c_int);
pass_through!(x_sector_size, xSectorSize, 4096, () -> c_int);
pass_through!(x_device_characteristics, xDeviceCharacteristics, 0, () -> c_int);
pass_through!(x_shm_map, xShmMap, ffi::SQLITE_IOERR_SHMMAP, (region: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int);
pass_through!(x_shm_lock, xShmLock, ffi::SQLITE_IOERR_SHMLOCK, (offset: c_int, count: c_int, flags: c_int) -> c_int);
pass_through!(x_shm_unmap, xShmUnmap, ffi::SQLITE_OK, (delete: c_int) -> c_int);
pass_through!(x_unfetch, xUnfetch, ffi::SQLITE_OK, (offset: ffi::sqlite3_int64, page: *mut c_void) -> c_int);

unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite calls this on a file opened by x_open.
    unsafe {
        let (inner, _) = parts(file);
        if let Some(barrier) = methods(inner).xShmBarrier {
            barrier(inner);
        }
    }
}

/// Memory-mapped reads of a WAL file: SQLite maps only database files, so this only
/// ever forwards; with no such method, "not mapped".
unsafe extern "C" fn x_fetch(
    file: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: SQLite calls this on a file opened by x_open, with `out` writable.
    unsafe {
        match flush(file) {
            Ok(inner) => match methods(inner).xFetch {
                Some(fetch) => fetch(inner, offset, amount, out),
                None => {
                    *out = ptr::null_mut();
                    ffi::SQLITE_OK
                }
            },
            Err(code) => code,
        }
    }
}
