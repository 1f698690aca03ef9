/*
 * A small logic-less template language rendered from a json-c context, escaped by default:
 *   {{path.to.value}}        HTML-escaped value (strings as is, numbers and booleans printed)
 *   {{raw name}}             unescaped, only where the page asks for it by name
 *   {{json name}}            the value as JSON made safe inside <script type="application/json">
 *   {{#each list}}…{{/each}} repeats for each array element; inside, names look in the element
 *                            first, then outwards; {{.}} is the element itself
 *   {{#if name}}…{{else}}…{{/if}}  truthy: non-null, not false, not 0, not "", not empty array
 *   {{> partial}}            includes templates/partial.html
 * Templates are read from TEMPLATE_DIR once per worker and kept parsed for its life.
 */
#ifndef LOANFLOW_TEMPLATE_H
#define LOANFLOW_TEMPLATE_H

#include <json-c/json.h>
#include <stddef.h>

#include "arena.h"

/* Renders templates/<name>.html with ctx (borrowed). Returns an arena string and its length in
 * *len, or NULL when the template is missing or malformed (logged). */
char *template_render(arena *a, const char *name, json_object *ctx, size_t *len);

/* Renders a template held in memory (for unit tests); same contract. */
char *template_render_string(arena *a, const char *src, json_object *ctx, size_t *len);

/* HTML-escapes s[0..n) onto the buffer. */
void template_escape(const char *s, size_t n, void (*put)(void *ud, const char *p, size_t n),
                     void *ud);

/* Sets the directory templates are read from (borrowed; default "templates"). */
void template_set_dir(const char *dir);

#endif
