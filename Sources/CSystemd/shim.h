#ifndef PORTERO_CSYSTEMD_SHIM_H
#define PORTERO_CSYSTEMD_SHIM_H

// Prefixed, fixed-argument wrappers over libsystemd. Swift cannot call C variadics such as
// sd_journal_send, so everything Swift sees goes through these.

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
// Without this, sd-journal.h turns sd_journal_sendv into a macro that adds CODE_FILE/CODE_LINE/CODE_FUNC of
// this header to every entry, next to the Swift caller's own.
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

/// Sends `state` (newline-separated KEY=VALUE pairs) to the socket $NOTIFY_SOCKET names (a path, or an abstract
/// name after '@'), read at each call. Does not unset the environment.
/// Returns > 0 when sent, 0 when NOTIFY_SOCKET is unset, a negative errno on failure (-EINVAL for an address that
/// is neither a path nor an abstract name, -ENOENT/-ECONNREFUSED when nothing listens there, ...).
static inline int portero_sd_notify(const char *state) {
    return sd_notify(0, state);
}

/// Whether the service manager expects WATCHDOG=1 keep-alives from this process: WATCHDOG_USEC is set and
/// WATCHDOG_PID is unset or names this process (sd_watchdog_enabled(3)). Does not unset the environment.
/// Returns > 0 with the interval in microseconds in *usec when enabled, 0 when not (*usec untouched), a negative
/// errno on failure (-EINVAL for a malformed or zero WATCHDOG_USEC or a malformed WATCHDOG_PID).
static inline int portero_sd_watchdog_enabled(uint64_t *usec) {
    return sd_watchdog_enabled(0, usec);
}

/// Number of sockets passed by socket activation (fds start at SD_LISTEN_FDS_START = 3), and their names
/// (sd_listen_fds_with_names(3)). Unsets LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES (whatever the outcome), so that
/// child processes do not believe the sockets are theirs. Marks the fds FD_CLOEXEC.
/// Returns the number of fds (>= 0) on success, a negative errno on failure. On success with n > 0, *names is a
/// NULL-terminated array of n malloc'ed strings ("unknown" where no name was given) that the caller frees.
static inline int portero_sd_listen_fds_with_names_unset(char ***names) {
    return sd_listen_fds_with_names(1, names);
}

/// First fd passed by socket activation.
static inline int portero_sd_listen_fds_start(void) {
    return SD_LISTEN_FDS_START;
}

/// Sends one structured entry to journald; each iovec is one "FIELD=value" item.
/// Returns 0 on success, a negative errno on failure (-ENOENT without a journal socket).
/// sd_journal_sendv itself returns 0 and drops the entry when the socket is missing ("fail silently"), so the
/// socket is looked for first: the caller can then write the entry somewhere else.
static inline int portero_sd_journal_sendv(const struct iovec *iov, int n) {
    struct stat socket_status;
    if (stat("/run/systemd/journal/socket", &socket_status) != 0) {
        return -errno;
    }
    if (!S_ISSOCK(socket_status.st_mode)) {
        return -ENOTSOCK;
    }
    return sd_journal_sendv(iov, n);
}

#endif
