/* sj_form: what a page that writes needs besides the server (sj_http.h):
 *   - parsing a form body (application/x-www-form-urlencoded, UTF-8);
 *   - building an HTML page in memory with every piece of text escaped
 *     (so a summary "<script>" stays text, as textContent would show it).
 * No I/O and no libmicrohttpd here, so unit tests use it directly. */
#ifndef SJ_FORM_H
#define SJ_FORM_H

#include <stddef.h>

#include "sj_err.h"

#define SJ_FORM_MAX_FIELDS 64          /* fields per form (more: refused) */
#define SJ_FORM_MAX_BYTES  (64 * 1024) /* body bytes (more: refused) */

/* A parsed form: names and values decoded ('+' is a space, %XX a byte),
 * each valid UTF-8 without NUL. Owned by the form. */
typedef struct {
    size_t n;
    char *names[SJ_FORM_MAX_FIELDS];
    char *values[SJ_FORM_MAX_FIELDS];
} sj_form_t;

/* Parses len bytes of body into form (zeroed first). A name given twice,
 * a bad %XX escape, bytes that are not UTF-8, more than SJ_FORM_MAX_FIELDS
 * fields or SJ_FORM_MAX_BYTES bytes: SJ_EINVAL with the reason in err and
 * nothing kept. SJ_ENOMEM when out of memory. */
SJ_NODISCARD int
sj_form_parse(sj_form_t *form, const char *body, size_t len, char *err, size_t err_size);
/* The value of name, NULL when absent. */
const char *sj_form_get(const sj_form_t *form, const char *name);
/* The value of name, NULL when absent or empty (a blank field of a page). */
const char *sj_form_val(const sj_form_t *form, const char *name);
void sj_form_free(sj_form_t *form);

/* A growing text buffer for a page. After a failed allocation every call
 * does nothing and oom is set: check it once at the end. */
typedef struct {
    char *p;    /* NUL-terminated text (NULL until something is added) */
    size_t len; /* bytes in p */
    size_t cap;
    int oom;
} sj_buf_t;

/* Appends text as it is (markup written by the page itself). */
void sj_buf_add(sj_buf_t *b, const char *text);
/* Appends a printf-formatted text as it is: use only for numbers and
 * markup; text from a person or the store goes through sj_buf_esc. */
void sj_buf_addf(sj_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends text HTML-escaped (& < > " ' become entities), fit for element
 * content and quoted attribute values. NULL appends nothing. */
void sj_buf_esc(sj_buf_t *b, const char *text);
void sj_buf_free(sj_buf_t *b);

/* The number of characters (code points) of UTF-8 text. */
size_t sj_utf8_chars(const char *text);

#endif
