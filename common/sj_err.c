#include "sj_err.h"
#include "sj_i18n.h"

/* The texts are marked N_(): they stay English here (logs, protocol
 * reasons); a CLI that prints one to a person translates it there:
 * _(sj_strerror(rc)). */

const char *
sj_strerror(int code)
{
    switch (code) {
    case SJ_OK:
        return N_("ok");
    case SJ_ENOMEM:
        return N_("out of memory");
    case SJ_EINVAL:
        return N_("invalid argument");
    case SJ_EPROTO:
        return N_("protocol error");
    case SJ_EIO:
        return N_("input/output error");
    case SJ_EDB:
        return N_("database error");
    case SJ_EAGAIN:
        return N_("busy, try again");
    case SJ_ETIMEDOUT:
        return N_("timed out");
    case SJ_ECLOSED:
        return N_("closed");
    case SJ_ENOTFOUND:
        return N_("not found");
    case SJ_EFULL:
        return N_("disk full");
    case SJ_EFORBIDDEN:
        return N_("forbidden");
    default:
        return N_("unknown error");
    }
}
