/* libFuzzer target: frame decoding as a daemon does it (envelope, then every
 * event of a batch). Nothing a peer sends may crash, leak or overflow. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sj_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Sanji__Envelope *env = NULL;
    int code = 0;
    char reason[256];
    static sj_event_t ev;
    static sj_down_item_t item;
    /* The raw bytes as one event and one down item too: they arrive nested
     * in batches. */
    (void) sj_event_decode(data, size, &ev, reason, sizeof reason);
    (void) sj_down_item_decode(data, size, &item, reason, sizeof reason);
    if (sj_wire_decode(data, size, &env, &code, reason, sizeof reason) != SJ_OK) {
        return 0;
    }
    if (env->body_case == SANJI__ENVELOPE__BODY_BATCH) {
        for (size_t i = 0; i < env->batch->n_events; i++) {
            (void) sj_event_decode(env->batch->events[i].data, env->batch->events[i].len, &ev,
                                   reason, sizeof reason);
        }
    }
    if (env->body_case == SANJI__ENVELOPE__BODY_DOWN_BATCH) {
        for (size_t i = 0; i < env->down_batch->n_items; i++) {
            (void) sj_down_item_decode(env->down_batch->items[i].data,
                                       env->down_batch->items[i].len, &item, reason, sizeof reason);
        }
    }
    sj_wire_free(env);
    return 0;
}
