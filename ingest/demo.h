/*
 * demo.h — `lomsong demo`: demo data loaded through the real pipelines.
 */
#ifndef LS_INGEST_DEMO_H
#define LS_INGEST_DEMO_H

#include "../api/config.h"

/* `lomsong demo [--points N] [--seed N]`; returns the exit code. */
int ingest_demo_cli(const ls_config *cfg, int argc, char **argv);

#endif
