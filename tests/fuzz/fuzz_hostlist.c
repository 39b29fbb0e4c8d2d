/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host lists (node[1-4,7],gpu01): parsed, asked, and compressed back. */
#include "lib/hostlist.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);
    struct kiln_error err;
    struct hostlist *hl;

    if (!s)
        return 0;
    if ((hl = hostlist_parse(s, &err))) {
        hostlist_count(hl);
        hostlist_has(hl, "node1");
        hostlist_free(hl);
    }
    const char *names[3] = { s, "node1", s };
    free(hostlist_compress(names, 3));
    free(s);
    return 0;
}
