/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Array specifications (0-99:3%5) as sbatch --array takes them. */
#include "lib/arrayspec.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);
    struct kiln_error err;
    long *idx = NULL, throttle;
    size_t n;

    if (!s)
        return 0;
    if (arrayspec_parse(s, &idx, &n, &throttle, &err) == 0) {
        if (n)
            arrayspec_find(idx, n, idx[n / 2]);
        free(idx);
    }
    free(s);
    return 0;
}
