/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A job as job.submit carries it (JSON, checked field by field), and the
 * retry strategy inside it; what passes goes back to JSON and again. */
#include "lib/jobspec.h"
#include "lib/retry.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *o = json_loadb((const char *)data, size, 0, NULL);
    struct kiln_error err;
    struct jobspec js;

    if (!o)
        return 0;
    if (jobspec_from_json(o, &js, &err) == 0) {
        json_t *back = jobspec_to_json(&js);
        struct jobspec again;
        if (back && jobspec_from_json(back, &again, &err) == 0)
            jobspec_release(&again);
        json_decref(back);
        jobspec_release(&js);
    }
    json_t *retry = json_object_get(o, "retry_strategy");
    if (!retry)
        retry = o;
    if (retry_check(retry, &err) == 0) {
        retry_attempts(retry);
        retry_decide(retry, 1, 3, "exit code 3", "Host EC2 terminated");
    }
    json_decref(o);
    return 0;
}
