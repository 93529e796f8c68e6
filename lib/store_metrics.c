/* store_metrics.c: the storage function of the metrics' gauges. */
#include "store.h"

/* Q_METRICS_COUNTS */
static void
read_counts(struct pt_st *st, struct pt_metrics_counts_row *r)
{
	r->users = st_col_int(st, 0);
	r->apps = st_col_int(st, 1);
	r->access_tokens = st_col_int(st, 2);
	r->refresh_tokens = st_col_int(st, 3);
}

int
pt_db_metrics_counts(int64_t now, struct pt_metrics_counts_row *row)
{
	struct pt_st *st = st_get(Q_METRICS_COUNTS);
	st_int(st, 1, now);
	int rc = st_one(st);
	if (rc == PT_OK)
		read_counts(st, row);
	st_reset(st);
	/* an aggregate always has its row: none is a failure */
	return rc == PT_ERR_NOTFOUND ? PT_ERR_DB : rc;
}
