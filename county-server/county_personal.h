/* county_personal: the petitioner's personal data (name, ID number, phone,
 * address), sealed at the station to the county's public key. This is the
 * only module of the county that opens it (sj_personal_open): `list` and
 * `export` --with-personal through county_list, `show --with-personal`
 * through county_personal_read. Every other view only says whether sealed
 * data exists.
 *
 * Opened text lives in a county_personal_t that the caller wipes with
 * county_personal_wipe as soon as it is written out; it never goes to the
 * log. */
#ifndef COUNTY_PERSONAL_H
#define COUNTY_PERSONAL_H

#include <sqlite3.h>
#include <stddef.h>

#include "sj_auth.h"
#include "sj_err.h"

#define COUNTY_PERSONAL_NCOLS 4   /* the petitioner fields */
#define COUNTY_PERSONAL_MAX   512 /* bytes kept of one field, NUL included */

/* "petitioner_name", "petitioner_id", "petitioner_phone",
 * "petitioner_address": the column names, in order. */
extern const char *const county_personal_names[COUNTY_PERSONAL_NCOLS];

/* The opened fields of one matter: cells[i] points into text[i] ("" when
 * the field is absent). */
typedef struct {
    char text[COUNTY_PERSONAL_NCOLS][COUNTY_PERSONAL_MAX];
    const char *cells[COUNTY_PERSONAL_NCOLS];
} county_personal_t;

/* Opens a sealed blob (sealed, len; none when len is 0) with the county key
 * pair kp (borrowed) into *out. Returns SJ_OK (also for no blob: empty
 * cells), or SJ_EINVAL when the blob does not open with kp or is not the
 * fields' JSON (empty cells). */
SJ_NODISCARD int county_personal_open(const void *sealed,
                                      size_t len,
                                      const sj_keypair_t *kp,
                                      county_personal_t *out);
/* Zeroes every opened byte of p. */
void county_personal_wipe(county_personal_t *p);

/* show --with-personal: reads matter id_text's (a UUID) sealed fields and
 * opens them with kp into *out (wipe it after use); *none is 1 when the
 * matter has no sealed data (empty cells). Returns SJ_OK; SJ_EINVAL (not a
 * UUID, or sealed to another key); SJ_ENOTFOUND (no such matter); SJ_EDB,
 * SJ_EAGAIN, SJ_ENOMEM; err says why. */
SJ_NODISCARD int county_personal_read(sqlite3 *db,
                                      const char *id_text,
                                      const sj_keypair_t *kp,
                                      county_personal_t *out,
                                      int *none,
                                      char *err,
                                      size_t err_size);

#endif
