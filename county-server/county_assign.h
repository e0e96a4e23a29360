/* county_assign: `county-server assign` (issue 4, 交办), a small hook in
 * county_main like county_cases: main asks county_assign_handles() and, when
 * it says yes, returns county_assign_main(). Exit 0 ok, 1 refused or failed
 * (nothing stored), 2 bad usage. */
#ifndef COUNTY_ASSIGN_H
#define COUNTY_ASSIGN_H

#include <getopt.h>

/* True when argv's command word is assign. */
int county_assign_handles(int argc, char *const *argv);
/* assign's option table (also the keys of [assign] in the config file). */
extern const struct option county_assign_options[];
/* Runs the command; returns the process exit status. */
int county_assign_main(int argc, char **argv);

#endif
