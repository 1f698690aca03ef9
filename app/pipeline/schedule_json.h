/*
 * schedule_json.h - a schedule as the API returns it and `loanctl schedule --json` prints it:
 * {"schedule": [{"number", "due_date", "installment", "interest", "principal", "balance"} ...],
 *  "totals": {"emi", "total_interest", "total_principal", "total_payment", "installments"}}.
 * Amounts are JSON numbers with two decimals (js_new_money: INR and USD for now; currencies with
 * other minor-unit exponents are issue 16's). Kept apart from schedule.h, which allocates nothing.
 */
#ifndef LOANFLOW_SCHEDULE_JSON_H
#define LOANFLOW_SCHEDULE_JSON_H

#include <json-c/json.h>

#include "schedule.h"

/* The array of items[0 .. count-1]; a new reference the caller owns, NULL when out of memory. */
json_object *sched_json_items(const struct sched_item *items, int count);
/* The totals object ("emi" is null for equal principal, whose installments vary); caller owns,
 * NULL when out of memory. */
json_object *sched_json_totals(const struct schedule *s);
/* {"schedule": sched_json_items(items, s->count), "totals": sched_json_totals(s)}; caller owns,
 * NULL when out of memory. */
json_object *sched_json(const struct sched_item *items, const struct schedule *s);

#endif
