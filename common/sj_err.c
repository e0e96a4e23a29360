#include "sj_err.h"

const char *
sj_strerror(int code)
{
    switch (code) {
    case SJ_OK:
        return "ok";
    case SJ_ENOMEM:
        return "out of memory";
    case SJ_EINVAL:
        return "invalid argument";
    case SJ_EPROTO:
        return "protocol error";
    case SJ_EIO:
        return "input/output error";
    case SJ_EDB:
        return "database error";
    case SJ_EAGAIN:
        return "busy, try again";
    case SJ_ETIMEDOUT:
        return "timed out";
    case SJ_ECLOSED:
        return "closed";
    case SJ_ENOTFOUND:
        return "not found";
    case SJ_EFULL:
        return "disk full";
    case SJ_EFORBIDDEN:
        return "forbidden";
    default:
        return "unknown error";
    }
}
