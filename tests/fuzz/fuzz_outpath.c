/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Output file patterns (-o, -e) expanded with names users choose: never
 * past PATH_MAX, never out of bounds. */
#include "lib/outpath.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);

    if (!s)
        return 0;
    char *pat = fuzz_part(s, 0), *name = fuzz_part(s, 1),
         *user = fuzz_part(s, 2), *cwd = fuzz_part(s, 3);
    struct outpath_names v = { .cwd = *cwd ? cwd : "/",
                               .name = name,
                               .user = user,
                               .node = name,
                               .id = (int64_t)size * 1000003,
                               .array_id = (int64_t)size,
                               .array_index = (long)size };
    free(outpath_expand(pat, &v));
    free(pat);
    free(name);
    free(user);
    free(cwd);
    free(s);
    return 0;
}
