/* The one bridge from the command line's internal types to the public API: train's
 * option parser (src/cmd_train.c, shared with sweep's point checks) fills a gs_config,
 * which the command then hands to grokscope_train_create. Not installed, not exported
 * from the shared library (docs/api.md). */
#ifndef GSL_CLI_H
#define GSL_CLI_H

#include "config.h"
#include "grokscope.h"

/* A new grokscope_config holding *cfg (NULL when out of memory). */
grokscope_config *gsl_config_from(const gs_config *cfg);

#endif
