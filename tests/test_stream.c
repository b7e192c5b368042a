/* util.h's array files: af_save_array, af_read_array_index, af_read_array_key and
 * af_read_array_key_check in ArrayFire's format. Golden files (tests/data/<dtype>.af, written
 * field by field by tests/data/make_golden.py) must read back to the values listed here and be
 * reproduced byte for byte by a save; random arrays of every dtype and shape (empty, 4-D, views,
 * lazy) round-trip bit-exactly; append, key lookup and index errors follow ArrayFire; truncated,
 * corrupt and foreign files are errors with messages, and a failed save leaves the earlier file
 * as it was. */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const af_dtype all_types[] = {f32, c32, f64, c64, b8,  s32, u32,
                                     u8,  s64, u64, s16, u16, f16, s8};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

/* tests/data beside this file (its path as the build gave it), or EMBER_TEST_DATA_DIR. */
static void data_path(char *out, size_t cap, const char *name) {
    const char *env = getenv("EMBER_TEST_DATA_DIR");
    if (env && *env) {
        snprintf(out, cap, "%s/%s", env, name);
        return;
    }
    const char *f = __FILE__, *slash = strrchr(f, '/');
    int dir = slash ? (int)(slash - f) : 1;
    snprintf(out, cap, "%.*s/data/%s", dir, slash ? f : ".", name);
}

/* A private directory for a case's files, removed with its files by rm_dir. */
static void make_dir(char *out, size_t cap) {
    snprintf(out, cap, "/tmp/ember_stream_XXXXXX");
    if (!mkdtemp(out)) em_test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
}
static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}
static void rm_dir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

static unsigned char *slurp(const char *path, long *n) {
    FILE *f = fopen(path, "rb");
    *n = -1;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) len = -1;
    fclose(f);
    *n = len;
    return b;
}
static void spill(const char *path, const unsigned char *b, long n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (n > 0) fwrite(b, 1, (size_t)n, f);
    fclose(f);
}

/* ---------------------------------------------------------------------------------------------
 * golden files
 * ------------------------------------------------------------------------------------------- */

/* The values of tests/data/<dtype>.af (make_golden.py's VALUES), as the dtype's raw storage. */
static size_t golden_raw(af_dtype t, unsigned char *out) {
    static const double cx[12] = {1.5, -2.25, 0.0,  3.0,   -0.5, 1024.0,
                                  7.0, -8.0,  0.25, 0.125, -1.0, INFINITY};
    size_t n = 0;
    switch (t) {
    case f32: {
        const float v[6] = {1.5f, -2.25f, 0.0f, INFINITY, -0.0f, 1e-3f};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case f64: {
        const double v[6] = {1.5, -2.25, 0.0, INFINITY, -0.0, 1e-300};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case c32: {
        float v[12];
        for (int i = 0; i < 12; i++)
            v[i] = (float)cx[i];
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case c64:
        memcpy(out, cx, n = sizeof(cx));
        break;
    case b8: {
        const unsigned char v[6] = {1, 0, 1, 1, 0, 0};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case s32: {
        const int32_t v[6] = {1, -2, 3, -4, 5, INT32_MIN};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case u32: {
        const uint32_t v[6] = {1, 2, 3, 4, 5, UINT32_MAX};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case u8: {
        const uint8_t v[6] = {0, 1, 2, 127, 128, 255};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case s64: {
        const int64_t v[6] = {1, -2, 3, -4, 9007199254740993LL, INT64_MIN};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case u64: {
        const uint64_t v[6] = {1, 2, 3, 4, 9007199254740993ULL, UINT64_MAX};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case s16: {
        const int16_t v[6] = {1, -2, 3, -4, 5, INT16_MIN};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case u16: {
        const uint16_t v[6] = {1, 2, 3, 4, 5, UINT16_MAX};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case f16: {
        const uint16_t v[6] = {0x3C00, 0xC000, 0x0000, 0x7C00, 0x8000, 0x3555};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    case s8: {
        const int8_t v[6] = {1, -2, 3, -4, 5, INT8_MIN};
        memcpy(out, v, n = sizeof(v));
        break;
    }
    }
    return n;
}

/* Checks that a holds dims 3 x 2 x 1 x 1 of type t with exactly the raw bytes want. */
static void check_raw(af_array a, af_dtype t, const dim_t d[4], const unsigned char *want,
                      size_t bytes, const char *what) {
    af_dtype got_t;
    dim_t g[4];
    CHECK_AF(af_get_type(&got_t, a));
    CHECK_AF(af_get_dims(&g[0], &g[1], &g[2], &g[3], a));
    if (got_t != t || g[0] != d[0] || g[1] != d[1] || g[2] != d[2] || g[3] != d[3]) {
        em_test_fail(__FILE__, __LINE__, "%s (%s): dtype %d dims %lld %lld %lld %lld", what,
                     em_test_dtype_name(t), (int)got_t, (long long)g[0], (long long)g[1],
                     (long long)g[2], (long long)g[3]);
        return;
    }
    unsigned char *buf = malloc(bytes + 1);
    if (bytes) CHECK_AF(af_get_data_ptr(buf, a));
    if (memcmp(buf, want, bytes) != 0)
        em_test_fail(__FILE__, __LINE__, "%s (%s): the values differ", what, em_test_dtype_name(t));
    free(buf);
}

TEST(stream_golden_read) {
    const dim_t d[4] = {3, 2, 1, 1};
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        char path[512], name[16];
        snprintf(name, sizeof(name), "%s.af", em_test_dtype_name(t));
        data_path(path, sizeof(path), name);
        unsigned char want[96];
        size_t bytes = golden_raw(t, want);
        af_array a = NULL;
        CHECK_AF(af_read_array_index(&a, path, 0));
        if (a) check_raw(a, t, d, want, bytes, "af_read_array_index");
        af_release_array(a);
        a = NULL;
        CHECK_AF(af_read_array_key(&a, path, em_test_dtype_name(t)));
        if (a) check_raw(a, t, d, want, bytes, "af_read_array_key");
        af_release_array(a);
        int idx = -5;
        CHECK_AF(af_read_array_key_check(&idx, path, em_test_dtype_name(t)));
        CHECK(idx == 0);
        CHECK_AF(af_read_array_key_check(&idx, path, "missing"));
        CHECK(idx == -1);
    }
}

TEST(stream_golden_write) {
    /* Saving the golden values under the golden key gives the golden file, byte for byte. */
    char dir[64], out[128];
    make_dir(dir, sizeof(dir));
    const dim_t d[4] = {3, 2, 1, 1};
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        char path[512], name[16];
        snprintf(name, sizeof(name), "%s.af", em_test_dtype_name(t));
        data_path(path, sizeof(path), name);
        snprintf(out, sizeof(out), "%s/%s", dir, name);
        unsigned char raw[96];
        golden_raw(t, raw);
        af_array a = NULL;
        CHECK_AF(af_create_array(&a, raw, 4, d, t));
        int idx = -5;
        CHECK_AF(af_save_array(&idx, em_test_dtype_name(t), a, out, false));
        CHECK(idx == 0);
        long n1, n2;
        unsigned char *g = slurp(path, &n1), *w = slurp(out, &n2);
        if (!g || !w || n1 != n2 || memcmp(g, w, (size_t)n1) != 0)
            em_test_fail(__FILE__, __LINE__, "%s: %ld bytes saved, golden %ld, contents %s", name,
                         n2, n1, (g && w && n1 == n2) ? "differ" : "-");
        free(g);
        free(w);
        af_release_array(a);
    }
    CHECK(dir_entries(dir) == (int)NTYPES); /* no temporary left behind */
    rm_dir(dir);
}

/* ---------------------------------------------------------------------------------------------
 * round trips, append, keys
 * ------------------------------------------------------------------------------------------- */

/* The raw bytes of any array (a view or a lazy array reads as its values). */
static unsigned char *raw_of(af_array a, size_t *bytes) {
    dim_t n = 0;
    af_dtype t;
    af_get_elements(&n, a);
    af_get_type(&t, a);
    *bytes = (size_t)n * em_test_dtype_size(t);
    unsigned char *b = malloc(*bytes + 1);
    if (*bytes) CHECK_AF(af_get_data_ptr(b, a));
    return b;
}

TEST(stream_round_trip) {
    char dir[64], file[128];
    make_dir(dir, sizeof(dir));
    snprintf(file, sizeof(file), "%s/all.af", dir);
    const dim_t shapes[][4] = {
        {5, 1, 1, 1}, {3, 4, 2, 2}, {0, 1, 1, 1}, {1, 1, 1, 1}, {7, 0, 3, 1}};
    const int nshape = (int)(sizeof(shapes) / sizeof(shapes[0]));
    af_array saved[NTYPES * 8];
    int ns = 0;
    for (size_t ti = 0; ti < NTYPES; ti++) {
        af_dtype t = all_types[ti];
        for (int si = 0; si < nshape + 2; si++) {
            af_array a = NULL;
            if (si < nshape) {
                dim_t n = shapes[si][0] * shapes[si][1] * shapes[si][2] * shapes[si][3];
                size_t w = (t == c32 || t == c64) ? 2 : 1;
                double *x = malloc(((size_t)n * w + 1) * sizeof(double));
                em_test_fill(x, (size_t)n * w, -1000, 1000, true);
                a = em_test_make(x, 4, shapes[si], t);
                free(x);
            } else if (si == nshape) {
                /* A lazy array: a re-indexing not yet evaluated. */
                dim_t d[4] = {6, 5, 1, 1};
                af_array b = NULL;
                double x[60];
                em_test_fill(x, 60, -50, 50, false);
                b = em_test_make(x, 2, d, t);
                CHECK_AF(af_flip(&a, b, 1));
                af_release_array(b);
            } else {
                /* A view with permuted strides. */
                dim_t d[4] = {4, 3, 2, 1};
                af_array b = NULL;
                double x[48];
                em_test_fill(x, 48, -50, 50, false);
                b = em_test_make(x, 3, d, t);
                CHECK_AF(af_reorder(&a, b, 0, 2, 1, 3));
                af_release_array(b);
            }
            char key[32];
            snprintf(key, sizeof(key), "%s_%d", em_test_dtype_name(t), si);
            int idx = -5;
            CHECK_AF(af_save_array(&idx, key, a, file, ns > 0));
            CHECK(idx == ns);
            saved[ns++] = a;
        }
    }
    /* Every array reads back bit-exactly, by index and by key, with its dims and dtype. */
    for (int i = 0; i < ns; i++) {
        af_array r = NULL;
        CHECK_AF(af_read_array_index(&r, file, (unsigned)i));
        af_dtype t0, t1;
        dim_t d0[4], d1[4];
        af_get_type(&t0, saved[i]);
        af_get_dims(&d0[0], &d0[1], &d0[2], &d0[3], saved[i]);
        size_t b0, b1;
        unsigned char *x0 = raw_of(saved[i], &b0);
        if (r) {
            af_get_type(&t1, r);
            af_get_dims(&d1[0], &d1[1], &d1[2], &d1[3], r);
            unsigned char *x1 = raw_of(r, &b1);
            CHECK(t0 == t1 && memcmp(d0, d1, sizeof(d0)) == 0 && b0 == b1 &&
                  memcmp(x0, x1, b0) == 0);
            free(x1);
            af_release_array(r);
        }
        free(x0);
        af_release_array(saved[i]);
    }
    char key[32];
    snprintf(key, sizeof(key), "%s_%d", "u16", 2);
    int idx = -5;
    CHECK_AF(af_read_array_key_check(&idx, file, key));
    CHECK(idx == 11 * (nshape + 2) + 2);
    af_array r = NULL;
    CHECK_ERR(af_read_array_key(&r, file, "no such key"), AF_ERR_INVALID_ARRAY);
    CHECK_ERR(af_read_array_index(&r, file, (unsigned)ns), AF_ERR_ARG);
    rm_dir(dir);
}

TEST(stream_append_and_overwrite) {
    char dir[64], file[128];
    make_dir(dir, sizeof(dir));
    snprintf(file, sizeof(file), "%s/a.af", dir);
    const dim_t d[1] = {4};
    const float v[4] = {1, 2, 3, 4};
    af_array a = NULL, r = NULL;
    CHECK_AF(af_create_array(&a, v, 1, d, f32));
    int idx = -5;
    /* append to a missing file creates it */
    CHECK_AF(af_save_array(&idx, "x", a, file, true));
    CHECK(idx == 0);
    CHECK_AF(af_save_array(&idx, "y", a, file, true));
    CHECK(idx == 1);
    /* the same key twice: key lookups find the first */
    CHECK_AF(af_save_array(&idx, "x", a, file, true));
    CHECK(idx == 2);
    CHECK_AF(af_read_array_key_check(&idx, file, "x"));
    CHECK(idx == 0);
    CHECK_AF(af_read_array_key_check(&idx, file, "y"));
    CHECK(idx == 1);
    /* without append the file is replaced */
    CHECK_AF(af_save_array(&idx, "z", a, file, false));
    CHECK(idx == 0);
    CHECK_AF(af_read_array_key_check(&idx, file, "x"));
    CHECK(idx == -1);
    CHECK_AF(af_read_array_key(&r, file, "z"));
    float g[4] = {0};
    if (r) CHECK_AF(af_get_data_ptr(g, r));
    CHECK(g[0] == 1 && g[3] == 4);
    af_release_array(r);
    /* an empty key and an empty file */
    CHECK_AF(af_save_array(&idx, "", a, file, true));
    CHECK(idx == 1);
    CHECK_AF(af_read_array_key_check(&idx, file, ""));
    CHECK(idx == 1);
    char empty[160];
    snprintf(empty, sizeof(empty), "%s/empty.af", dir);
    spill(empty, NULL, 0);
    CHECK_ERR(af_read_array_index(&r, empty, 0), AF_ERR_ARG);
    CHECK_AF(af_save_array(&idx, "e", a, empty, true)); /* appending to an empty file starts it */
    CHECK(idx == 0);
    af_release_array(a);
    rm_dir(dir);
}

/* ---------------------------------------------------------------------------------------------
 * bad files, bad arguments, failed saves
 * ------------------------------------------------------------------------------------------- */

TEST(stream_corrupt_files) {
    char dir[64], file[128], path[512];
    make_dir(dir, sizeof(dir));
    snprintf(file, sizeof(file), "%s/bad.af", dir);
    data_path(path, sizeof(path), "c64.af");
    long n;
    unsigned char *good = slurp(path, &n);
    CHECK(good && n > 40);
    if (!good || n <= 40) {
        free(good);
        rm_dir(dir);
        return;
    }
    af_array r = NULL;
    int idx;
    /* Every truncation is an error, never a crash. */
    for (long cut = 0; cut < n; cut++) {
        spill(file, good, cut);
        af_err e = af_read_array_index(&r, file, 0);
        if (e != AF_ERR_ARG)
            em_test_fail(__FILE__, __LINE__, "truncated at %ld: returned %d", cut, (int)e);
        e = af_read_array_key(&r, file, "c64");
        if (e != AF_ERR_ARG && e != AF_ERR_INVALID_ARRAY)
            em_test_fail(__FILE__, __LINE__, "key, truncated at %ld: returned %d", cut, (int)e);
    }
    /* Corrupt fields: version, count, key length, entry size, dtype, dims. */
    struct {
        long at;
        int bytes;
        long long value;
    } bad[] = {
        {0, 1, 2},          /* version 2 */
        {0, 1, 'P'},        /* a foreign file */
        {1, 4, -1},         /* negative count */
        {5, 4, -7},         /* negative key length */
        {5, 4, 1 << 30},    /* key past the end */
        {12, 8, 5},         /* entry smaller than its header */
        {12, 8, 1LL << 40}, /* entry past the end */
        {20, 1, 14},        /* not a dtype */
        {20, 1, 0},         /* f32: the data no longer fills the dims */
        {21, 8, -3},        /* negative dim */
        {21, 8, 1LL << 62}, /* dims far past the data */
        {29, 8, 0},         /* zero dim with data left over */
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        unsigned char *b = malloc((size_t)n);
        memcpy(b, good, (size_t)n);
        for (int i = 0; i < bad[k].bytes; i++)
            b[bad[k].at + i] = (unsigned char)((unsigned long long)bad[k].value >> (8 * i));
        spill(file, b, n);
        CHECK_ERR(af_read_array_index(&r, file, 0), AF_ERR_ARG);
        free(b);
    }
    /* Index past the count; missing file; a directory. */
    spill(file, good, n);
    CHECK_ERR(af_read_array_index(&r, file, 1), AF_ERR_ARG);
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/none.af", dir);
    CHECK_ERR(af_read_array_index(&r, missing, 0), AF_ERR_ARG);
    CHECK_ERR(af_read_array_key_check(&idx, missing, "k"), AF_ERR_ARG);
    CHECK_ERR(af_read_array_index(&r, dir, 0), AF_ERR_ARG);
    /* NULL arguments. */
    CHECK_ERR(af_read_array_index(NULL, file, 0), AF_ERR_ARG);
    CHECK_ERR(af_read_array_index(&r, NULL, 0), AF_ERR_ARG);
    CHECK_ERR(af_read_array_key(&r, file, NULL), AF_ERR_ARG);
    CHECK_ERR(af_read_array_key_check(NULL, file, "k"), AF_ERR_ARG);
    free(good);
    rm_dir(dir);
}

TEST(stream_failed_save_keeps_file) {
    char dir[64], file[128];
    make_dir(dir, sizeof(dir));
    snprintf(file, sizeof(file), "%s/keep.af", dir);
    const dim_t d[1] = {3};
    const int v[3] = {7, 8, 9};
    af_array a = NULL;
    CHECK_AF(af_create_array(&a, v, 1, d, s32));
    int idx;
    CHECK_AF(af_save_array(&idx, "k", a, file, false));
    long n0;
    unsigned char *before = slurp(file, &n0);
    /* Bad arguments fail before the file is touched. */
    CHECK_ERR(af_save_array(&idx, NULL, a, file, true), AF_ERR_ARG);
    CHECK_ERR(af_save_array(&idx, "k", NULL, file, true), AF_ERR_ARG);
    CHECK_ERR(af_save_array(NULL, "k", a, file, true), AF_ERR_ARG);
    CHECK_ERR(af_save_array(&idx, "k", a, NULL, true), AF_ERR_ARG);
    /* Appending to a damaged file is refused, and the file stays as it was. */
    long n1;
    unsigned char *damaged = slurp(file, &n1);
    damaged[1] = 5; /* claims five arrays */
    spill(file, damaged, n1);
    CHECK_ERR(af_save_array(&idx, "k2", a, file, true), AF_ERR_ARG);
    long n2;
    unsigned char *after = slurp(file, &n2);
    CHECK(n2 == n1 && memcmp(after, damaged, (size_t)n1) == 0);
    free(after);
    /* Trailing bytes after the last array: also refused for append. */
    spill(file, before, n0);
    unsigned char *longer = malloc((size_t)n0 + 3);
    memcpy(longer, before, (size_t)n0);
    longer[n0] = 1, longer[n0 + 1] = 2, longer[n0 + 2] = 3;
    spill(file, longer, n0 + 3);
    CHECK_ERR(af_save_array(&idx, "k2", a, file, true), AF_ERR_ARG);
    free(longer);
    /* A directory that does not exist. */
    char nodir[200];
    snprintf(nodir, sizeof(nodir), "%s/no/such/dir.af", dir);
    CHECK_ERR(af_save_array(&idx, "k", a, nodir, false), AF_ERR_ARG);
    /* Only the one file remains: no temporary left behind. */
    CHECK(dir_entries(dir) == 1);
    free(damaged);
    free(before);
    af_release_array(a);
    rm_dir(dir);
}
