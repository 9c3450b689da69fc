/*
 * static.c — the web app's files (web/dist, or --web-dir), and nothing
 * else on the disk.
 *
 * A request path is a decoded string from the network, so three walls
 * stand between it and the rest of the file system:
 *
 *  1. the path itself: a ".." or "." segment, a backslash, a control byte
 *     (NUL included: the server refuses %00 while decoding) or an over-long
 *     path is refused (400) before anything is looked up. %2e%2e arrives
 *     here already decoded, so it is a ".." segment like any other;
 *  2. the resolved file: realpath() of web_dir + path (symbolic links
 *     followed) must lie inside web_dir's own realpath, or it is refused
 *     (404, as if absent: a link pointing out says nothing about outside);
 *  3. the open: O_NOFOLLOW on the resolved path and an fstat check that it
 *     is a regular file, so a swap between the check and the open meets a
 *     refusal, not a file outside.
 *
 * A path that names no file gets index.html when the folder has one (the
 * web app routes on the client: /history/3 is a page of the app, not a
 * file); otherwise 404.
 */
#include "http/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"webmanifest", "application/manifest+json"},
};

static const char *content_type(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

/* Wall 1: may this decoded path be looked up at all? */
static int path_ok(const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || path[0] != '/' || n > HTTP_PATH_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)path[i];
        if (ch < 0x20 || ch == 0x7F || ch == '\\' || ch == ':')
            return 0;
    }
    for (const char *s = path; *s;) {
        while (*s == '/')
            s++;
        size_t len = strcspn(s, "/");
        if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
            return 0;
        s += len;
    }
    return 1;
}

/* Walls 2 and 3: open rel (relative to web_dir) when it resolves inside it
 * to a regular file. -1 otherwise. */
static int open_inside(const char *web_dir, const char *rel, char *resolved, size_t cap,
                       struct stat *st)
{
    char joined[PATH_MAX + HTTP_PATH_MAX + 2], real[PATH_MAX];
    int n = snprintf(joined, sizeof joined, "%s/%s", web_dir, rel);
    if (n < 0 || (size_t)n >= sizeof joined)
        return -1;
    if (!realpath(joined, real))
        return -1;
    size_t wl = strlen(web_dir);
    if (strncmp(real, web_dir, wl) != 0 || real[wl] != '/')
        return -1;
    int fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    snprintf(resolved, cap, "%s", real);
    return fd;
}

int http__static_has_index(const char *web_dir)
{
    char real[PATH_MAX];
    struct stat st;
    if (!web_dir || !web_dir[0])
        return 0;
    int fd = open_inside(web_dir, "index.html", real, sizeof real, &st);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

struct MHD_Response *http__static(const char *web_dir, const char *path, int *status)
{
    char real[PATH_MAX];
    struct stat st;
    int fd = -1;
    *status = 404;
    if (!path_ok(path)) {
        *status = 400;
        return NULL;
    }
    if (!web_dir || !web_dir[0])
        return NULL;
    const char *rel = path + strspn(path, "/");
    if (*rel && path[strlen(path) - 1] != '/')
        fd = open_inside(web_dir, rel, real, sizeof real, &st);
    if (fd < 0) /* a folder, or no such file: the app's page */
        fd = open_inside(web_dir, "index.html", real, sizeof real, &st);
    if (fd < 0)
        return NULL;
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        *status = 500;
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(real));
    /* Vite names built assets by their content hash: they never change. */
    if (strncmp(path, "/assets/", 8) == 0)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                "public, max-age=31536000, immutable");
    else
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    *status = 200;
    return r;
}
