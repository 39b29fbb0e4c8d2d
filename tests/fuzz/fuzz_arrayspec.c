/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Array specifications (0-99:3%5) as sbatch --array takes them: the check
 * agrees with the parse, and every position maps to an index and back. */
#include <assert.h>

#include "lib/arrayspec.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size);
    struct kiln_error err;
    struct arrayspec a;

    if (!s)
        return 0;
    int checked = arrayspec_check(s, &err);
    if (arrayspec_parse(s, &a, &err) == 0) {
        assert(checked == 0);
        for (size_t pos = 0; pos < a.n; pos += a.n / 7 + 1) {
            long index = arrayspec_at(&a, pos);
            assert(arrayspec_find(&a, index) == (long)pos);
            assert(arrayspec_find(&a, index + 1) != (long)pos);
        }
        arrayspec_release(&a);
    }
    free(s);
    return 0;
}
