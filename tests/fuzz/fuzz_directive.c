/* SPDX-License-Identifier: GPL-2.0-or-later */
/* #KILN and #SBATCH lines of a job script, and the dependency and
 * feature strings those options carry. */
#include "lib/directive.h"
#include "lib/features.h"
#include "lib/jobspec.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);
    struct kiln_error err;
    int argc;
    char **argv;

    if (!s)
        return 0;
    if ((argv = directive_parse(s, "kiln", &argc, &err)))
        directive_free(argv);
    char *a = fuzz_part(s, 0), *b = fuzz_part(s, 1);
    json_decref(jobspec_parse_dependencies(a, NULL, &err));
    json_decref(jobspec_parse_dependencies(NULL, b, &err));
    features_list_ok(a);
    if (features_expr_ok(a))
        features_match(a, b);
    free(a);
    free(b);
    free(s);
    return 0;
}
