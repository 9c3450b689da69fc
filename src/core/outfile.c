/*
 * outfile.c — safe output files (the rules are in outfile.h).
 *
 * The target is resolved by hand rather than with realpath(3) because the
 * file itself (or a symlink's target) need not exist yet: only its directory
 * must. The temp file lives in the target's directory so that the final
 * rename(2) stays on one file system and is atomic.
 */
#include "core/outfile.h"

#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINK_HOPS 40

/*
 * Temp files being written, so that an interrupted command (SIGINT, SIGTERM,
 * SIGHUP) removes them instead of leaving half an output beside the target.
 * A fixed table of fixed-size paths: the handler may only call unlink(2), and
 * must not touch malloc'ed memory that is being freed. SIGKILL cannot be
 * caught; a file left by it is named <target>.tmpXXXXXX and never read.
 */
#define LIVE_MAX  8
#define LIVE_PATH 4096
static char live_path[LIVE_MAX][LIVE_PATH];
static volatile sig_atomic_t live_used[LIVE_MAX];

void outfile_track(const char *tmp)
{
    size_t n = strlen(tmp);
    if (n >= LIVE_PATH)
        return;
    for (int i = 0; i < LIVE_MAX; i++)
        if (!live_used[i]) {
            memcpy(live_path[i], tmp, n + 1);
            live_used[i] = 1;
            return;
        }
}

void outfile_untrack(const char *tmp)
{
    for (int i = 0; i < LIVE_MAX; i++)
        if (live_used[i] && strcmp(live_path[i], tmp) == 0) {
            live_used[i] = 0;
            return;
        }
}

static void on_signal(int sig)
{
    for (int i = 0; i < LIVE_MAX; i++)
        if (live_used[i])
            unlink(live_path[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void outfile_cleanup_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGXFSZ};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = xmalloc(n);
    snprintf(s, n, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return s;
}

/* path with every symlink of its last component followed and its directory
 * made absolute, in *out (malloc'ed). The file itself need not exist. */
static int normalise(const char *path, char **out, struct ls_error *err)
{
    char *p = xstrdup(path), *res = NULL;
    int rc = LS_OK;
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode))
            break;
        if (hops == MAX_LINK_HOPS) {
            rc = ls_error_set(err, LS_EUSAGE, "'%s': too many levels of symbolic links", path);
            goto out;
        }
        char link[PATH_MAX];
        ssize_t k = readlink(p, link, sizeof link - 1);
        if (k < 0) {
            rc = ls_error_set(err, LS_EIO, "'%s': %s", path, strerror(errno));
            goto out;
        }
        link[k] = '\0';
        char *next;
        if (link[0] == '/') {
            next = xstrdup(link);
        } else {
            char *d = xstrdup(p);
            next = join(dirname(d), link);
            free(d);
        }
        free(p);
        p = next;
    }
    char *d = xstrdup(p), *b = xstrdup(p);
    const char *base = basename(b);
    char dir[PATH_MAX];
    size_t plen = strlen(p);
    if (plen == 0 || p[plen - 1] == '/' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
        strcmp(base, "/") == 0) {
        rc = ls_error_set(err, LS_EUSAGE, "'%s' is a directory, not a file", path);
    } else if (!realpath(dirname(d), dir)) {
        rc = ls_error_set(err, LS_EIO, "cannot write '%s': its directory: %s", path,
                          strerror(errno));
    } else {
        res = join(dir, base);
    }
    free(d);
    free(b);
out:
    free(p);
    if (rc == LS_OK)
        *out = res;
    return rc;
}

int outfile_target(const char *path, char **target, struct ls_error *err)
{
    char *t = NULL;
    int rc = normalise(path, &t, err);
    if (rc)
        return rc;
    struct stat st;
    if (stat(t, &st) == 0 && !S_ISREG(st.st_mode)) {
        const char *what = S_ISDIR(st.st_mode)                          ? "a directory"
                           : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                           : S_ISSOCK(st.st_mode)                       ? "a socket"
                           : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                        : "not a regular file";
        rc = ls_error_set(err, LS_EUSAGE,
                          "refusing to write '%s': it is %s (outputs replace only regular files)",
                          path, what);
        free(t);
        return rc;
    }
    *target = t;
    return LS_OK;
}

int outfile_check(const char *path, const char *const *others, size_t n, struct ls_error *err)
{
    char *t = NULL;
    int rc = outfile_target(path, &t, err);
    if (rc)
        return rc;
    struct stat st;
    int exists = stat(t, &st) == 0;
    for (size_t i = 0; i < n && rc == LS_OK; i++) {
        if (!others[i])
            continue;
        struct stat so;
        int same =
            exists && stat(others[i], &so) == 0 && so.st_dev == st.st_dev && so.st_ino == st.st_ino;
        char *o = NULL;
        struct ls_error ignored;
        if (!same && normalise(others[i], &o, &ignored) == LS_OK)
            same = strcmp(o, t) == 0;
        free(o);
        if (same)
            rc = ls_error_set(err, LS_EUSAGE,
                              "refusing to write '%s': it is the same file as '%s', an input or "
                              "another output of this command",
                              path, others[i]);
    }
    free(t);
    return rc;
}

int outfile_open(struct outfile *of, const char *path, struct ls_error *err)
{
    memset(of, 0, sizeof *of);
    char *t = NULL;
    int rc = outfile_target(path, &t, err);
    if (rc)
        return rc;
    size_t n = strlen(t) + 16;
    char *tmp = xmalloc(n);
    snprintf(tmp, n, "%s.tmpXXXXXX", t);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rc = ls_error_set(err, LS_EIO, "cannot write beside '%s': %s", path, strerror(errno));
        goto fail;
    }
    /* the permissions a new file gets; a replaced file keeps its own */
    struct stat st;
    mode_t mode = stat(t, &st) == 0 ? (st.st_mode & 07777) : 0644;
    FILE *f = fchmod(fd, mode) == 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        rc = ls_error_set(err, LS_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto fail;
    }
    of->f = f;
    of->target = t;
    of->tmp = tmp;
    outfile_track(tmp);
    return LS_OK;
fail:
    free(tmp);
    free(t);
    return rc;
}

static void release(struct outfile *of)
{
    if (of->tmp)
        outfile_untrack(of->tmp);
    free(of->target);
    free(of->tmp);
    memset(of, 0, sizeof *of);
}

int outfile_commit(struct outfile *of, struct ls_error *err)
{
    int rc = LS_OK;
    if (!of->f)
        return ls_error_set(err, LS_EIO, "no output file is open");
    if (fflush(of->f) != 0 || ferror(of->f))
        rc = ls_error_set(err, LS_EIO, "writing '%s': %s", of->target,
                          errno ? strerror(errno) : "write error");
    if (rc == LS_OK && fsync(fileno(of->f)) != 0)
        rc = ls_error_set(err, LS_EIO, "fsync '%s': %s", of->tmp, strerror(errno));
    if (fclose(of->f) != 0 && rc == LS_OK)
        rc = ls_error_set(err, LS_EIO, "closing '%s': %s", of->tmp, strerror(errno));
    of->f = NULL;
    if (rc == LS_OK && rename(of->tmp, of->target) != 0)
        rc = ls_error_set(err, LS_EIO, "renaming to '%s': %s", of->target, strerror(errno));
    if (rc != LS_OK) {
        unlink(of->tmp);
        release(of);
        return rc;
    }
    /* make the rename itself durable */
    char *dir = xstrdup(of->target);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    release(of);
    return LS_OK;
}

void outfile_abort(struct outfile *of)
{
    if (of->f) {
        fclose(of->f);
        unlink(of->tmp);
    }
    release(of);
}
