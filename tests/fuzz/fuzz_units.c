/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Time limits, memory sizes and counts, as users write them. */
#include "lib/units.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size), buf[64];
    int64_t v;
    long c;

    if (!s)
        return 0;
    if (units_parse_time(s, &v) == 0)
        units_format_elapsed(v, buf, sizeof(buf));
    units_parse_mem(s, &v);
    units_parse_count(s, 1000000, &c);
    free(s);
    return 0;
}
