/* sj_form: see sj_form.h. */
#include "sj_form.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sj_model.h"

static int
s_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Decodes s[0..n) into a new string; NULL with *bad set on a bad escape. */
static char *
s_decode(const char *s, size_t n, int *bad)
{
    char *out = malloc(n + 1);
    if (!out) {
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? s_hex(s[i + 1]) : -1;
            int lo = i + 2 < n ? s_hex(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                *bad = 1;
                return NULL;
            }
            out[o++] = (char) (hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    if (!sj_utf8_valid(out, o)) {
        free(out);
        *bad = 2;
        return NULL;
    }
    return out;
}

int
sj_form_parse(sj_form_t *form, const char *body, size_t len, char *err, size_t err_size)
{
    memset(form, 0, sizeof *form);
    if (len > SJ_FORM_MAX_BYTES) {
        snprintf(err, err_size, "the form is larger than %d bytes", SJ_FORM_MAX_BYTES);
        return SJ_EINVAL;
    }
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(body + i, '&', len - i);
        size_t end = amp ? (size_t) (amp - body) : len;
        if (end > i) {
            const char *eq = memchr(body + i, '=', end - i);
            size_t nend = eq ? (size_t) (eq - body) : end;
            if (form->n == SJ_FORM_MAX_FIELDS) {
                snprintf(err, err_size, "the form has more than %d fields", SJ_FORM_MAX_FIELDS);
                goto bad;
            }
            int bad = 0;
            char *name = s_decode(body + i, nend - i, &bad);
            char *value =
                name ? s_decode(eq ? eq + 1 : body + end, eq ? end - nend - 1 : 0, &bad) : NULL;
            if (!name || !value) {
                free(name);
                if (!bad) {
                    sj_form_free(form);
                    return SJ_ENOMEM;
                }
                snprintf(err, err_size, "the form is not %s",
                         bad == 1 ? "URL-encoded (a bad %XX escape)" : "UTF-8 text");
                goto bad;
            }
            if (sj_form_get(form, name)) {
                snprintf(err, err_size, "the form field '%.64s' is given twice", name);
                free(name);
                free(value);
                goto bad;
            }
            form->names[form->n] = name;
            form->values[form->n] = value;
            form->n++;
        }
        i = end + 1;
    }
    return SJ_OK;
bad:
    sj_form_free(form);
    return SJ_EINVAL;
}

const char *
sj_form_get(const sj_form_t *form, const char *name)
{
    for (size_t i = 0; i < form->n; i++) {
        if (strcmp(form->names[i], name) == 0) {
            return form->values[i];
        }
    }
    return NULL;
}

const char *
sj_form_val(const sj_form_t *form, const char *name)
{
    const char *v = sj_form_get(form, name);
    return v && v[0] ? v : NULL;
}

void
sj_form_free(sj_form_t *form)
{
    for (size_t i = 0; i < form->n; i++) {
        free(form->names[i]);
        free(form->values[i]);
    }
    memset(form, 0, sizeof *form);
}

/* ---- page buffer ---- */

static int
s_grow(sj_buf_t *b, size_t more)
{
    if (b->oom) {
        return 0;
    }
    if (b->len + more + 1 <= b->cap) {
        return 1;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1) {
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return 0;
    }
    b->p = p;
    b->cap = cap;
    return 1;
}

static void
s_add_n(sj_buf_t *b, const char *text, size_t n)
{
    if (!s_grow(b, n)) {
        return;
    }
    memcpy(b->p + b->len, text, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void
sj_buf_add(sj_buf_t *b, const char *text)
{
    if (text) {
        s_add_n(b, text, strlen(text));
    }
}

void
sj_buf_addf(sj_buf_t *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t) n < sizeof small) {
        s_add_n(b, small, (size_t) n);
        return;
    }
    if (!s_grow(b, (size_t) n)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
}

void
sj_buf_esc(sj_buf_t *b, const char *text)
{
    if (!text) {
        return;
    }
    for (const char *s = text; *s;) {
        size_t run = strcspn(s, "&<>\"'");
        s_add_n(b, s, run);
        s += run;
        if (!*s) {
            break;
        }
        const char *ent = *s == '&'   ? "&amp;"
                          : *s == '<' ? "&lt;"
                          : *s == '>' ? "&gt;"
                          : *s == '"' ? "&quot;"
                                      : "&#39;";
        sj_buf_add(b, ent);
        s++;
    }
}

void
sj_buf_free(sj_buf_t *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

size_t
sj_utf8_chars(const char *text)
{
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *) text; *s; s++) {
        n += (*s & 0xC0) != 0x80;
    }
    return n;
}
