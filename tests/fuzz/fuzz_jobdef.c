/* SPDX-License-Identifier: GPL-2.0-or-later */
/* AWS Batch job definitions as kiln jobdef register takes them, and the
 * job parts one that passes becomes. */
#include "lib/jobdef.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *o = json_loadb((const char *)data, size, 0, NULL), *params;
    struct kiln_error err;

    if (!o)
        return 0;
    if (jobdef_check(o, &err) == 0) {
        long n = jobdef_num_nodes(o), v, m, g;
        params = json_pack("{s:s}", "who", "fuzz");
        for (long i = 0; i < n && i < 4; i++) {
            free(jobdef_script(o, i, params, &err));
            jobdef_resources(o, i, &v, &m, &g);
            jobdef_container(o, i);
        }
        json_decref(params);
    }
    json_decref(o);
    return 0;
}
