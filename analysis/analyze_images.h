/* The analysis of a run on images (task mnist): the model-agnostic measures of every
 * checkpoint not yet analysed, appended to /analysis (analyze_images.c). */
#ifndef GS_ANALYZE_IMAGES_H
#define GS_ANALYZE_IMAGES_H

#include "analyze.h"

/* The run is open for analysis; its images are read from /config data_dir. 0, or -1
 * with one line in err. */
int gs_analyze_images(gs_run *run, const gs_analyze_opts *o, gs_err *err);

#endif
