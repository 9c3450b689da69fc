/*
 * outfile.h — writing an output file so that nothing is ever destroyed.
 *
 * Every file LeadScore writes (a model, a scored CSV, JSON lines, a report)
 * goes through here. Three rules:
 *
 *  - An output is never one of the command's inputs or another of its
 *    outputs (same device and inode, or the same path once symlinks and
 *    "." / ".." are resolved): `train leads.csv -o leads.csv` would turn the
 *    training file into a model.
 *  - Only a regular file (or nothing) is replaced. A device node, FIFO,
 *    socket or directory is refused: renaming over /dev/null as root would
 *    replace the system's /dev/null. A symlink is followed: its target is
 *    what gets written, and the link stays.
 *  - The bytes go to a temporary file beside the target, which is flushed,
 *    fsynced and renamed over it, and the directory is fsynced: a run that
 *    is killed, or two runs writing the same path at once, leave either the
 *    old file or one complete new one, never a mixture or a truncation.
 */
#ifndef LS_CORE_OUTFILE_H
#define LS_CORE_OUTFILE_H

#include "core/err.h"

#include <stdio.h>

/* An interrupted command removes the temp files it is writing: install
 * handlers for SIGINT, SIGTERM, SIGHUP and SIGXFSZ (a file size limit hit
 * mid-write) that unlink every tracked temp file
 * and then die of the signal as before (the CLI calls this once; a server
 * that handles its own signals does not). outfile_open tracks its temp file
 * until commit or abort; outfile_track / outfile_untrack do the same for
 * other temp files (the model file's). At most 8 at a time are tracked. */
void outfile_cleanup_on_signals(void);
void outfile_track(const char *tmp);
void outfile_untrack(const char *tmp);

struct outfile {
    FILE *f;      /* write here between outfile_open and commit/abort */
    char *target; /* the resolved path the temp file is renamed to */
    char *tmp;    /* the temp file beside it */
};

/*
 * The path an output at path really writes (symlinks followed, the directory
 * made absolute), in *target (malloc'ed; the caller frees it). Errors:
 * LS_EUSAGE when path names something that is not a regular file (or a
 * directory that does not exist), LS_EIO when it cannot be resolved.
 */
int outfile_target(const char *path, char **target, struct ls_error *err);

/*
 * Check, before anything is read, that path may be written: outfile_target
 * succeeds and path is none of others[0..n) (inputs and the other outputs of
 * the same command; NULL entries are skipped). Errors: LS_EUSAGE with a
 * message naming both paths.
 */
int outfile_check(const char *path, const char *const *others, size_t n, struct ls_error *err);

/* Open a temp file beside path's target for writing (of->f). On error
 * nothing is left behind and *of is empty. */
int outfile_open(struct outfile *of, const char *path, struct ls_error *err);

/*
 * Flush, fsync and close the temp file, rename it over the target and fsync
 * the directory. On error (a write failed earlier, the disk is full, ...) the
 * temp file is removed and the target is untouched. Either way *of is
 * released.
 */
int outfile_commit(struct outfile *of, struct ls_error *err);

/* Close and remove the temp file, leaving the target as it was; a no-op on
 * an empty or released *of. */
void outfile_abort(struct outfile *of);

#endif
