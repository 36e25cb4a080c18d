/* The blob store: content-addressed payloads shared by every trace under one home directory,
 * so that recordings which read the same files keep each distinct content once.
 * This module owns <home>/blobs/ and nothing else; which blobs a trace uses is the trace's
 * business, handed in to at_blob_gc as a keep() callback.
 *
 * On disk: <home>/blobs/<first 2 hex digits of the id>/<remaining 62 hex digits>, a file that
 * is exactly one zstd frame of the content, with the content size in its frame header (as
 * ZSTD_compress writes it) and nothing before or after it. The id is the SHA-256 of the
 * content (not of the frame), so any zstd level or version may have written it. Temporary
 * files in the same directories start with ".tmp-". Directories are created with mode 0700,
 * blobs with 0600.
 *
 * No global state: every function may be called from any thread or process at once. */
#ifndef AGENTTRACE_BLOBS_H
#define AGENTTRACE_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#define AT_BLOB_ID_LEN 32 /* SHA-256 */

typedef struct at_blob_id {
	uint8_t b[AT_BLOB_ID_LEN];
} at_blob_id;

/* The SHA-256 of `len` bytes at `data` (which may be NULL when len is 0), via OpenSSL's EVP
 * (libcrypto). Should libcrypto fail (it can only fail to allocate), *out is all zeros;
 * at_blob_put and at_blob_get report that failure as AT_ENOMEM instead. */
void at_blob_hash(const void *data, size_t len, at_blob_id *out);

/* The id as 64 lowercase hex digits and a NUL. */
void at_blob_hex(const at_blob_id *id, char out[2 * AT_BLOB_ID_LEN + 1]);

/* Parses exactly 64 lowercase hex digits (what at_blob_hex writes) into *out.
 * Returns 0, or AT_EINVAL (and leaves *out alone) for anything else, including NULL. */
int at_blob_parse(const char *hex, at_blob_id *out);

/* Stores `len` bytes at `data` under their SHA-256, returned in *out. Idempotent: if the
 * blob exists it is neither read nor rewritten (so a damaged one stays damaged). Otherwise
 * the content is compressed (zstd level 3) into a temporary file in the blob's directory and
 * renamed into place, so a blob under its real name is always whole. With `durable`, the
 * file and its directory are fsync'd, also when it already existed, so the blob survives a
 * power cut once this returns. Creates the directories it needs. Returns 0, or AT_EINVAL
 * (home NULL or too long), AT_ENOSPC (also for a full quota), AT_EIO (errno says why),
 * AT_ECOMPRESS, AT_ENOMEM. */
int at_blob_put(const char *home, const void *data, size_t len, int durable, at_blob_id *out);

/* 1 if a file exists under the blob's name, else 0. Does not read or check it. */
int at_blob_exists(const char *home, const at_blob_id *id);

/* Reads a blob, decompresses it and checks its SHA-256 against `id`. On success *data is
 * malloc'd (caller frees) and holds *len bytes; a zero-length blob gives a non-NULL 1-byte
 * allocation and *len 0. On failure *data is NULL and *len 0. Returns 0, or
 * AT_EIO with errno ENOENT when there is no such blob (other errno values: other I/O errors),
 * AT_ECORRUPT when the file is not one whole zstd frame or the content's hash differs,
 * AT_ENOMEM, AT_EINVAL (home NULL or too long). */
int at_blob_get(const char *home, const at_blob_id *id, void **data, size_t *len);

/* "<home>/blobs/xx/<62 hex>" into `out` (for messages). 0, or AT_EINVAL if it does not fit
 * in `cap` bytes or home is NULL. */
int at_blob_path(const char *home, const at_blob_id *id, char *out, size_t cap);

/* Garbage collection: removes every blob for which keep(id, ctx) returns 0, and temporary
 * files not written to for an hour (left by a put that crashed). Files it does not recognise
 * are left alone, and so are the directories. *removed and *bytes (either may be NULL) count
 * the blobs removed and their size on disk (compressed), also when it fails part way.
 * A put's blob is removable as soon as it is written: the caller must make keep() return 1
 * for blobs of recordings still in progress, or not collect while any is.
 * Returns 0 (also when there is no blobs/ yet), AT_EINVAL, or AT_EIO. */
typedef int (*at_blob_keep_fn)(const at_blob_id *id, void *ctx);
int at_blob_gc(const char *home, at_blob_keep_fn keep, void *ctx, uint64_t *removed,
               uint64_t *bytes);

#endif
