/* libFuzzer target: one JSON line of `village-agent import`. */
#include <stddef.h>
#include <stdint.h>

#include "agent_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    agent_import_item_t item;
    agent_import_error_t err;
    if (agent_import_parse_line((const char *) data, size, 1, &item, &err) == SJ_OK) {
        agent_import_item_free(&item);
    }
    return 0;
}
