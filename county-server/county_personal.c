/* county_personal: opening sealed petitioner fields, see county_personal.h. */
#include "county_personal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "county_sql.h"
#include "sj_i18n.h"
#include "sj_ids.h"
#include "sj_keys.h"
#include "sj_model.h"

const char *const county_personal_names[COUNTY_PERSONAL_NCOLS] = {
    "petitioner_name", "petitioner_id", "petitioner_phone", "petitioner_address"};

static void
s_empty(county_personal_t *out)
{
    for (int i = 0; i < COUNTY_PERSONAL_NCOLS; i++) {
        out->text[i][0] = '\0';
        out->cells[i] = out->text[i];
    }
}

int
county_personal_open(const void *sealed, size_t len, const sj_keypair_t *kp, county_personal_t *out)
{
    s_empty(out);
    if (!sealed || len == 0) {
        return SJ_OK;
    }
    char *json = NULL;
    if (sj_personal_open(sealed, len, kp->pk, kp->sk, &json) != SJ_OK) {
        return SJ_EINVAL;
    }
    cJSON *obj = cJSON_Parse(json);
    for (int i = 0; obj && i < COUNTY_PERSONAL_NCOLS; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, county_personal_names[i]);
        if (cJSON_IsString(v)) {
            snprintf(out->text[i], COUNTY_PERSONAL_MAX, "%s", v->valuestring);
        }
    }
    int rc = obj ? SJ_OK : SJ_EINVAL;
    cJSON_Delete(obj);
    sodium_memzero(json, strlen(json));
    free(json);
    return rc;
}

void
county_personal_wipe(county_personal_t *p)
{
    sodium_memzero(p->text, sizeof p->text);
}

int
county_personal_read(sqlite3 *db,
                     const char *id_text,
                     const sj_keypair_t *kp,
                     county_personal_t *out,
                     int *none,
                     char *err,
                     size_t err_size)
{
    static const char sql[] = "SELECT sealed FROM matters WHERE id = ?";
    s_empty(out);
    *none = 1;
    uint8_t id[SJ_ID_BYTES];
    if (!id_text || sj_uuid_parse(id_text, id) != SJ_OK) {
        snprintf(err, err_size, _("'%s' is not a UUID"), id_text ? id_text : "");
        return SJ_EINVAL;
    }
    sqlite3_stmt *st = NULL;
    int rc = county_sql_matter_row(db, sql, id, id_text, &st, err, err_size);
    if (rc != SJ_OK) {
        return rc;
    }
    *none = sqlite3_column_type(st, 0) == SQLITE_NULL;
    if (county_personal_open(sqlite3_column_blob(st, 0), (size_t) sqlite3_column_bytes(st, 0), kp,
                             out)
        != SJ_OK) {
        snprintf(err, err_size, _("the personal data of %s does not open with this county key"),
                 id_text);
        rc = SJ_EINVAL;
    }
    sqlite3_finalize(st);
    return rc;
}
