/* Names for AT_E* codes. Static strings only: callers add the file, chunk or step. */
#include "agenttrace/errors.h"

const char *at_strerror(int code)
{
	switch (code) {
	case AT_OK: return "success";
	case AT_EINVAL: return "invalid argument";
	case AT_ENOMEM: return "out of memory";
	case AT_EIO: return "input/output error";
	case AT_ENOSPC: return "no space left on device";
	case AT_ECORRUPT: return "damaged data (a check failed)";
	case AT_ETRUNCATED: return "file is truncated";
	case AT_EVERSION: return "written by a newer agenttrace";
	case AT_ENOTRACE: return "no such trace";
	case AT_EAMBIGUOUS: return "ambiguous trace prefix";
	case AT_EEXIST: return "already exists";
	case AT_ECODEC: return "event cannot be encoded";
	case AT_ENOTSEALED: return "recording not sealed yet";
	case AT_ECOMPRESS: return "compression failed";
	default: return "unknown error";
	}
}
