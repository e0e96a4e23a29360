/* sj_err: error codes shared by every sanji module.
 * A function that can fail returns SJ_OK (0) or a negative SJ_E* code. */
#ifndef SJ_ERR_H
#define SJ_ERR_H

#define SJ_NODISCARD __attribute__((warn_unused_result))

enum {
    SJ_OK = 0,
    SJ_ENOMEM = -1,     /* out of memory */
    SJ_EINVAL = -2,     /* bad argument or bad input */
    SJ_EPROTO = -3,     /* a peer sent bad data */
    SJ_EIO = -4,        /* file or socket error */
    SJ_EDB = -5,        /* database error */
    SJ_EAGAIN = -6,     /* busy, retry with backoff */
    SJ_ETIMEDOUT = -7,  /* deadline passed */
    SJ_ECLOSED = -8,    /* peer or object closed */
    SJ_ENOTFOUND = -9,  /* no such thing */
    SJ_EFULL = -10,     /* disk full */
    SJ_EFORBIDDEN = -11 /* identity or policy refused */
};

/* Returns a static English text for an SJ_* code. */
const char *sj_strerror(int code);

#endif
