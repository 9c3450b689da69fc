/*
 * mem.h — allocation that cannot fail.
 *
 * Every input-driven size in LeadScore is capped before it is allocated, so
 * running out of memory means the machine is exhausted, not that the input
 * was hostile. These wrappers print one line and abort instead of threading
 * NULL checks through every caller.
 */
#ifndef LS_CORE_MEM_H
#define LS_CORE_MEM_H

#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* realloc to count * size, aborting on multiplication overflow. */
void *xreallocarray(void *p, size_t count, size_t size);
char *xstrndup(const char *s, size_t n);
char *xstrdup(const char *s);

#endif
