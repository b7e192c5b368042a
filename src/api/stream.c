/* util.h: af_save_array, af_read_array_index, af_read_array_key and af_read_array_key_check, in
 * ArrayFire's own file format, so files move between ArrayFire and Ember in both directions.
 *
 * The format (version 1, as ArrayFire's src/api/c/stream.cpp writes it; all integers
 * little-endian, as ArrayFire writes them on the little-endian machines it runs on):
 *
 *     offset 0   u8     version, 1
 *     offset 1   i32    number of arrays N
 *     then N entries, each:
 *                i32    key length K (bytes, no terminator)
 *                K      key bytes
 *                i64    entry size S: the bytes after this field (1 + 32 + data bytes)
 *                u8     dtype (the af_dtype value)
 *                4 i64  dims
 *                data   elements in column-major order, the dtype's storage (complex: re, im)
 *
 * Appending rewrites N in the header and adds an entry at the end. ArrayFire 3.10 saves and reads
 * twelve dtypes; Ember also saves and reads f16 (dtype 12, binary16) and s8 (dtype 13) in the same
 * layout, which ArrayFire itself rejects with a type error.
 *
 * Robustness: a reader checks every field against the file's size before it trusts it, so a
 * truncated, corrupt or foreign file is an AF_ERR_ARG with a message, never a crash or a huge
 * allocation. A save writes a temporary file in the target's directory and renames it over the
 * target only when it is complete, so a failed save (full disk, bad input) leaves the earlier file
 * as it was. */
#include <af/util.h>

#include "../core/array.h"
#include "../core/dev.h"
#include "../core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EM_STREAM_VERSION 1
/* dtype, then four dims */
#define EM_STREAM_META (1 + 4 * 8)

/* ---------------------------------------------------------------------------------------------
 * little-endian fields
 * ------------------------------------------------------------------------------------------- */

static void put_le(unsigned char *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---------------------------------------------------------------------------------------------
 * reading
 * ------------------------------------------------------------------------------------------- */

/* An open file and its size, read through bounds-checked helpers. */
typedef struct {
    FILE *f;
    const char *name;
    long long size, pos;
} reader;

static af_err reader_open(const char *fn, const char *filename, reader *r) {
    r->name = filename;
    r->pos = 0;
    r->f = fopen(filename, "rb");
    if (!r->f) return em_err(AF_ERR_ARG, fn, "cannot open %s: %s", filename, strerror(errno));
    struct stat st;
    if (fstat(fileno(r->f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(r->f);
        r->f = NULL;
        return em_err(AF_ERR_ARG, fn, "%s is not a regular file", filename);
    }
    r->size = (long long)st.st_size;
    return AF_SUCCESS;
}

static void reader_close(reader *r) {
    if (r->f) fclose(r->f);
    r->f = NULL;
}

/* Reads n bytes at the current position; an error names what was being read. */
static af_err reader_bytes(const char *fn, reader *r, void *dst, long long n, const char *what) {
    if (n < 0 || n > r->size - r->pos)
        return em_err(AF_ERR_ARG, fn,
                      "%s is truncated or corrupt: %s at byte %lld needs %lld bytes, %lld remain",
                      r->name, what, r->pos, n, r->size - r->pos);
    if (n > 0 && fread(dst, 1, (size_t)n, r->f) != (size_t)n)
        return em_err(AF_ERR_ARG, fn, "reading %s failed at byte %lld", r->name, r->pos);
    r->pos += n;
    return AF_SUCCESS;
}

static af_err reader_skip(const char *fn, reader *r, long long n, const char *what) {
    if (n < 0 || n > r->size - r->pos)
        return em_err(AF_ERR_ARG, fn,
                      "%s is truncated or corrupt: %s at byte %lld spans %lld bytes, %lld remain",
                      r->name, what, r->pos, n, r->size - r->pos);
    r->pos += n;
    if (fseeko(r->f, (off_t)r->pos, SEEK_SET) != 0)
        return em_err(AF_ERR_ARG, fn, "seeking in %s failed", r->name);
    return AF_SUCCESS;
}

static af_err reader_int(const char *fn, reader *r, int bytes, uint64_t *v, const char *what) {
    unsigned char b[8];
    af_err err = reader_bytes(fn, r, b, bytes, what);
    if (err == AF_SUCCESS) *v = get_le(b, bytes);
    return err;
}

/* The header: version and array count. */
static af_err read_header(const char *fn, reader *r, int *count) {
    af_err err;
    uint64_t v;
    if (r->size == 0) return em_err(AF_ERR_ARG, fn, "%s is empty", r->name);
    if ((err = reader_int(fn, r, 1, &v, "the version byte")) != AF_SUCCESS) return err;
    if (v != EM_STREAM_VERSION)
        return em_err(AF_ERR_ARG, fn,
                      "%s is not an ArrayFire array file of a known version (version byte %u, "
                      "expected %d)",
                      r->name, (unsigned)v, EM_STREAM_VERSION);
    if ((err = reader_int(fn, r, 4, &v, "the array count")) != AF_SUCCESS) return err;
    int32_t n = (int32_t)(uint32_t)v;
    if (n < 0) return em_err(AF_ERR_ARG, fn, "%s is corrupt: array count %d", r->name, (int)n);
    *count = n;
    return AF_SUCCESS;
}

/* One entry's key (malloc'ed into *key with its length, unless key is NULL) and the size of the
 * rest of the entry, leaving the position after the size field. */
static af_err read_entry_head(const char *fn, reader *r, int i, char **key, int32_t *klen,
                              long long *rest) {
    af_err err;
    uint64_t v;
    char what[64];
    snprintf(what, sizeof(what), "the key length of array %d", i);
    if ((err = reader_int(fn, r, 4, &v, what)) != AF_SUCCESS) return err;
    int32_t k = (int32_t)(uint32_t)v;
    if (k < 0) return em_err(AF_ERR_ARG, fn, "%s is corrupt: key length %d", r->name, (int)k);
    snprintf(what, sizeof(what), "the key of array %d", i);
    if (key) {
        if (k > r->size - r->pos) return reader_bytes(fn, r, NULL, k, what);
        *key = malloc((size_t)k + 1);
        if (!*key) return em_err(AF_ERR_NO_MEM, fn, "out of host memory");
        if ((err = reader_bytes(fn, r, *key, k, what)) != AF_SUCCESS) {
            free(*key);
            *key = NULL;
            return err;
        }
        (*key)[k] = 0;
    } else if ((err = reader_skip(fn, r, k, what)) != AF_SUCCESS) {
        return err;
    }
    *klen = k;
    snprintf(what, sizeof(what), "the size of array %d", i);
    if ((err = reader_int(fn, r, 8, &v, what)) != AF_SUCCESS) goto fail;
    long long s = (long long)v;
    if (s < EM_STREAM_META || s > r->size - r->pos) {
        err = em_err(AF_ERR_ARG, fn,
                     "%s is truncated or corrupt: array %d claims %lld bytes at byte %lld, %lld "
                     "remain",
                     r->name, i, s, r->pos, r->size - r->pos);
        goto fail;
    }
    *rest = s;
    return AF_SUCCESS;
fail:
    if (key) {
        free(*key);
        *key = NULL;
    }
    return err;
}

/* The index of the first entry whose key is `key`, or -1. */
static af_err find_key(const char *fn, const char *filename, const char *key, int *index) {
    reader r;
    af_err err = reader_open(fn, filename, &r);
    if (err != AF_SUCCESS) return err;
    int count = 0;
    *index = -1;
    size_t want = strlen(key);
    EM_TRY_FN(read_header(fn, &r, &count));
    for (int i = 0; i < count; i++) {
        char *k = NULL;
        int32_t klen = 0;
        long long rest = 0;
        EM_TRY_FN(read_entry_head(fn, &r, i, &k, &klen, &rest));
        bool match = (size_t)klen == want && memcmp(k, key, want) == 0;
        free(k);
        if (match) {
            *index = i;
            break;
        }
        EM_TRY_FN(reader_skip(fn, &r, rest, "an array's data"));
    }
fail:
    reader_close(&r);
    return err;
}

/* Reads entry `index` into a new array on the active device. */
static af_err read_index(const char *fn, const char *filename, unsigned index, em_array **out) {
    reader r;
    af_err err = reader_open(fn, filename, &r);
    if (err != AF_SUCCESS) return err;
    int count = 0;
    em_array *a = NULL;
    void *host = NULL;
    EM_TRY_FN(read_header(fn, &r, &count));
    if (index >= (unsigned)count)
        EM_FAIL_FN(AF_ERR_ARG, "argument 2 (index): %u is out of range, %s holds %d arrays", index,
                   filename, count);
    for (unsigned i = 0;; i++) {
        int32_t klen = 0;
        long long rest = 0;
        EM_TRY_FN(read_entry_head(fn, &r, (int)i, NULL, &klen, &rest));
        if (i < index) {
            EM_TRY_FN(reader_skip(fn, &r, rest, "an array's data"));
            continue;
        }
        unsigned char meta[EM_STREAM_META];
        EM_TRY_FN(reader_bytes(fn, &r, meta, EM_STREAM_META, "the dtype and dims"));
        int t = meta[0];
        if (!em_dtype_valid((af_dtype)t))
            EM_FAIL_FN(AF_ERR_ARG, "%s is corrupt: array %u has dtype %d, not an af_dtype",
                       filename, index, t);
        dim_t d[4];
        size_t es = em_dtype_size((af_dtype)t);
        /* The data must be exactly the dims' elements; checked without forming a product that
         * could overflow (the element count is bounded by the file's size). */
        long long have = rest - EM_STREAM_META, n = have / (long long)es, total = 1;
        bool zero = false, over = false;
        for (int k = 0; k < 4; k++) {
            d[k] = (dim_t)(int64_t)get_le(meta + 1 + 8 * k, 8);
            if (d[k] < 0)
                EM_FAIL_FN(AF_ERR_ARG, "%s is corrupt: array %u has dims[%d] = %lld", filename,
                           index, k, (long long)d[k]);
            zero = zero || d[k] == 0;
        }
        for (int k = 0; k < 4 && !zero && !over; k++) {
            if (total > n / d[k])
                over = true;
            else
                total *= d[k];
        }
        if (zero) total = 0;
        if (over || have % (long long)es != 0 || total != n)
            EM_FAIL_FN(AF_ERR_ARG,
                       "%s is corrupt: array %u holds %lld bytes of data, which dims [%lld %lld "
                       "%lld %lld] of %s do not fill",
                       filename, index, have, (long long)d[0], (long long)d[1], (long long)d[2],
                       (long long)d[3], em_dtype_name((af_dtype)t));
        size_t bytes = (size_t)total * es;
        host = malloc(bytes ? bytes : 1);
        if (!host) EM_FAIL_FN(AF_ERR_NO_MEM, "out of host memory for %zu bytes", bytes);
        EM_TRY_FN(reader_bytes(fn, &r, host, (long long)bytes, "an array's data"));
        EM_TRY_FN(em_array_alloc((af_dtype)t, d, &a));
        if (bytes) EM_TRY_FN(em_backend_self.copy_h2d(a->dev, a->buf->ptr, host, bytes));
        break;
    }
    free(host);
    reader_close(&r);
    *out = a;
    return AF_SUCCESS;
fail:
    free(host);
    em_array_free(a);
    reader_close(&r);
    return err;
}

af_err af_read_array_index(af_array *out, const char *filename, const unsigned index) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a = NULL;
    EM_ARG_NULL(out, 0);
    EM_ARG_NULL(filename, 1);
    EM_TRY(em_init());
    EM_TRY(read_index(fn, filename, index, &a));
    *out = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_read_array_key(af_array *out, const char *filename, const char *key) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a = NULL;
    int index = -1;
    EM_ARG_NULL(out, 0);
    EM_ARG_NULL(filename, 1);
    EM_ARG_NULL(key, 2);
    EM_TRY(em_init());
    EM_TRY(find_key(fn, filename, key, &index));
    /* ArrayFire's code for a missing key. */
    if (index < 0) EM_FAIL(AF_ERR_INVALID_ARRAY, "key \"%s\" is not in %s", key, filename);
    EM_TRY(read_index(fn, filename, (unsigned)index, &a));
    *out = a;
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_read_array_key_check(int *index, const char *filename, const char *key) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    int i = -1;
    EM_ARG_NULL(index, 0);
    EM_ARG_NULL(filename, 1);
    EM_ARG_NULL(key, 2);
    EM_TRY(em_init());
    EM_TRY(find_key(fn, filename, key, &i));
    *index = i;
    return AF_SUCCESS;
fail:
    return err;
}

/* ---------------------------------------------------------------------------------------------
 * saving
 * ------------------------------------------------------------------------------------------- */

/* The permission bits a new file gets: 0666 less the process's umask, read from /proc so that the
 * umask is not changed (umask(2) sets it, which would race with other threads). */
static mode_t new_file_mode(void) {
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[128];
        while (fgets(line, sizeof(line), f))
            if (strncmp(line, "Umask:", 6) == 0) {
                mask = (mode_t)strtol(line + 6, NULL, 8);
                break;
            }
        fclose(f);
    }
    return 0666 & ~mask;
}

static af_err write_all(const char *fn, FILE *f, const void *p, size_t n, const char *path) {
    if (n && fwrite(p, 1, n, f) != n)
        return em_err(AF_ERR_ARG, fn, "writing %s failed: %s", path, strerror(errno));
    return AF_SUCCESS;
}

/* When appending to an existing file: checks it entry by entry (so a damaged file is not extended
 * into a worse one), and leaves *count its array count and *body the bytes after the header
 * (the entries), to be copied. *count is 0 when the file is missing or empty. */
static af_err old_entries(const char *fn, const char *filename, int *count, long long *body) {
    *count = 0;
    *body = 0;
    struct stat st;
    if (stat(filename, &st) != 0) return AF_SUCCESS; /* a new file */
    reader r;
    af_err err = reader_open(fn, filename, &r);
    if (err != AF_SUCCESS) return err;
    if (r.size > 0) {
        EM_TRY_FN(read_header(fn, &r, count));
        for (int i = 0; i < *count; i++) {
            int32_t klen = 0;
            long long rest = 0;
            EM_TRY_FN(read_entry_head(fn, &r, i, NULL, &klen, &rest));
            EM_TRY_FN(reader_skip(fn, &r, rest, "an array's data"));
        }
        if (r.pos != r.size)
            EM_FAIL_FN(AF_ERR_ARG, "%s is corrupt: %lld bytes follow its last array", filename,
                       r.size - r.pos);
        if (*count == INT32_MAX)
            EM_FAIL_FN(AF_ERR_ARG, "%s holds the most arrays a file can", filename);
        *body = r.size - 5;
    }
fail:
    reader_close(&r);
    return err;
}

/* Copies `bytes` bytes after the header of `src` to `dst`. */
static af_err copy_body(const char *fn, const char *src, FILE *dst, long long bytes,
                        const char *tmp) {
    af_err err = AF_SUCCESS;
    FILE *f = fopen(src, "rb");
    char *buf = malloc(1 << 20);
    if (!f || !buf) {
        err = f ? em_err(AF_ERR_NO_MEM, fn, "out of host memory")
                : em_err(AF_ERR_ARG, fn, "cannot open %s: %s", src, strerror(errno));
        goto done;
    }
    if (fseek(f, 5, SEEK_SET) != 0) {
        err = em_err(AF_ERR_ARG, fn, "seeking in %s failed", src);
        goto done;
    }
    while (bytes > 0 && err == AF_SUCCESS) {
        size_t n = bytes < (1 << 20) ? (size_t)bytes : (size_t)1 << 20;
        if (fread(buf, 1, n, f) != n) {
            err = em_err(AF_ERR_ARG, fn, "reading %s failed", src);
            break;
        }
        err = write_all(fn, dst, buf, n, tmp);
        bytes -= (long long)n;
    }
done:
    if (f) fclose(f);
    free(buf);
    return err;
}

af_err af_save_array(int *index, const char *key, const af_array arr, const char *filename,
                     const bool append) {
    const char *fn = __func__;
    af_err err = AF_SUCCESS;
    em_array *a;
    void *host = NULL;
    char *tmp = NULL;
    FILE *f = NULL;
    int fd = -1;
    bool created = false;
    EM_ARG_NULL(index, 0);
    EM_ARG_NULL(key, 1);
    EM_GET(a, arr, 2);
    EM_ARG_NULL(filename, 3);
    size_t klen = strlen(key);
    if (klen > INT32_MAX) EM_FAIL(AF_ERR_ARG, "argument 1 (key): longer than 2^31 - 1 bytes");
    size_t es = em_dtype_size(a->type);
    size_t bytes = (size_t)em_array_elements(a) * es;
    /* The old file, checked, when appending. */
    int count = 0;
    long long body = 0;
    if (append) EM_TRY(old_entries(fn, filename, &count, &body));
    /* The values, before any file is touched (a lazy array is evaluated here). */
    host = malloc(bytes ? bytes : 1);
    if (!host) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for %zu bytes", bytes);
    EM_TRY(em_array_read(a, host));
    /* A temporary file beside the target, renamed over it when complete. */
    size_t nlen = strlen(filename);
    tmp = malloc(nlen + 16);
    if (!tmp) EM_FAIL(AF_ERR_NO_MEM, "out of host memory");
    snprintf(tmp, nlen + 16, "%s.tmp.XXXXXX", filename);
    fd = mkstemp(tmp);
    created = fd >= 0;
    if (fd < 0)
        EM_FAIL(AF_ERR_ARG, "argument 3 (filename): cannot create a file beside %s: %s", filename,
                strerror(errno));
    struct stat st;
    mode_t mode = stat(filename, &st) == 0 ? (st.st_mode & 07777) : new_file_mode();
    if (fchmod(fd, mode) != 0)
        EM_FAIL(AF_ERR_ARG, "setting the permissions of %s failed: %s", tmp, strerror(errno));
    f = fdopen(fd, "wb");
    if (!f) EM_FAIL(AF_ERR_ARG, "opening %s failed: %s", tmp, strerror(errno));
    fd = -1;
    unsigned char head[5];
    head[0] = EM_STREAM_VERSION;
    put_le(head + 1, (uint32_t)(count + 1), 4);
    EM_TRY(write_all(fn, f, head, sizeof(head), tmp));
    if (body) EM_TRY(copy_body(fn, filename, f, body, tmp));
    unsigned char k4[4], meta[8 + EM_STREAM_META];
    put_le(k4, (uint32_t)klen, 4);
    EM_TRY(write_all(fn, f, k4, 4, tmp));
    EM_TRY(write_all(fn, f, key, klen, tmp));
    put_le(meta, (uint64_t)(EM_STREAM_META + bytes), 8);
    meta[8] = (unsigned char)a->type;
    for (int k = 0; k < 4; k++)
        put_le(meta + 9 + 8 * k, (uint64_t)a->dims[k], 8);
    EM_TRY(write_all(fn, f, meta, sizeof(meta), tmp));
    EM_TRY(write_all(fn, f, host, bytes, tmp));
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        EM_FAIL(AF_ERR_ARG, "writing %s failed: %s", tmp, strerror(errno));
    int closed = fclose(f);
    f = NULL;
    if (closed != 0) EM_FAIL(AF_ERR_ARG, "writing %s failed: %s", tmp, strerror(errno));
    if (rename(tmp, filename) != 0)
        EM_FAIL(AF_ERR_ARG, "argument 3 (filename): replacing %s failed: %s", filename,
                strerror(errno));
    free(tmp);
    free(host);
    *index = count;
    return AF_SUCCESS;
fail:
    if (f) fclose(f);
    if (fd >= 0) close(fd);
    if (created) unlink(tmp);
    free(tmp);
    free(host);
    return err;
}
