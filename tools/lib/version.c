/* version.c - the version this binary reports: git's name for the tree it was built from (Makefile). */
#include "lb.h"
#include "version.h"

const char lb_version[] = LB_VERSION;
