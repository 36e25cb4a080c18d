/* Error codes shared by every agenttrace library.
 * Library functions return 0 (or a count) on success and a negative AT_E* code on failure;
 * the numbers are stable because tools and tests compare them. Only cli/ turns them into
 * messages for users and exit statuses. */
#ifndef AGENTTRACE_ERRORS_H
#define AGENTTRACE_ERRORS_H

enum at_error {
	AT_OK = 0,
	AT_EINVAL = -1,      /* a bad argument from the caller */
	AT_ENOMEM = -2,      /* out of memory */
	AT_EIO = -3,         /* an I/O error; errno holds the details */
	AT_ENOSPC = -4,      /* no space left on the device (or quota) */
	AT_ECORRUPT = -5,    /* a CRC, magic or structure check failed */
	AT_ETRUNCATED = -6,  /* the file ends before its structure does */
	AT_EVERSION = -7,    /* written by a newer agenttrace than this one can read */
	AT_ENOTRACE = -8,    /* no trace has that id, prefix or name */
	AT_EAMBIGUOUS = -9,  /* an id prefix or name that matches several traces */
	AT_EEXIST = -10,     /* the thing to create already exists */
	AT_ECODEC = -11,     /* an event that the codec cannot represent or decode */
	AT_ENOTSEALED = -12, /* the recording has not been sealed into a trace yet */
	AT_ECOMPRESS = -13,  /* zstd refused to compress or decompress */
};

/* A short, static description of an AT_E* code ("chunk failed its CRC32C check"). */
const char *at_strerror(int code);

#endif
