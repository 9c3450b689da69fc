/*
 * test_model.c — the model file and scoring with it.
 *
 * A model is trained once per run on generated leads (data/demo.h) and then:
 * saved and loaded back, which must change nothing a user can see (schema,
 * metrics, predictions bit for bit); damaged in every way a disk or a user
 * can damage a file (a flipped byte, a truncation, an empty or foreign file,
 * another format version), which must be refused with a message that says
 * which — and, with the checksum forged, must still never crash the loader
 * or the scorer; and used to score files that lack a column, bring an unseen
 * category or carry columns it does not know. The last test is the CLI's
 * train -> save -> load -> score path through the library. (Scoring the
 * training file itself, whose rows get their out-of-bag score, is in
 * test_forest.c.)
 */
#include "testutil.h"

#include "app/score.h"
#include "app/train.h"
#include "core/crc32.h"
#include "core/rng.h"
#include "data/demo.h"
#include "ml/drift.h"
#include "ml/model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>

#define TRAIN_ROWS  1200
#define TRAIN_TREES 15

/* The group's shared model and the text it was trained on. */
struct fixture {
    char *text; /* demo CSV, TRAIN_ROWS leads */
    struct frame *f;
    struct train_opts o;
    struct model m;
    uint8_t *bytes; /* m saved */
    size_t len;
};

/* ---- helpers --------------------------------------------------------------- */

/* The demo text (whose fields hold no quotes, commas or newlines) without
 * the column named drop (NULL: none), and with a column appended when
 * add_name is not NULL (value add_value on every row). */
static char *edit_columns(const char *text, const char *drop, const char *add_name,
                          const char *add_value)
{
    long di = -1; /* the dropped column's index, from the header */
    if (drop) {
        const char *at = strstr(text, drop);
        assert_non_null(at);
        di = 0;
        for (const char *p = text; p < at; p++)
            di += *p == ',';
    }
    size_t cap = strlen(text) * 2 + 64, n = 0;
    char *out = malloc(cap);
    long field = 0;
    int header = 1;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            if (add_name)
                n += (size_t)snprintf(out + n, cap - n, ",%s", header ? add_name : add_value);
            out[n++] = '\n';
            field = 0;
            header = 0;
            continue;
        }
        field += *p == ',';
        if (field != di && !(di == 0 && field == 1 && *p == ','))
            out[n++] = *p;
    }
    out[n] = '\0';
    return out;
}

/* Every row has a finite score in [0, 100] equal to 100 x calibrated raw. */
static void check_scores(const struct model *m, const struct score_result *res)
{
    for (uint64_t r = 0; r < res->n; r++) {
        if (!(res->score[r] >= 0 && res->score[r] <= 100))
            fail_msg("row %llu: score %g", (unsigned long long)r, res->score[r]);
        ASSERT_SAME_BITS(res->score[r], 100.0 * calib_apply(&m->calib, res->raw[r]));
    }
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->text = tu_demo_text(TRAIN_ROWS, 21);
    fx->f = tu_frame_mem(fx->text);
    train_opts_default(&fx->o);
    fx->o.forest.trees = TRAIN_TREES;
    fx->o.forest.threads = 2;
    fx->o.forest.seed = 5;
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = app_train(fx->f, &fx->o, &fx->m, &sum, &err);
    if (rc) {
        fprintf(stderr, "app_train failed (%d): %s\n", rc, err.msg);
        return -1;
    }
    train_summary_cleanup(&sum);
    const char *path = tu_write_temp("fixture.lsm", "", 0);
    if (model_save(&fx->m, path, &err) != LS_OK) {
        fprintf(stderr, "model_save failed: %s\n", err.msg);
        return -1;
    }
    fx->bytes = tu_slurp(path, &fx->len);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    model_cleanup(&fx->m);
    frame_free(fx->f);
    free(fx->text);
    free(fx->bytes);
    free(fx);
    return 0;
}

/* ---- 5. save -> load changes nothing ------------------------------------- */

static void assert_same_str(const char *a, const char *b)
{
    if (!a || !b)
        assert_true(a == b);
    else
        assert_string_equal(a, b);
}

static void assert_same_model(const struct model *a, const struct model *b)
{
    assert_int_equal(a->trees, b->trees);
    assert_int_equal(a->mtry, b->mtry);
    assert_int_equal(a->min_leaf, b->min_leaf);
    assert_int_equal(a->max_depth, b->max_depth);
    assert_int_equal(a->balanced, b->balanced);
    assert_int_equal(a->seed, b->seed);
    assert_same_str(a->target, b->target);
    assert_same_str(a->positive, b->positive);
    assert_same_str(a->negative, b->negative);
    assert_same_str(a->id_column, b->id_column);
    assert_int_equal(a->schema.nfeat, b->schema.nfeat);
    for (size_t j = 0; j < a->schema.nfeat; j++) {
        const struct feature *x = &a->schema.feat[j], *y = &b->schema.feat[j];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->date_fmt, y->date_fmt);
        assert_int_equal(x->nbins, y->nbins);
        assert_int_equal(x->has_other, y->has_other);
        if (x->kind == FEAT_CATEGORICAL)
            for (unsigned k = 0; k < x->nbins; k++)
                assert_string_equal(x->cats[k], y->cats[k]);
        else
            assert_memory_equal(x->thresholds, y->thresholds, (x->nbins - 1u) * sizeof(double));
        assert_same_str(x->true_label, y->true_label);
        assert_same_str(x->false_label, y->false_label);
        assert_memory_equal(x->train_share, y->train_share, (x->nbins + 1u) * sizeof(double));
    }
    assert_int_equal(a->forest.ntrees, b->forest.ntrees);
    assert_int_equal(a->forest.nfeat, b->forest.nfeat);
    for (uint32_t i = 0; i < a->forest.ntrees; i++) {
        const struct tree *x = &a->forest.trees[i], *y = &b->forest.trees[i];
        assert_int_equal(x->nnodes, y->nnodes);
        assert_memory_equal(x->nodes, y->nodes, x->nnodes * sizeof *x->nodes);
        assert_int_equal(x->ncatsets, y->ncatsets);
        if (x->ncatsets)
            assert_memory_equal(x->catsets, y->catsets, x->ncatsets * sizeof *x->catsets);
    }
    assert_int_equal(a->calib.n, b->calib.n);
    assert_memory_equal(a->calib.x, b->calib.x, a->calib.n * sizeof(double));
    assert_memory_equal(a->calib.y, b->calib.y, a->calib.n * sizeof(double));
    ASSERT_SAME_BITS(a->tier_high, b->tier_high);
    ASSERT_SAME_BITS(a->tier_medium, b->tier_medium);
    assert_int_equal(a->train_rows, b->train_rows);
    assert_int_equal(a->train_pos, b->train_pos);
    assert_memory_equal(&a->oob, &b->oob, sizeof a->oob);
    assert_int_equal(a->has_holdout, b->has_holdout);
    assert_memory_equal(&a->holdout, &b->holdout, sizeof a->holdout);
    assert_int_equal(a->noob, b->noob);
    assert_memory_equal(a->oob_key, b->oob_key, a->noob * sizeof *a->oob_key);
    assert_memory_equal(a->oob_raw, b->oob_raw, a->noob * sizeof *a->oob_raw);
    /* version 2: how the file was read, the labels, the in-bag sets, the kind */
    assert_int_equal(b->format_version, MODEL_VERSION);
    assert_null(b->load_note);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->decimal_comma, b->decimal_comma);
    assert_non_null(b->missing_tokens);
    size_t k = 0;
    for (; a->missing_tokens[k]; k++)
        assert_string_equal(a->missing_tokens[k], b->missing_tokens[k]);
    assert_null(b->missing_tokens[k]);
    assert_int_equal(a->npos_labels, b->npos_labels);
    assert_int_equal(a->nneg_labels, b->nneg_labels);
    for (uint32_t i = 0; i < a->npos_labels; i++)
        assert_string_equal(a->pos_labels[i], b->pos_labels[i]);
    for (uint32_t i = 0; i < a->nneg_labels; i++)
        assert_string_equal(a->neg_labels[i], b->neg_labels[i]);
    assert_int_equal(a->inbag_bytes, b->inbag_bytes);
    assert_int_equal(b->inbag_bytes, (b->forest.ntrees + 7) / 8);
    assert_memory_equal(a->inbag, b->inbag, a->noob * a->inbag_bytes);
}

static void test_save_load_identical(void **state)
{
    struct fixture *fx = *state;
    struct model l;
    struct ls_error err;
    ls_error_clear(&err);
    const char *path = tu_write_temp("roundtrip.lsm", fx->bytes, fx->len);
    assert_int_equal(model_load(path, &l, &err), LS_OK);
    assert_same_model(&fx->m, &l);

    /* the same bins and the same probabilities, to the bit, on new leads */
    char *text = tu_demo_text(3000, 77);
    struct frame *f = tu_frame_mem(text);
    uint64_t n = f->nrows;
    size_t nf = fx->m.schema.nfeat;
    uint8_t *xa = malloc(nf * n), *xb = malloc(nf * n);
    double *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    struct bin_report ra, rb;
    bins_apply(&fx->m.schema, f, xa, &ra);
    bins_apply(&l.schema, f, xb, &rb);
    assert_memory_equal(xa, xb, nf * n);
    bins_report_cleanup(&ra);
    bins_report_cleanup(&rb);
    forest_predict(&fx->m.forest, xa, n, pa, 1);
    forest_predict(&l.forest, xa, n, pb, 3);
    assert_memory_equal(pa, pb, n * sizeof *pa);
    for (uint64_t r = 0; r < n; r += 7)
        ASSERT_SAME_BITS(forest_predict_row(&l.forest, xa, n, r), pa[r]);

    /* saving what was loaded writes the same bytes */
    const char *path2 = tu_write_temp("roundtrip2.lsm", "", 0);
    assert_int_equal(model_save(&l, path2, &err), LS_OK);
    size_t len2;
    uint8_t *b2 = tu_slurp(path2, &len2);
    assert_int_equal(len2, fx->len);
    assert_memory_equal(b2, fx->bytes, len2);
    /* and the atomic write (temp file, rename) leaves no temporary file behind */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path2);
    *strrchr(dir, '/') = '\0';
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp"))
            fail_msg("model_save left '%s' in %s", e->d_name, dir);
    closedir(d);

    /* model_load_mem reads the same */
    struct model l2;
    assert_int_equal(model_load_mem(fx->bytes, fx->len, &l2, &err), LS_OK);
    assert_same_model(&fx->m, &l2);
    model_cleanup(&l2);

    free(b2);
    free(xa);
    free(xb);
    free(pa);
    free(pb);
    frame_free(f);
    free(text);
    model_cleanup(&l);
}

/* ---- 6. damaged files are refused, clearly -------------------------------- */

/* Load bytes from a file; expect refusal with a message holding one of the
 * '|'-separated phrases; the model must be left empty. */
static void expect_refused(const void *data, size_t len, const char *phrases, const char *what)
{
    const char *path = tu_write_temp("damaged.lsm", data, len);
    struct model m;
    struct ls_error err;
    ls_error_clear(&err);
    int rc = model_load(path, &m, &err);
    if (rc == LS_OK) {
        model_cleanup(&m);
        fail_msg("%s: the model was loaded", what);
    }
    assert_null(m.forest.trees);
    assert_null(m.schema.feat);
    int found = 0;
    char list[256];
    snprintf(list, sizeof list, "%s", phrases);
    for (char *p = list; p && *p && !found;) {
        char *bar = strchr(p, '|');
        if (bar)
            *bar = '\0';
        found = strstr(err.msg, p) != NULL;
        p = bar ? bar + 1 : NULL;
    }
    if (!found)
        fail_msg("%s: refused (%d) with \"%s\", which says none of \"%s\"", what, rc, err.msg,
                 phrases);
    /* the same from memory */
    struct model m2;
    ls_error_clear(&err);
    assert_int_not_equal(model_load_mem(len ? data : "", len, &m2, &err), LS_OK);
    assert_null(m2.forest.trees);
    model_cleanup(&m);
    model_cleanup(&m2);
}

static void test_flipped_bytes_refused(void **state)
{
    struct fixture *fx = *state;
    size_t len = fx->len;
    uint8_t *b = malloc(len);
    /* the header's fields each have their own message; the payload's is the CRC */
    const size_t pos[] = {0, 7, 8, 11, 12, 15, 16, 23, 24, 25, len / 3, len / 2, len - 2, len - 1};
    char what[64];
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        const char *phrase = pos[i] < 8    ? "not a LeadScore model"
                             : pos[i] < 12 ? "version"
                             : pos[i] < 16 ? "corrupted"
                             : pos[i] < 24 ? "truncated"
                                           : "corrupted";
        static const uint8_t masks[] = {0x01, 0x80, 0xff};
        for (size_t k = 0; k < sizeof masks; k++) {
            memcpy(b, fx->bytes, len);
            b[pos[i]] ^= masks[k];
            snprintf(what, sizeof what, "byte %zu of %zu ^ 0x%02x", pos[i], len, masks[k]);
            expect_refused(b, len, phrase, what);
        }
    }
    /* every byte of the payload, one at a time: the CRC catches each */
    for (size_t p = 24; p < len; p += 1 + p % 13) {
        memcpy(b, fx->bytes, len);
        b[p] ^= 0x20;
        struct model m;
        struct ls_error err;
        ls_error_clear(&err);
        if (model_load_mem(b, len, &m, &err) == LS_OK)
            fail_msg("byte %zu flipped was accepted", p);
        assert_non_null(strstr(err.msg, "corrupted"));
        model_cleanup(&m);
    }
    free(b);
}

static void test_truncated_refused(void **state)
{
    struct fixture *fx = *state;
    size_t len = fx->len;
    const size_t keep[] = {len - 1, len - 8, len - 1000, len / 2, 100, 25, 24};
    char what[64];
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        snprintf(what, sizeof what, "first %zu of %zu bytes", keep[i], len);
        expect_refused(fx->bytes, keep[i], "truncated", what);
    }
    /* shorter than the header: too short to be a model at all */
    const size_t tiny[] = {23, 16, 8, 4, 1};
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        snprintf(what, sizeof what, "first %zu bytes", tiny[i]);
        expect_refused(fx->bytes, tiny[i], "truncated|not a LeadScore model", what);
    }
    expect_refused("", 0, "not a LeadScore model|empty|truncated", "an empty file");
    /* a byte too many is refused as well */
    uint8_t *b = malloc(len + 1);
    memcpy(b, fx->bytes, len);
    b[len] = 0;
    expect_refused(b, len + 1, "padded|truncated", "one byte appended");
    free(b);
}

static void test_foreign_files_refused(void **state)
{
    struct fixture *fx = *state;
    uint8_t junk[4096];
    struct rng r;
    rng_seed(&r, 3);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)rng_next(&r);
    expect_refused(junk, sizeof junk, "not a LeadScore model", "random bytes");
    const char *csv = "Lead ID,Converted\nL-1,1\nL-2,0\n";
    expect_refused(csv, strlen(csv), "not a LeadScore model", "a CSV file");

    /* the right magic, version 99: says which version and to retrain */
    uint8_t *b = malloc(fx->len);
    memcpy(b, fx->bytes, fx->len);
    uint32_t v = 99;
    memcpy(b + 8, &v, 4);
    expect_refused(b, fx->len, "version 99", "version 99");
    free(b);

    /* no such file, and a directory */
    struct model m;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(model_load("/nonexistent/dir/model.lsm", &m, &err), LS_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/model.lsm"));
    const char *p = tu_write_temp("x", "", 0);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", p);
    char *slash = strrchr(dir, '/');
    assert_non_null(slash);
    *slash = '\0';
    assert_int_not_equal(model_load(dir, &m, &err), LS_OK);
    model_cleanup(&m);
}

/* A small model over every kind of feature, saved to bytes (*len). */
static uint8_t *small_model_bytes(size_t *len, struct frame **scoring)
{
    static char csv[8192];
    size_t n = 0;
    n += (size_t)snprintf(csv + n, sizeof csv - n, "Visits,Source,Opted In,Signup,Converted\n");
    static const char *const src[] = {"Webinar", "Google", "Partner", "Facebook"};
    struct rng r;
    rng_seed(&r, 8);
    for (int i = 0; i < 80; i++) {
        int visits = (int)rng_below(&r, 10), s = (int)rng_below(&r, 4);
        int conv = (s == 0 || s == 2) ? visits > 2 : visits > 7;
        n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,%s,%s,2024-0%d-1%d,%d\n",
                              i % 9 == 0 ? -1 : visits, i % 11 == 0 ? "" : src[s],
                              rng_below(&r, 2) ? "Yes" : "No", 1 + i % 5, i % 7, conv);
        assert_true(n < sizeof csv);
    }
    struct frame *f = tu_frame_mem(csv);
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = 3;
    o.forest.threads = 1;
    o.forest.min_leaf = 2;
    o.forest.mtry = 4;
    struct model m;
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(app_train(f, &o, &m, &sum, &err), LS_OK);
    train_summary_cleanup(&sum);
    assert_int_equal(m.schema.nfeat, 4);
    uint32_t ncat = 0;
    for (uint32_t i = 0; i < m.forest.ntrees; i++)
        ncat += m.forest.trees[i].ncatsets;
    assert_true(ncat > 0); /* category sets are in the file too */
    const char *path = tu_write_temp("small.lsm", "", 0);
    assert_int_equal(model_save(&m, path, &err), LS_OK);
    model_cleanup(&m);
    *scoring = f;
    return tu_slurp(path, len);
}

/* A forged file (checksum recomputed after the damage) must be refused or
 * loaded, never crash, and a loaded one must score without crashing. Every
 * byte of a small model's payload, three ways. */
static void test_forged_payload_never_crashes(void **state)
{
    (void)state;
    size_t len;
    struct frame *f;
    uint8_t *good = small_model_bytes(&len, &f);
    uint8_t *b = malloc(len);
    uint64_t loaded = 0, refused = 0;
    for (size_t pos = 24; pos < len; pos++) {
        static const uint8_t masks[] = {0xff, 0x01, 0x80};
        for (size_t k = 0; k < sizeof masks; k++) {
            memcpy(b, good, len);
            b[pos] ^= masks[k];
            uint32_t crc = crc32_update(0, b + 24, len - 24);
            memcpy(b + 12, &crc, 4);
            struct model m;
            struct ls_error err;
            ls_error_clear(&err);
            if (model_load_mem(b, len, &m, &err) != LS_OK) {
                if (!strstr(err.msg, "not valid"))
                    fail_msg("byte %zu ^ 0x%02x: refused with \"%s\"", pos, masks[k], err.msg);
                assert_null(m.forest.trees);
                refused++;
                model_cleanup(&m);
                continue;
            }
            loaded++;
            struct score_opts so;
            score_opts_default(&so);
            so.threads = 1;
            struct score_result res;
            if (app_score(&m, f, &so, &res, &err) == LS_OK)
                for (uint64_t r = 0; r < res.n; r++)
                    assert_true(res.rank[r] >= 1 && res.rank[r] <= res.n);
            score_result_cleanup(&res);
            model_cleanup(&m);
        }
    }
    fprintf(stderr, "  forged %zu-byte model: %llu loaded, %llu refused\n", len,
            (unsigned long long)loaded, (unsigned long long)refused);
    assert_true(loaded > 0 && refused > 0);
    frame_free(f);
    free(good);
    free(b);
}

/* ---- 6b. format version 2: its sections, damaged; version 1 still loads --- */

/* The offset of the version 2 sections in a saved model (model.h: they end
 * the payload), from the model's own sizes. */
static size_t v2_offset(const struct model *m, size_t len)
{
    size_t tail = 4 + 1 + 4 + 4 + 4 + 4 + (size_t)m->noob * m->inbag_bytes;
    for (size_t i = 0; m->missing_tokens[i]; i++)
        tail += 4 + strlen(m->missing_tokens[i]);
    for (uint32_t i = 0; i < m->npos_labels; i++)
        tail += 4 + strlen(m->pos_labels[i]);
    for (uint32_t i = 0; i < m->nneg_labels; i++)
        tail += 4 + strlen(m->neg_labels[i]);
    tail += 4; /* the training columns */
    for (uint32_t i = 0; i < m->ntrain_columns; i++)
        tail += 4 + strlen(m->train_columns[i]);
    assert_true(tail < len);
    return len - tail;
}

/* bytes with the u32 at off set to v and the checksum forged: refused with phrase */
static void forge_u32(const uint8_t *good, size_t len, size_t off, uint32_t v, const char *phrase,
                      const char *what)
{
    uint8_t *b = malloc(len);
    memcpy(b, good, len);
    memcpy(b + off, &v, 4);
    uint32_t crc = crc32_update(0, b + 24, len - 24);
    memcpy(b + 12, &crc, 4);
    expect_refused(b, len, phrase, what);
    free(b);
}

/* The kind of ensemble is the first field of version 2: a random forest
 * today; a kind this build does not know is refused, not misread. */
static void test_ensemble_kind(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(fx->m.kind, MODEL_RANDOM_FOREST);
    size_t off = v2_offset(&fx->m, fx->len);
    uint32_t kind;
    memcpy(&kind, fx->bytes + off, 4);
    assert_int_equal(kind, MODEL_RANDOM_FOREST);
    forge_u32(fx->bytes, fx->len, off, 2, "kind of ensemble", "kind 2");
    forge_u32(fx->bytes, fx->len, off, 0, "kind of ensemble", "kind 0");
}

/* Each version 2 section, damaged with a forged checksum, is refused by its
 * own check; cut anywhere inside them, the file is refused as truncated. */
static void test_v2_sections_damaged(void **state)
{
    struct fixture *fx = *state;
    const struct model *m = &fx->m;
    size_t len = fx->len, off = v2_offset(m, len);
    size_t tokens = off + 5, inbag = len - (size_t)m->noob * m->inbag_bytes;
    assert_true(m->noob > 100 && m->inbag_bytes == 2);
    forge_u32(fx->bytes, len, tokens, MODEL_MAX_TOKENS + 1, "too long", "token count");
    forge_u32(fx->bytes, len, tokens, UINT32_MAX, "too long", "token count ~0");
    size_t columns = inbag - 4 - 4;
    for (uint32_t i = 0; i < m->ntrain_columns; i++)
        columns -= 4 + strlen(m->train_columns[i]);
    assert_true(m->ntrain_columns > 2);
    forge_u32(fx->bytes, len, columns, MODEL_MAX_COLUMNS + 1, "too long", "column count");
    forge_u32(fx->bytes, len, columns, m->ntrain_columns + 1, "in-bag", "column count + 1");
    forge_u32(fx->bytes, len, inbag - 4, 3, "in-bag", "in-bag bytes 3");
    forge_u32(fx->bytes, len, inbag - 4, UINT32_MAX, "in-bag", "in-bag bytes ~0");

    uint8_t *b = malloc(len);
    struct {
        size_t at;
        uint8_t v;
        const char *what;
    } flips[] = {
        {off + 4, 7, "decimal mark 7"},
        {inbag + 1, 0x80, "a bit past the last of 15 trees"},
        {inbag + 7 * 2 + 1, 0x80, "a bit past the last of 15 trees, row 7"},
    };
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(b, fx->bytes, len);
        b[flips[i].at] |= flips[i].v;
        uint32_t crc = crc32_update(0, b + 24, len - 24);
        memcpy(b + 12, &crc, 4);
        expect_refused(b, len, "not valid", flips[i].what);
    }
    /* a row drawn into every tree: no tree left to score it */
    memcpy(b, fx->bytes, len);
    b[inbag + 3 * 2] = 0xff;
    b[inbag + 3 * 2 + 1] = 0x7f;
    uint32_t crc = crc32_update(0, b + 24, len - 24);
    memcpy(b + 12, &crc, 4);
    expect_refused(b, len, "in-bag set", "a row in every bag");
    free(b);

    /* truncated inside the version 2 sections, payload length forged too */
    const size_t cut[] = {off, off + 2, off + 4, tokens + 3, inbag - 1, inbag + 1, len - 1};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        uint8_t *t = malloc(cut[i]);
        memcpy(t, fx->bytes, cut[i]);
        uint64_t plen = cut[i] - 24;
        memcpy(t + 16, &plen, 8);
        uint32_t c = crc32_update(0, t + 24, plen);
        memcpy(t + 12, &c, 4);
        char what[64];
        snprintf(what, sizeof what, "cut at %zu of %zu, forged", cut[i], len);
        expect_refused(t, cut[i], "ends too early|past the end|not valid", what);
        free(t);
    }
}

/* A model file of format version 1, written by the code before version 2
 * (tests/fixtures/v1_model.lsm, trained on v1_model.csv): it loads, with a
 * note; its labels come back as lists; it reads with the default tokens;
 * and it scores every lead as it did then (v1_model_scores.jsonl, the
 * `score --json` of that build, 10 significant digits). */
static void test_v1_file_loads(void **state)
{
    (void)state;
    struct model m;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(model_load(tu_fixture("v1_model.lsm"), &m, &err), LS_OK);
    assert_int_equal(m.format_version, 1);
    assert_non_null(m.load_note);
    assert_non_null(strstr(m.load_note, "version 1"));
    assert_int_equal(m.kind, MODEL_RANDOM_FOREST);
    assert_null(m.inbag);
    assert_null(m.missing_tokens);
    assert_int_equal(m.npos_labels, 1);
    assert_int_equal(m.nneg_labels, 1);
    assert_string_equal(m.pos_labels[0], "1");
    assert_string_equal(m.neg_labels[0], "0");
    struct frame_opts fo;
    frame_opts_default(&fo);
    model_frame_opts(&m, &fo);
    assert_null(fo.missing_tokens); /* the reader's default list */

    size_t len;
    uint8_t *csv = tu_slurp(tu_fixture("v1_model.csv"), &len);
    char *text = malloc(len + 1);
    memcpy(text, csv, len);
    text[len] = '\0';
    free(csv);
    struct frame *f = tu_frame_mem(text);
    free(text);
    struct score_result res;
    tu_score_ok(&m, f, &res);
    assert_null(res.inbag);
    uint8_t *want = tu_slurp(tu_fixture("v1_model_scores.jsonl"), &len);
    char *jl = malloc(len + 1);
    memcpy(jl, want, len);
    jl[len] = '\0';
    free(want);
    uint64_t r = 0;
    for (char *line = jl; line && *line; r++) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        assert_true(r < res.n);
        double score = strtod(strstr(line, "\"score\":") + 8, NULL);
        double raw = strtod(strstr(line, "\"raw\":") + 6, NULL);
        int oob = strstr(line, "\"out_of_bag\":true") != NULL;
        ASSERT_NEAR(res.score[r], score, 1e-7 * (score > 1 ? score : 1));
        ASSERT_NEAR(100 * res.raw[r], raw, 1e-7 * (raw > 1 ? raw : 1));
        assert_int_equal(res.oob[r], oob);
        line = nl ? nl + 1 : NULL;
    }
    assert_int_equal(r, res.n);
    assert_int_equal(r, 300);
    assert_true(res.oob_rows > 200);
    free(jl);
    score_result_cleanup(&res);
    frame_free(f);

    /* saved again, it is a version 2 file without in-bag sets or tokens */
    const char *path = tu_write_temp("v1-resaved.lsm", "", 0);
    assert_int_equal(model_save(&m, path, &err), LS_OK);
    struct model again;
    assert_int_equal(model_load(path, &again, &err), LS_OK);
    assert_int_equal(again.format_version, MODEL_VERSION);
    assert_null(again.inbag);
    assert_string_equal(again.neg_labels[0], "0");
    model_cleanup(&again);
    model_cleanup(&m);
}

/* Training with other missing tokens than the default (the CLI's
 * --missing ""): scoring reads with the model's tokens, so the training file
 * scores as it trained — the same scores as when read with the training
 * tokens, and no drift; read with the default list instead, "Select" becomes
 * missing and the scores move (what happened before version 2). */
static void test_missing_tokens_kept(void **state)
{
    (void)state;
    char *text = tu_demo_text(1500, 12);
    static const char *const only_empty[] = {"", NULL};
    struct frame_opts fo;
    frame_opts_default(&fo);
    fo.missing_tokens = only_empty;
    struct frame *f;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(frame_read_mem(text, strlen(text), &fo, &f, &err), LS_OK);
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = 20;
    o.forest.threads = 2;
    o.missing_tokens = only_empty;
    struct model trained, m;
    struct train_summary sum;
    assert_int_equal(app_train(f, &o, &trained, &sum, &err), LS_OK);
    train_summary_cleanup(&sum);
    const char *path = tu_write_temp("tokens.lsm", "", 0);
    assert_int_equal(model_save(&trained, path, &err), LS_OK);
    model_cleanup(&trained);
    assert_int_equal(model_load(path, &m, &err), LS_OK);
    assert_string_equal(m.missing_tokens[0], "");
    assert_null(m.missing_tokens[1]);

    struct score_result want, got, naive;
    tu_score_ok(&m, f, &want);
    frame_free(f);
    /* as `score` reads without --missing: the model's tokens */
    frame_opts_default(&fo);
    model_frame_opts(&m, &fo);
    assert_int_equal(frame_read_mem(text, strlen(text), &fo, &f, &err), LS_OK);
    tu_score_ok(&m, f, &got);
    frame_free(f);
    assert_memory_equal(got.score, want.score, want.n * sizeof *want.score);
    assert_int_equal(got.drift.status, DRIFT_OK);
    /* the default list: the test can tell */
    frame_opts_default(&fo);
    assert_int_equal(frame_read_mem(text, strlen(text), &fo, &f, &err), LS_OK);
    tu_score_ok(&m, f, &naive);
    frame_free(f);
    uint64_t moved = 0;
    for (uint64_t r = 0; r < want.n; r++)
        moved += naive.score[r] != want.score[r];
    assert_true(moved > 100);
    score_result_cleanup(&want);
    score_result_cleanup(&got);
    score_result_cleanup(&naive);
    model_cleanup(&m);
    free(text);
}

/* A Stage column with 16 spellings of a lost outcome, each longer than 128
 * bytes, and Won / Open: the model keeps every label, so scoring the
 * training file gives every training row its outcome back (and with it its
 * out-of-bag score and a place in the metrics). Before version 2 the labels
 * were joined and cut, and most lost rows came back without an outcome. */
static void test_long_label_lists(void **state)
{
    (void)state;
    char lost[16][200];
    for (int k = 0; k < 16; k++) {
        int n = snprintf(lost[k], sizeof lost[k], "Closed Lost");
        for (int i = 0; i < 60 + k; i++) /* " -" pairs: the words stay "closed lost" */
            n += snprintf(lost[k] + n, sizeof lost[k] - (size_t)n, " -");
        assert_true(strlen(lost[k]) > 128);
    }
    size_t cap = 1 << 20, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv + len, cap - len, "Visits,Source,Stage\n");
    static const char *const src[] = {"Web", "Ads", "Referral", "Event"};
    struct rng g;
    rng_seed(&g, 19);
    uint64_t labelled = 0;
    for (int i = 0; i < 1200; i++) {
        int v = (int)rng_below(&g, 20), s = (int)rng_below(&g, 4);
        double p = 0.1 + 0.03 * v + (s == 2 ? 0.2 : 0);
        const char *stage = i % 10 == 0           ? "Open"
                            : rng_uniform(&g) < p ? "Won"
                                                  : lost[rng_below(&g, 16)];
        labelled += i % 10 != 0;
        len += (size_t)snprintf(csv + len, cap - len, "%d,%s,%s\n", v, src[s], stage);
        assert_true(len < cap);
    }
    struct frame *f = tu_frame_mem(csv);
    free(csv);
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = 30;
    o.forest.threads = 2;
    struct model trained, m;
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(app_train(f, &o, &trained, &sum, &err), LS_OK);
    train_summary_cleanup(&sum);
    assert_int_equal(trained.train_rows, labelled);
    const char *path = tu_write_temp("stage.lsm", "", 0);
    assert_int_equal(model_save(&trained, path, &err), LS_OK);
    model_cleanup(&trained);
    assert_int_equal(model_load(path, &m, &err), LS_OK);
    assert_int_equal(m.npos_labels, 1);
    assert_int_equal(m.nneg_labels, 16);
    for (uint32_t k = 0; k < 16; k++)
        assert_true(strlen(m.neg_labels[k]) > 128);
    struct score_result res;
    tu_score_ok(&m, f, &res);
    uint64_t known = 0;
    size_t sc = tu_col(f, "Stage");
    for (uint64_t r = 0; r < res.n; r++) {
        int open = strcmp(frame_cell(f, sc, r), "Open") == 0;
        if (open != (res.label[r] < 0))
            fail_msg("row %llu ('%.20s...'): outcome %d", (unsigned long long)r,
                     frame_cell(f, sc, r), res.label[r]);
        if (!open)
            assert_int_equal(res.label[r], strcmp(frame_cell(f, sc, r), "Won") == 0);
        known += res.label[r] >= 0;
    }
    assert_int_equal(known, labelled);
    assert_true(res.has_metrics);
    assert_int_equal(res.metrics.n, labelled);
    assert_true(res.oob_rows > labelled - 20);
    score_result_cleanup(&res);
    model_cleanup(&m);
    frame_free(f);
}

/* ---- 7. scoring files that differ from the training file ------------------ */

static void test_score_missing_column(void **state)
{
    struct fixture *fx = *state;
    char *text = edit_columns(fx->text, "Industry", NULL, NULL);
    struct frame *f = tu_frame_mem(text);
    assert_true(frame_find(f, "Industry") < 0);
    struct score_result res;
    tu_score_ok(&fx->m, f, &res);
    assert_int_equal(res.n, f->nrows);
    assert_int_equal(res.nmissing_cols, 1);
    assert_string_equal(res.missing_cols[0], "Industry");
    assert_int_equal(res.nextra_cols, 0);
    size_t j = tu_feature_index(&fx->m, "Industry");
    for (uint64_t r = 0; r < res.n; r++) {
        assert_int_equal(res.X[j * res.n + r], BINS_MISSING);
        assert_false(isnan(res.raw[r]));
    }
    check_scores(&fx->m, &res);
    /* a row scored by all trees uses the missing path of Industry */
    for (uint64_t r = 0; r < res.n; r++)
        if (!res.oob[r])
            ASSERT_SAME_BITS(res.raw[r], forest_predict_row(&fx->m.forest, res.X, res.n, r));
    score_result_cleanup(&res);
    frame_free(f);
    free(text);
}

static void test_score_unseen_category(void **state)
{
    struct fixture *fx = *state;
    char header[512];
    tu_text_line(fx->text, 0, header, sizeof header);
    static char csv[4096];
    snprintf(csv, sizeof csv,
             "%s\n"
             "L-9000001,2024-03-01,Carrier Pigeon,Software,India,CEO,11-50,5,300,2,3,Yes,\n"
             "L-9000002,2024-03-01,,Software,India,CEO,11-50,5,300,2,3,Yes,\n"
             "L-9000003,2024-03-01,Google,Software,India,CEO,11-50,5,300,2,3,Yes,\n"
             "L-9000004,2024-03-01,  GOOGLE ,Software,India,CEO,11-50,5,300,2,3,Yes,\n",
             header);
    struct frame *f = tu_frame_mem(csv);
    struct score_result res;
    tu_score_ok(&fx->m, f, &res);
    assert_int_equal(res.n, 4);
    assert_int_equal(res.nmissing_cols, 0);
    size_t js = tu_feature_index(&fx->m, "Lead Source");
    for (size_t j = 0; j < res.nfeat; j++)
        if (res.unseen[j] != (j == js ? 1u : 0u))
            fail_msg("feature '%s': %llu unseen, expected %d", fx->m.schema.feat[j].name,
                     (unsigned long long)res.unseen[j], j == js);
    /* the unseen category takes BINS_UNSEEN; Lead Source had no blanks in
     * training, so a new category and an empty cell are both neutral at
     * every Lead Source split (tree.h) and score alike */
    assert_int_equal(res.X[js * 4 + 0], BINS_UNSEEN);
    assert_int_equal(res.X[js * 4 + 1], BINS_MISSING);
    assert_int_not_equal(res.X[js * 4 + 2], BINS_MISSING);
    assert_int_equal(res.X[js * 4 + 3], res.X[js * 4 + 2]);
    ASSERT_SAME_BITS(res.raw[0], res.raw[1]);
    ASSERT_SAME_BITS(res.raw[2], res.raw[3]);
    for (uint64_t r = 0; r < 4; r++) {
        assert_int_equal(res.label[r], -1);
        assert_int_equal(res.oob[r], 0);
    }
    check_scores(&fx->m, &res);
    score_result_cleanup(&res);
    frame_free(f);
}

static void test_score_no_model_column(void **state)
{
    struct fixture *fx = *state;
    struct frame *f = tu_frame_mem("Foo,Bar\n1,2\n3,4\n");
    struct score_opts so;
    score_opts_default(&so);
    struct score_result res;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(app_score(&fx->m, f, &so, &res, &err), LS_EINPUT);
    assert_non_null(strstr(err.msg, "none of the model"));
    assert_null(res.raw);
    score_result_cleanup(&res); /* safe on what a failure leaves */
    frame_free(f);
}

static void test_score_extra_columns(void **state)
{
    struct fixture *fx = *state;
    char *text = edit_columns(fx->text, NULL, "Favourite Colour", "teal");
    struct frame *f = tu_frame_mem(text);
    struct score_result res;
    tu_score_ok(&fx->m, f, &res);
    assert_int_equal(res.nmissing_cols, 0);
    /* the target and the identifier are not "extra": they are read */
    assert_int_equal(res.nextra_cols, 1);
    assert_string_equal(res.extra_cols[0], "Favourite Colour");
    assert_non_null(fx->m.id_column);
    assert_string_equal(fx->m.id_column, "Lead ID");
    assert_int_equal(res.id_col, frame_find(f, "Lead ID"));
    check_scores(&fx->m, &res);
    score_result_cleanup(&res);
    frame_free(f);
    free(text);
}

/* ---- 9. train -> save -> load -> score, as the CLI does it --------------- */

static void test_cli_round_trip(void **state)
{
    (void)state;
    char *text = tu_demo_text(1500, 31);
    const char *csv_path = tu_write_temp("leads.csv", text, strlen(text)); /* 1 of 8 slots */
    struct frame_opts fo;
    frame_opts_default(&fo);
    struct frame *f = NULL;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(frame_read_file(csv_path, &fo, &f, &err), LS_OK);
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = 20;
    o.forest.threads = 2;
    struct model trained, m;
    struct train_summary sum;
    assert_int_equal(app_train(f, &o, &trained, &sum, &err), LS_OK);
    train_summary_cleanup(&sum);
    const char *model_path = tu_write_temp("m.lsm", "", 0);
    assert_int_equal(model_save(&trained, model_path, &err), LS_OK);
    frame_free(f);
    assert_int_equal(model_load(model_path, &m, &err), LS_OK);
    assert_int_equal(frame_read_file(csv_path, &fo, &f, &err), LS_OK);

    struct score_result res, direct;
    tu_score_ok(&m, f, &res);
    tu_score_ok(&trained, f, &direct);
    uint64_t n = res.n;
    assert_int_equal(n, 1500);
    assert_memory_equal(res.score, direct.score, n * sizeof *res.score);
    uint8_t *seen = calloc(n + 1, 1);
    uint64_t count[3] = {0};
    double *by_rank = malloc(n * sizeof *by_rank);
    for (uint64_t r = 0; r < n; r++) {
        if (!(res.score[r] >= 0 && res.score[r] <= 100))
            fail_msg("row %llu: score %g", (unsigned long long)r, res.score[r]);
        assert_true(res.tier[r] <= TIER_HIGH);
        const char *t = tier_name((enum tier)res.tier[r]);
        assert_true(!strcmp(t, "High") || !strcmp(t, "Medium") || !strcmp(t, "Low"));
        enum tier want = res.score[r] >= m.tier_high     ? TIER_HIGH
                         : res.score[r] >= m.tier_medium ? TIER_MEDIUM
                                                         : TIER_LOW;
        assert_int_equal(res.tier[r], want);
        count[res.tier[r]]++;
        assert_in_range(res.rank[r], 1, n);
        assert_int_equal(seen[res.rank[r]], 0);
        seen[res.rank[r]] = 1;
        by_rank[res.rank[r] - 1] = res.score[r];
    }
    for (int t = 0; t < 3; t++)
        assert_int_equal(count[t], res.tier_count[t]);
    for (uint64_t i = 1; i < n; i++)
        if (!(by_rank[i] <= by_rank[i - 1]))
            fail_msg("rank %llu scores %g, above rank %llu's %g", (unsigned long long)i + 1,
                     by_rank[i], (unsigned long long)i, by_rank[i - 1]);
    assert_true(res.has_metrics);
    assert_true(res.metrics.auc > 0.7);
    score_result_cleanup(&direct);

    /* quantile tiers: the top 20 % High, the next 30 % Medium, by rank */
    struct score_opts so;
    score_opts_default(&so);
    so.quantile_tiers = 1;
    score_result_cleanup(&res);
    assert_int_equal(app_score(&m, f, &so, &res, &err), LS_OK);
    assert_int_equal(res.tier_count[TIER_HIGH], 300);
    assert_int_equal(res.tier_count[TIER_MEDIUM], 450);
    for (uint64_t r = 0; r < n; r++)
        assert_int_equal(res.tier[r], res.rank[r] <= 300   ? TIER_HIGH
                                      : res.rank[r] <= 750 ? TIER_MEDIUM
                                                           : TIER_LOW);
    score_result_cleanup(&res);
    free(seen);
    free(by_rank);
    model_cleanup(&m);
    model_cleanup(&trained);
    frame_free(f);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_load_identical),
        cmocka_unit_test(test_flipped_bytes_refused),
        cmocka_unit_test(test_truncated_refused),
        cmocka_unit_test(test_foreign_files_refused),
        cmocka_unit_test(test_forged_payload_never_crashes),
        cmocka_unit_test(test_ensemble_kind),
        cmocka_unit_test(test_v2_sections_damaged),
        cmocka_unit_test(test_v1_file_loads),
        cmocka_unit_test(test_missing_tokens_kept),
        cmocka_unit_test(test_long_label_lists),
        cmocka_unit_test(test_score_missing_column),
        cmocka_unit_test(test_score_unseen_category),
        cmocka_unit_test(test_score_no_model_column),
        cmocka_unit_test(test_score_extra_columns),
        cmocka_unit_test(test_cli_round_trip),
    };
    return cmocka_run_group_tests_name("model", tests, setup, teardown);
}
