/* The one bridge left from the public API to the command line's internal types: the
 * sweep commands (src/sweep_cli.c, still on sweep/, see docs/api.md) compare each
 * point's configuration, parsed by train's parser into a grokscope_config, with the
 * internal gs_config of its run file. Not installed, not exported from the shared
 * library. */
#ifndef GSL_CLI_H
#define GSL_CLI_H

#include "config.h"
#include "grokscope.h"

/* The internal configuration inside cfg (owned by cfg). */
const gs_config *gsl_config_internal(const grokscope_config *cfg);

#endif
