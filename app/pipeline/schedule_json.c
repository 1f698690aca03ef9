/*
 * A schedule in JSON (see schedule_json.h for the shape). One function builds what the offer and
 * loan endpoints answer and what loanctl prints, so the two cannot drift apart. Every json-c
 * constructor can fail for memory; a failure anywhere frees what was built and returns NULL, so
 * a caller has one thing to check.
 */
#include "schedule_json.h"

#include "js.h"

/* Adds val under key; clears *ok when val is NULL (out of memory) or the add fails. */
static void put(json_object *obj, const char *key, json_object *val, int *ok)
{
    if (val == NULL || json_object_object_add(obj, key, val) != 0) {
        json_object_put(val);
        *ok = 0;
    }
}

static json_object *item_json(const struct sched_item *it)
{
    json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    char date[11];
    int ok = 1;
    put(o, "number", json_object_new_int(it->number), &ok);
    put(o, "due_date", json_object_new_string(sched_format_date(it->due, date)), &ok);
    put(o, "installment", js_new_money(it->installment), &ok);
    put(o, "interest", js_new_money(it->interest), &ok);
    put(o, "principal", js_new_money(it->principal), &ok);
    put(o, "balance", js_new_money(it->balance), &ok);
    if (!ok) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

json_object *sched_json_items(const struct sched_item *items, int count)
{
    json_object *a = json_object_new_array_ext(count > 0 ? count : 1);
    if (a == NULL)
        return NULL;
    for (int i = 0; i < count; i++) {
        json_object *o = item_json(&items[i]);
        if (o == NULL || json_object_array_add(a, o) != 0) {
            json_object_put(o);
            json_object_put(a);
            return NULL;
        }
    }
    return a;
}

json_object *sched_json_totals(const struct schedule *s)
{
    json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    int ok = 1;
    if (s->emi > 0)
        put(o, "emi", js_new_money(s->emi), &ok);
    else if (json_object_object_add(o, "emi", NULL) != 0)
        ok = 0;
    put(o, "total_interest", js_new_money(s->total_interest), &ok);
    put(o, "total_principal", js_new_money(s->total_principal), &ok);
    put(o, "total_payment", js_new_money(s->total_payment), &ok);
    put(o, "installments", json_object_new_int(s->count), &ok);
    if (!ok) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

json_object *sched_json(const struct sched_item *items, const struct schedule *s)
{
    json_object *o = json_object_new_object();
    if (o == NULL)
        return NULL;
    int ok = 1;
    put(o, "schedule", sched_json_items(items, s->count), &ok);
    put(o, "totals", sched_json_totals(s), &ok);
    if (!ok) {
        json_object_put(o);
        return NULL;
    }
    return o;
}
