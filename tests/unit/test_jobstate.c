/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for lib/jobstate: state names, final states, the exit
 * status of a waited-for job, and job id syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/jobstate.h"

static void states(void **state)
{
    for (int i = 0; i < JOB_NSTATES; i++)
        assert_int_equal(job_state_parse(job_state_name(i)), i);
    assert_int_equal(job_state_parse("DONE"), -1);
    assert_int_equal(job_state_parse(NULL), -1);
    assert_string_equal(job_state_name((enum job_state)JOB_NSTATES), "UNKNOWN");
    assert_true(job_state_final(JOB_SUCCEEDED));
    assert_true(job_state_final(JOB_FAILED));
    assert_false(job_state_final(JOB_RUNNING));
    assert_false(job_state_final(JOB_PENDING));
}

static void exit_status(void **state)
{
    assert_int_equal(job_exit_status(JOB_SUCCEEDED, 0), 0);
    assert_int_equal(job_exit_status(JOB_FAILED, 3), 3);
    assert_int_equal(job_exit_status(JOB_FAILED, 255), 255);
    assert_int_equal(job_exit_status(JOB_FAILED, 0), 1);  /* cancelled */
    assert_int_equal(job_exit_status(JOB_FAILED, -1), 1); /* never ran */
    assert_int_equal(job_exit_status(JOB_FAILED, 256), 1);
}

static void ids(void **state)
{
    int64_t id;
    long index;

    assert_int_equal(job_id_parse("42", &id, &index), 0);
    assert_int_equal(id, 42);
    assert_int_equal(index, -1);
    assert_int_equal(job_id_parse("7_0", &id, &index), 0);
    assert_int_equal(id, 7);
    assert_int_equal(index, 0);
    assert_int_equal(job_id_parse("9223372036854775807", &id, &index), 0);
    assert_int_equal(id, INT64_MAX);
    const char *bad[] = { "",
                          "0",
                          "-1",
                          "+1",
                          " 1",
                          "1 ",
                          "1_",
                          "_1",
                          "1_-1",
                          "1_x",
                          "x",
                          "9223372036854775808",
                          "1_2147483648",
                          "1_2_3",
                          "0x10",
                          NULL };
    for (int i = 0; bad[i]; i++)
        assert_int_equal(job_id_parse(bad[i], &id, &index), -1);
    assert_int_equal(job_id_parse(NULL, &id, &index), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(states),
        cmocka_unit_test(exit_status),
        cmocka_unit_test(ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
