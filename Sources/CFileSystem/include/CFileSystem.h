#ifndef RETENTIOND_CFILESYSTEM_H
#define RETENTIOND_CFILESYSTEM_H

#include <stdint.h>

/// What statx(2) says of one file, for the calls Swift's Glibc module does not export (they need
/// _GNU_SOURCE).
typedef struct {
    uint64_t device;          // st_dev as stat(2) gives it (makedev of the major and minor)
    uint64_t inode;
    uint32_t mode;
    int32_t has_birth;
    int64_t birth_seconds;
    uint32_t birth_nanoseconds;
    int32_t has_mount_id;
    uint64_t mount_id;
} rd_file_identity;

/// statx(2) of `name` in `directory` without following a link (`name` "" with AT_EMPTY_PATH: the
/// descriptor itself). 0, or -1 and errno.
int rd_statx(int directory, const char *name, rd_file_identity *out);

/// openat2(2) with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV|RESOLVE_NO_MAGICLINKS.
/// -1 and errno ENOSYS where the kernel has no openat2.
int rd_openat_beneath(int directory, const char *path, int flags);

/// renameat2(2) with RENAME_EXCHANGE: swaps two names atomically.
int rd_rename_exchange(int old_directory, const char *old_name, int new_directory, const char *new_name);

/// 1 when another open file description or process holds a POSIX or OFD record lock on any byte
/// of the file open on `descriptor` (F_OFD_GETLK for a write lock of the whole file), 0 when none
/// does, -1 and errno when the kernel cannot tell.
int rd_record_locked(int descriptor);

#endif
