#ifndef RETENTIOND_CSYSTEMD_SHIM_H
#define RETENTIOND_CSYSTEMD_SHIM_H

// sd_journal_send() is variadic and cannot be called from Swift; the Systemd target uses
// sd_journal_sendv() with an array of iovecs instead.
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#endif
