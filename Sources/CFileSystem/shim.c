#define _GNU_SOURCE
#include "CFileSystem.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int rd_statx(int directory, const char *name, rd_file_identity *out) {
    struct statx info;
    int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | (name[0] == '\0' ? AT_EMPTY_PATH : 0);
    if (statx(directory, name, flags, STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID, &info) != 0) return -1;
    memset(out, 0, sizeof *out);
    out->device = makedev(info.stx_dev_major, info.stx_dev_minor);
    out->inode = info.stx_ino;
    out->mode = info.stx_mode;
    if (info.stx_mask & STATX_BTIME) {
        out->has_birth = 1;
        out->birth_seconds = info.stx_btime.tv_sec;
        out->birth_nanoseconds = info.stx_btime.tv_nsec;
    }
    if (info.stx_mask & STATX_MNT_ID) {
        out->has_mount_id = 1;
        out->mount_id = info.stx_mnt_id;
    }
    return 0;
}

int rd_openat_beneath(int directory, const char *path, int flags) {
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, directory, path, &how, sizeof how);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int rd_rename_exchange(int old_directory, const char *old_name, int new_directory, const char *new_name) {
    return renameat2(old_directory, old_name, new_directory, new_name, RENAME_EXCHANGE);
}

int rd_record_locked(int descriptor) {
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 0;
    if (fcntl(descriptor, F_OFD_GETLK, &lock) != 0) return -1;
    return lock.l_type == F_UNLCK ? 0 : 1;
}
