#pragma once
// The libfuse API kvfs builds on: the low-level interface of libfuse 3.14, and
// nothing newer (the installed library). Include this instead of fuse_lowlevel.h.

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
