/* Do the test vectors of docs/PROTOCOL.md (tests/data/vectors/events.json)
 * hold for this code: each event, built from its fields, packs to exactly
 * the bytes given, hashes (BLAKE2b-256) to the hash given, chains to the one
 * before it, and decodes back to its fields; and is a key's fingerprint
 * what the document says? Another implementation checks itself against the
 * same file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "sj_keys.h"
#include "sj_wire.h"

#ifndef SANJI_TEST_DATA
#error "SANJI_TEST_DATA (tests/data) comes from tests/CMakeLists.txt"
#endif

static cJSON *
s_load(void)
{
    FILE *f = fopen(SANJI_TEST_DATA "/vectors/events.json", "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 16);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    assert_true(n > 0);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    assert_non_null(doc);
    return doc;
}

static const char *
s_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static double
s_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* Hex text into out (exactly n bytes expected when n > 0); returns the length. */
static size_t
s_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t len = strlen(hex) / 2;
    assert_true(strlen(hex) % 2 == 0 && len <= cap);
    for (size_t i = 0; i < len; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t) v;
    }
    return len;
}

static int
s_enum(sj_field_t f, const cJSON *o, const char *key)
{
    int v = sj_enum_value(f, s_str(o, key));
    assert_true(v > 0);
    return v;
}

/* The event of vector v, built from its fields. */
static void
s_build(const cJSON *v, sj_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    assert_int_equal(s_hex(s_str(v, "id"), ev->id, SJ_ID_BYTES), SJ_ID_BYTES);
    snprintf(ev->origin, sizeof ev->origin, "%s", s_str(v, "origin"));
    assert_int_equal(s_hex(s_str(v, "epoch"), ev->epoch, SJ_EPOCH_BYTES), SJ_EPOCH_BYTES);
    ev->origin_seq = (uint64_t) s_num(v, "origin_seq");
    ev->created_ms = (int64_t) s_num(v, "created_ms");
    assert_int_equal(s_hex(s_str(v, "prev_hash"), ev->prev_hash, SJ_HASH_BYTES), SJ_HASH_BYTES);
    const char *type = s_str(v, "type");
    if (strcmp(type, "report") == 0) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(v, "report");
        ev->type = SJ_EVENT_REPORT;
        snprintf(ev->report.occurred_on, sizeof ev->report.occurred_on, "%s",
                 s_str(r, "occurred_on"));
        ev->report.channel = s_enum(SJ_FIELD_CHANNEL, r, "channel");
        ev->report.kind = s_enum(SJ_FIELD_KIND, r, "kind");
        ev->report.persons = (uint32_t) s_num(r, "persons");
        ev->report.level = s_enum(SJ_FIELD_LEVEL, r, "level");
        ev->report.category = s_enum(SJ_FIELD_CATEGORY, r, "category");
        ev->report.outcome = s_enum(SJ_FIELD_OUTCOME, r, "outcome");
        ev->report.source = s_enum(SJ_FIELD_SOURCE, r, "source");
        snprintf(ev->summary, sizeof ev->summary, "%s", s_str(r, "summary"));
        snprintf(ev->officer, sizeof ev->officer, "%s", s_str(r, "officer"));
        ev->report.summary = ev->summary;
        ev->report.officer = ev->officer;
        if (cJSON_GetObjectItemCaseSensitive(r, "sealed_personal")) {
            ev->sealed_len = s_hex(s_str(r, "sealed_personal"), ev->sealed, sizeof ev->sealed);
            assert_int_equal(s_hex(s_str(r, "sealed_to"), ev->sealed_to, SJ_KEY_FP_BYTES),
                             SJ_KEY_FP_BYTES);
            ev->has_sealed_to = 1;
        }
    } else {
        assert_string_equal(type, "status_change");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "status_change");
        ev->type = SJ_EVENT_STATUS;
        assert_int_equal(s_hex(s_str(c, "case_id"), ev->case_id, SJ_ID_BYTES), SJ_ID_BYTES);
        ev->new_outcome = s_enum(SJ_FIELD_OUTCOME, c, "outcome");
        ev->prev_outcome = s_enum(SJ_FIELD_OUTCOME, c, "prev_outcome");
        snprintf(ev->note, sizeof ev->note, "%s", s_str(c, "note"));
        snprintf(ev->officer, sizeof ev->officer, "%s", s_str(c, "officer"));
    }
}

static void
test_vectors_events(void **state)
{
    (void) state;
    cJSON *doc = s_load();
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "events");
    assert_true(cJSON_GetArraySize(events) >= 3);
    sj_event_t *ev = malloc(sizeof *ev), *back = malloc(sizeof *back);
    uint8_t prev[SJ_HASH_BYTES] = {0}, want[SJ_WIRE_MAX_EVENT], hash[SJ_HASH_BYTES];
    const cJSON *v;
    cJSON_ArrayForEach(v, events)
    {
        fprintf(stderr, "# %s\n", s_str(v, "name"));
        s_build(v, ev);
        /* the chain: prev_hash is the hash of the event before (zeros at 1) */
        assert_memory_equal(ev->prev_hash, prev, SJ_HASH_BYTES);
        uint8_t *raw = NULL;
        size_t len = 0;
        assert_int_equal(sj_event_encode(ev, &raw, &len), SJ_OK);
        size_t want_len = s_hex(s_str(v, "packed_hex"), want, sizeof want);
        assert_int_equal(len, want_len);
        assert_memory_equal(raw, want, len);
        sj_event_hash(raw, len, hash);
        uint8_t want_hash[SJ_HASH_BYTES];
        s_hex(s_str(v, "blake2b_256_hex"), want_hash, sizeof want_hash);
        assert_memory_equal(hash, want_hash, SJ_HASH_BYTES);
        char why[256];
        assert_int_equal(sj_event_decode(want, want_len, back, why, sizeof why), SJ_OK);
        assert_memory_equal(back->id, ev->id, SJ_ID_BYTES);
        assert_string_equal(back->origin, ev->origin);
        assert_int_equal(back->origin_seq, ev->origin_seq);
        assert_int_equal(back->created_ms, ev->created_ms);
        assert_int_equal(back->type, ev->type);
        if (ev->type == SJ_EVENT_REPORT) {
            assert_string_equal(back->summary, ev->summary);
            assert_int_equal(back->report.persons, ev->report.persons);
            assert_int_equal(back->has_sealed_to, ev->has_sealed_to);
        } else {
            assert_memory_equal(back->case_id, ev->case_id, SJ_ID_BYTES);
            assert_int_equal(back->new_outcome, ev->new_outcome);
        }
        memcpy(prev, hash, SJ_HASH_BYTES);
        free(raw);
    }
    free(ev);
    free(back);
    cJSON_Delete(doc);
}

static void
test_vectors_fingerprint(void **state)
{
    (void) state;
    cJSON *doc = s_load();
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(doc, "fingerprint");
    uint8_t pk[SJ_KEY_BYTES], z85pk[SJ_KEY_BYTES];
    assert_int_equal(s_hex(s_str(fp, "public_key_hex"), pk, sizeof pk), SJ_KEY_BYTES);
    assert_int_equal(sj_key_decode(s_str(fp, "public_key_z85"), z85pk), SJ_OK);
    assert_memory_equal(pk, z85pk, SJ_KEY_BYTES);
    char text[SJ_KEY_FP_TEXT];
    sj_key_fingerprint_text(pk, text);
    assert_string_equal(text, s_str(fp, "fingerprint"));
    cJSON_Delete(doc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_events),
        cmocka_unit_test(test_vectors_fingerprint),
    };
    return cmocka_run_group_tests_name("vectors", tests, NULL, NULL);
}
