/*
 * upload.c — a multipart/form-data upload streamed to a file while it is
 * hashed, never held whole in memory.
 *
 * libmicrohttpd's post processor splits the body into parts and hands us
 * the "file" part in pieces (64 KB buffer); each piece is written to a
 * fresh file under the store's tmp/ (store_tmp_path: named by the store,
 * never by the client) and fed to SHA-256, so when the body ends the file
 * and its fingerprint are ready together and the bytes were read once.
 * Other fields are ignored; a second "file" part is refused, so one request
 * is one file.
 *
 * The server checked the size before a byte was read (Content-Length
 * required, 411; over the limit, 413), so what arrives here is bounded.
 * The client's file name is kept for display only: cut to its base name
 * (after the last / or \), control characters and invalid UTF-8 replaced,
 * at most 255 bytes; "", "." and ".." become "upload.csv".
 *
 * The temp file is removed on every failure and when the client goes away
 * mid-upload (http__upload_free from the request-completed callback);
 * once the handler has it (handed), the service moves or removes it.
 */
#include "core/sha256.h"
#include "http/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define UPLOAD_PP_BUFFER (64u << 10)

struct http__upload {
    struct MHD_PostProcessor *pp;
    int fd;
    struct sha256 *hash;
    int got_file;  /* a "file" part began */
    int failed;    /* c->early_* says why; the rest of the body is discarded */
    int completed; /* the file is whole, closed and hashed */
};

static void fail(struct http__conn *c, int status, int code, const char *msg)
{
    if (c->up->failed)
        return; /* the first reason stands */
    c->up->failed = 1;
    c->early_status = status;
    c->early_code = code;
    snprintf(c->early_msg, sizeof c->early_msg, "%s", msg);
}

/* The client's file name as shown: base name, printable, UTF-8, ≤ 255 bytes. */
static void clean_filename(const char *name, char *out, size_t cap)
{
    const char *base = name ? name : "";
    for (const char *p = base; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t k = 0, n = strlen(base);
    size_t limit = cap - 1 < STORE_FILENAME_MAX ? cap - 1 : STORE_FILENAME_MAX;
    for (size_t i = 0; i < n && k < limit;) {
        unsigned char ch = (unsigned char)base[i];
        size_t len = ch < 0x80 ? 1 : ch >= 0xF0 ? 4 : ch >= 0xE0 ? 3 : ch >= 0xC0 ? 2 : 0;
        if (ch < 0x20 || ch == 0x7F || len == 0 || i + len > n ||
            (len > 1 && !http__utf8_valid((const unsigned char *)base + i, len))) {
            out[k++] = '_';
            i++;
            continue;
        }
        if (k + len > limit)
            break;
        memcpy(out + k, base + i, len);
        k += len, i += len;
    }
    out[k] = '\0';
    if (k == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        snprintf(out, cap, "%s", "upload.csv");
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    struct http__conn *c = cls;
    struct http__upload *u = c->up;
    (void)kind, (void)content_type, (void)transfer_encoding;
    if (u->failed)
        return MHD_NO;
    if (!key || strcmp(key, "file") != 0)
        return MHD_YES; /* other fields are not ours to read */
    if (off == 0 && u->got_file && c->upload.bytes > 0) {
        fail(c, 400, LS_EINPUT, "more than one field 'file': upload one file per request");
        return MHD_NO;
    }
    if (!u->got_file) {
        struct ls_error err;
        ls_error_clear(&err);
        u->got_file = 1;
        clean_filename(filename, c->upload.filename, sizeof c->upload.filename);
        if (store_tmp_path(service_store(c->rq.svc), "upload", "csv", c->upload.tmp_path,
                           sizeof c->upload.tmp_path, &err) != 0) {
            c->upload.tmp_path[0] = '\0';
            fail(c, 500, LS_EIO, err.msg);
            return MHD_NO;
        }
        u->fd = open(c->upload.tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (u->fd < 0) {
            c->upload.tmp_path[0] = '\0'; /* not ours: never remove what we did not create */
            fail(c, 500, LS_EIO, "cannot create the upload's temporary file");
            return MHD_NO;
        }
        u->hash = sha256_new();
    }
    if (size == 0)
        return MHD_YES;
    if (c->upload.bytes + size > c->rq.cfg->upload_max) {
        fail(c, 413, LS_ELIMIT, "upload over the size limit");
        return MHD_NO;
    }
    if (write_all(u->fd, data, size) != 0) {
        fail(c, 500, LS_EIO, "writing the upload failed (disk full?)");
        return MHD_NO;
    }
    sha256_update(u->hash, data, size);
    c->upload.bytes += size;
    return MHD_YES;
}

int http__upload_begin(struct http__conn *c)
{
    struct http__upload *u = calloc(1, sizeof *u);
    if (!u)
        abort();
    u->fd = -1;
    c->up = u;
    const char *ct =
        MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0) {
        fail(c, 415, LS_EMEDIA, "an upload must be multipart/form-data with a field 'file'");
        return LS_EMEDIA;
    }
    u->pp = MHD_create_post_processor(c->conn, UPLOAD_PP_BUFFER, on_part, c);
    if (!u->pp) {
        fail(c, 400, LS_EINPUT, "multipart/form-data without a usable boundary");
        return LS_EINPUT;
    }
    return 0;
}

void http__upload_feed(struct http__conn *c, const char *data, size_t n)
{
    struct http__upload *u = c->up;
    if (!u || u->failed || !u->pp || n == 0)
        return;
    if (MHD_post_process(u->pp, data, n) != MHD_YES)
        fail(c, 400, LS_EINPUT, "malformed multipart/form-data body");
}

static void remove_tmp(struct http__conn *c)
{
    struct http__upload *u = c->up;
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
    if (c->upload.tmp_path[0]) {
        unlink(c->upload.tmp_path);
        c->upload.tmp_path[0] = '\0';
    }
}

int http__upload_end(struct http__conn *c)
{
    struct http__upload *u = c->up;
    if (u->pp) {
        if (MHD_destroy_post_processor(u->pp) != MHD_YES)
            fail(c, 400, LS_EINPUT, "incomplete multipart/form-data body");
        u->pp = NULL;
    }
    if (!u->failed && !u->got_file)
        fail(c, 400, LS_EINPUT, "no file: send it in the multipart field 'file'");
    if (!u->failed) {
        int closed = close(u->fd);
        u->fd = -1; /* released even when close reports an error */
        if (closed != 0)
            fail(c, 500, LS_EIO, "writing the upload failed");
    }
    if (u->failed) {
        remove_tmp(c);
        return c->early_code ? c->early_code : LS_EINPUT;
    }
    sha256_final_hex(u->hash, c->upload.fingerprint);
    u->hash = NULL;
    u->completed = 1;
    return 0;
}

void http__upload_free(struct http__conn *c)
{
    struct http__upload *u = c->up;
    if (!u)
        return;
    if (u->pp)
        MHD_destroy_post_processor(u->pp);
    remove_tmp(c); /* tmp_path is "" once the handler took the file */
    sha256_free(u->hash);
    free(u);
    c->up = NULL;
}
