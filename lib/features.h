/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Node features and --constraint expressions: "avx512", "a&b", "a|b",
 * "a,b" (as &).  & binds tighter than |; no parentheses.  Pure; tested in
 * test_features. */
#ifndef KILN_FEATURES_H
#define KILN_FEATURES_H

#include <stdbool.h>

/* Is s a list of feature names separated by ',' (names: 1-64 letters,
 * digits and ._-)? */
bool features_list_ok(const char *s);

/* Is expr a valid constraint expression? */
bool features_expr_ok(const char *expr);

/* Does a node whose features are list (comma separated, may be NULL)
 * satisfy expr? */
bool features_match(const char *expr, const char *list);

#endif
