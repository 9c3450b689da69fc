/*
 * test_run.c — the scoring run behind one call (app/run.h) and safe output
 * files (core/outfile.h), on generated leads.
 *
 * The CLI tests drive the same code through the binary; these call it as the
 * server will: a model and a frame already in memory, results read from the
 * struct.
 */
#include "testutil.h"

#include "app/run.h"
#include "app/train.h"
#include "core/outfile.h"

#include <sys/stat.h>
#include <unistd.h>

struct fx {
    struct frame *f;
    struct model m;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    char *text = tu_demo_text(800, 5);
    x->f = tu_frame_mem(text);
    free(text);
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = 20;
    o.forest.threads = 2;
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    if (app_train(x->f, &o, &x->m, &sum, &err)) {
        fprintf(stderr, "app_train: %s\n", err.msg);
        return -1;
    }
    train_summary_cleanup(&sum);
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    model_cleanup(&x->m);
    frame_free(x->f);
    free(x);
    return 0;
}

/* A borrowed model and frame: every lead scored, one explained, its JSON
 * complete, and the run's contributions add up to the explained raw. */
static void test_run_borrowed(void **state)
{
    struct fx *x = *state;
    struct run_opts o;
    run_opts_default(&o);
    o.model = &x->m;
    o.frame = x->f;
    o.score.threads = 2;
    o.explain = 1;
    o.explain_row0 = 7;
    o.explain_n = 3;
    o.report = 1;
    struct run_result r;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(app_run_score(&o, &r, &err), LS_OK);
    assert_ptr_equal(r.m, &x->m);
    assert_ptr_equal(r.f, x->f);
    assert_int_equal(r.score.n, 800);
    assert_int_equal(r.ex.row0, 7);
    assert_int_equal(r.ex.n, 3);
    json_t *j = run_lead_json(&r, 8);
    assert_int_equal(json_integer_value(json_object_get(j, "row")), 9);
    assert_non_null(json_object_get(j, "rank"));
    assert_non_null(json_object_get(j, "contributions"));
    double sum = json_real_value(json_object_get(j, "base"));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(j, "contributions"), k, v) sum += json_real_value(v);
    ASSERT_NEAR(sum, json_real_value(json_object_get(j, "raw_explained")), 1e-9);
    json_decref(j);
    j = run_lead_json(&r, 100); /* not explained: no contributions */
    assert_null(json_object_get(j, "contributions"));
    json_decref(j);
    assert_non_null(r.report);
    assert_int_equal(json_integer_value(json_object_get(r.report, "rows")), 800);
    assert_true(json_is_array(r.warnings));
    assert_non_null(strstr(r.drift_line, "drift: "));
    run_result_cleanup(&r);
}

/* Explaining in slices (5,000 leads: three of them) gives the same numbers
 * as one call for every lead. */
static void test_run_slices_match(void **state)
{
    struct fx *x = *state;
    char *text = tu_demo_text(5000, 9);
    struct frame *f = tu_frame_mem(text);
    free(text);
    struct run_opts o;
    run_opts_default(&o);
    o.model = &x->m;
    o.frame = f;
    o.score.threads = 2;
    o.explain = 1;
    struct run_result r;
    struct ls_error err;
    assert_int_equal(app_run_score(&o, &r, &err), LS_OK);
    struct explain_result e = {0};
    app_explain(&x->m, &r.score, 0, r.score.n, 2, &e);
    assert_int_equal(e.n, r.ex.n);
    assert_memory_equal(e.phi, r.ex.phi, e.n * e.nfeat * sizeof *e.phi);
    assert_memory_equal(e.base, r.ex.base, e.n * sizeof *e.base);
    explain_result_cleanup(&e);
    run_result_cleanup(&r);
    frame_free(f);
}

/* A lead past the end, an unknown id, duplicate ids. */
static void test_run_leads_named(void **state)
{
    struct fx *x = *state;
    struct run_opts o;
    run_opts_default(&o);
    o.model = &x->m;
    o.frame = x->f;
    o.explain = 1;
    o.explain_row0 = 800;
    o.explain_n = 1;
    struct run_result r;
    struct ls_error err;
    assert_int_equal(app_run_score(&o, &r, &err), LS_EINPUT);
    assert_non_null(strstr(err.msg, "801"));
    run_result_cleanup(&r);
    o.explain_row0 = 0;
    o.explain_id = "no-such-lead";
    assert_int_equal(app_run_score(&o, &r, &err), LS_EINPUT);
    assert_non_null(strstr(err.msg, "no-such-lead"));
    run_result_cleanup(&r);
    o.explain_id = frame_cell(x->f, tu_col(x->f, "Lead ID"), 4);
    assert_int_equal(app_run_score(&o, &r, &err), LS_OK);
    assert_int_equal(r.ex.row0, 4);
    assert_int_equal(r.id_matches, 1);
    run_result_cleanup(&r);
}

/* text with one more column on every line: header `name`, cells `cell`. */
static char *add_column(const char *text, const char *name, const char *cell)
{
    size_t n = strlen(text), lines = 0;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    size_t extra = strlen(name) > strlen(cell) ? strlen(name) : strlen(cell);
    size_t cap = n + lines * (extra + 2) + 1;
    char *with = malloc(cap), *o = with;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        memcpy(o, p, (size_t)(nl - p));
        o += nl - p;
        o += snprintf(o, cap - (size_t)(o - with), ",%s\n", p == text ? name : cell);
        p = nl + 1;
    }
    *o = '\0';
    return with;
}

/* A file that carries a previous run's columns: they are marked replaced,
 * named in a warning, and the CSV writes each output column once. */
static void test_run_replaces_outputs(void **state)
{
    struct fx *x = *state;
    char *text = tu_frame_csv(x->f, NULL);
    /* add score,tier,rank columns to every line */
    char *with = add_column(text, "score,tier,rank", "1.0,Low,5");
    free(text);
    struct frame *f = tu_frame_mem(with);
    free(with);
    struct run_opts ro;
    run_opts_default(&ro);
    ro.model = &x->m;
    ro.frame = f;
    ro.report = 1;
    struct run_result r;
    struct ls_error err;
    assert_int_equal(app_run_score(&ro, &r, &err), LS_OK);
    assert_int_equal(r.nreplaced, 3);
    /* they are not new columns of the file */
    assert_int_equal(json_array_size(json_object_get(r.report, "new_columns")), 0);
    assert_non_null(strstr(json_string_value(json_array_get(r.warnings, 0)), "earlier run"));
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    run_write_csv(&r, m);
    fclose(m);
    char header[4096];
    tu_text_line(out, 0, header, sizeof header);
    const char *first = strstr(header, ",score,");
    assert_non_null(first);
    assert_null(strstr(first + 1, ",score,"));
    free(out);
    run_result_cleanup(&r);
    frame_free(f);
}

/* outfile: refuses inputs and non-regular files, writes a symlink's target,
 * leaves the old file on abort and replaces it on commit. */
static void test_outfile(void **state)
{
    (void)state;
    char a[1024], dir[1024], link_path[1024];
    snprintf(a, sizeof a, "%s", tu_write_temp("of_a.txt", "old", 3));
    snprintf(dir, sizeof dir, "%s", tu_write_temp("of_dir", "", 0));
    unlink(dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    struct ls_error err;
    const char *others[] = {NULL, a};
    assert_int_equal(outfile_check(a, others, 2, &err), LS_EUSAGE);
    assert_int_equal(outfile_check(dir, NULL, 0, &err), LS_EUSAGE);
    assert_int_equal(outfile_check("/dev/null", NULL, 0, &err), LS_EUSAGE);
    char nodir[1100];
    snprintf(nodir, sizeof nodir, "%s/none/x.csv", dir);
    assert_int_equal(outfile_check(nodir, NULL, 0, &err), LS_EIO);

    struct outfile of;
    assert_int_equal(outfile_open(&of, a, &err), LS_OK);
    fputs("new", of.f);
    outfile_abort(&of);
    size_t len;
    uint8_t *b = tu_slurp(a, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(b, "old", 3);
    free(b);

    snprintf(link_path, sizeof link_path, "%s", tu_write_temp("of_link", "", 0));
    unlink(link_path);
    assert_int_equal(symlink(a, link_path), 0);
    assert_int_equal(outfile_open(&of, link_path, &err), LS_OK);
    fputs("newer", of.f);
    assert_int_equal(outfile_commit(&of, &err), LS_OK);
    struct stat st;
    assert_int_equal(lstat(link_path, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    b = tu_slurp(a, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(b, "newer", 5);
    free(b);

    /* a loop of links is an error, not a hang */
    char l1[1024], l2[1024];
    snprintf(l1, sizeof l1, "%s", tu_write_temp("of_l1", "", 0));
    snprintf(l2, sizeof l2, "%s", tu_write_temp("of_l2", "", 0));
    unlink(l1);
    unlink(l2);
    assert_int_equal(symlink(l2, l1), 0);
    assert_int_equal(symlink(l1, l2), 0);
    assert_int_equal(outfile_check(l1, NULL, 0, &err), LS_EUSAGE);
}

/* new_columns names only what the training file did not have: a column left
 * out on purpose (here --exclude) is no new column, a column never seen is. */
static void test_run_new_columns(void **state)
{
    (void)state;
    char *text = tu_demo_text(600, 9);
    struct frame *tf = tu_frame_mem(text);
    struct train_opts o;
    train_opts_default(&o);
    o.forest.trees = 10;
    o.exclude[o.nexclude++] = "Industry";
    struct model m;
    struct train_summary sum;
    struct ls_error err;
    ls_error_clear(&err);
    assert_int_equal(app_train(tf, &o, &m, &sum, &err), LS_OK);
    train_summary_cleanup(&sum);
    assert_int_equal(m.ntrain_columns, tf->ncols);
    /* the same leads with one more column at the end */
    char *with = add_column(text, "Brand New", "x");
    free(text);
    struct frame *f = tu_frame_mem(with);
    free(with);
    struct run_opts ro;
    run_opts_default(&ro);
    ro.model = &m;
    ro.frame = f;
    ro.report = 1;
    struct run_result r;
    assert_int_equal(app_run_score(&ro, &r, &err), LS_OK);
    json_t *nc = json_object_get(r.report, "new_columns");
    assert_int_equal(json_array_size(nc), 1);
    assert_string_equal(json_string_value(json_array_get(nc, 0)), "Brand New");
    assert_int_equal(r.score.nextra_cols, 2); /* Industry and Brand New are both unused */
    run_result_cleanup(&r);
    frame_free(f);
    frame_free(tf);
    model_cleanup(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_borrowed),    cmocka_unit_test(test_run_slices_match),
        cmocka_unit_test(test_run_leads_named), cmocka_unit_test(test_run_replaces_outputs),
        cmocka_unit_test(test_outfile),         cmocka_unit_test(test_run_new_columns),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
