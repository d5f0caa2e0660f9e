/*
 * The findings as slices of the Perfetto trace (findings_trace.h): the same
 * computation as the terminal's and the JSON's (findings.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include "findings.h"
#include "findings_trace.h"
#include "pftrace.h"
#include "render.h"
#include "summary.h"

/* A loop's longest episodes, inside its finding's slice. */
static int episodes_trace(struct cs_pf_writer *w, const struct cs_core *c,
			  const struct cs_thread *t)
{
	const struct cs_loop *lp = t->loop;
	char name[96], dur[32];
	unsigned int i;
	int ret = 0;

	(void)c;
	if (lp && lp->ntop)
		ret = cs_pf_track(w, CS_PF_UUID_EPISODES, "concscope loop episodes");
	for (i = 0; lp && i < lp->ntop && !ret; i++) {
		const struct cs_episode *e = &lp->top[i];
		const char *call = e->call < 0 ? "" : e->call_lock ? "lock" : cs_syscall_name(e->call);
		struct cs_pf_arg args[] = {
			{ "tid", NULL, t->tid },
			{ "call", call ? call : "", 0 },
			{ "call_ns", NULL, e->call_ns },
			{ "running_ns", NULL, e->ns[CS_ST_RUNNING] },
			{ "ready_ns", NULL, e->ns[CS_ST_READY] },
		};

		cs_fmt_ns(dur, sizeof(dur), e->dur);
		snprintf(name, sizeof(name), "episode %s%s%s", dur, *args[1].str ? " in " : "",
			 args[1].str);
		ret = cs_pf_slice(w, CS_PF_UUID_EPISODES, e->start, e->dur, name, args,
				  sizeof(args) / sizeof(args[0]));
	}
	return ret;
}

int cs_findings_trace(struct cs_pf_writer *w, const struct cs_core *c, unsigned int ncpus,
		      const struct cs_findings *findings)
{
	struct cs_findings *own;
	const struct cs_findings *fs = cs_findings_get(findings, c, ncpus, &own);
	uint64_t begin = cs_core_begin(c), dur = cs_core_duration(c);
	char name[64], ex[32], tids[96];
	size_t i;
	int ret = 0;

	if (!fs)
		return 0; /* the trace is whole without them */
	if (fs->n && dur)
		ret = cs_pf_track(w, CS_PF_UUID_FINDINGS, "concscope findings");
	for (i = 0; i < fs->n && dur && !ret; i++) {
		const struct cs_finding *fd = &fs->f[i];
		size_t k, len = 0;
		struct cs_pf_arg args[] = {
			{ "text", fd->text, 0 },
			{ "explained_ns", NULL, fd->explained_ns },
			{ "threads", tids, 0 },
		};

		tids[0] = 0;
		for (k = 0; k < fd->ntids && len + 12 < sizeof(tids); k++)
			len += (size_t)snprintf(tids + len, sizeof(tids) - len, "%s%u", k ? "," : "",
						fd->tids[k]);
		cs_fmt_ns(ex, sizeof(ex), fd->explained_ns);
		if (fd->kind == CS_FIND_SHAPE)
			snprintf(name, sizeof(name), "%s", cs_finding_kind_name(fd->kind));
		else
			snprintf(name, sizeof(name), "%s (%s)", cs_finding_kind_name(fd->kind), ex);
		ret = cs_pf_slice(w, CS_PF_UUID_FINDINGS, begin, dur, name, args,
				  sizeof(args) / sizeof(args[0]));
		if (!ret && fd->kind == CS_FIND_LOOP_BLOCKED && fd->loop)
			ret = episodes_trace(w, c, fd->loop);
	}
	free(own);
	return ret;
}
