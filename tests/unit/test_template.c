/* Templates: escaping by default, raw by name, JSON safe in script blocks, sections. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "template.h"

static char *render(arena *a, const char *src, const char *json)
{
    json_object *ctx = json_tokener_parse(json);
    size_t len;
    char *out = template_render_string(a, src, ctx, &len);
    json_object_put(ctx);
    return out;
}

static void test_escape(void **state)
{
    (void)state;
    arena *a = arena_new(4096);
    assert_string_equal(
        render(a, "<p>{{name}}</p>", "{\"name\":\"<script>alert('x')&\\\"</script>\"}"),
        "<p>&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;</p>");
    assert_string_equal(render(a, "{{raw html}}", "{\"html\":\"<b>x</b>\"}"), "<b>x</b>");
    assert_string_equal(render(a, "{{n}} {{b}} {{missing}}.", "{\"n\":42,\"b\":true}"),
                        "42 true .");
    assert_string_equal(render(a, "{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}"), "deep");
    arena_free(a);
}

static void test_json_block(void **state)
{
    (void)state;
    arena *a = arena_new(4096);
    const char *out = render(a, "<script type=\"application/json\">{{json data}}</script>",
                             "{\"data\":{\"x\":\"</script><script>alert(1)</script>&\"}}");
    assert_null(strstr(out + 8, "</script><script>"));
    assert_non_null(strstr(out, "\\u003c/script\\u003e"));
    assert_non_null(strstr(out, "\\u0026"));
    arena_free(a);
}

static void test_sections(void **state)
{
    (void)state;
    arena *a = arena_new(4096);
    assert_string_equal(
        render(a, "{{#each xs}}[{{id}}:{{title}}]{{/each}}",
               "{\"title\":\"T\",\"xs\":[{\"id\":1},{\"id\":2,\"title\":\"own\"}]}"),
        "[1:T][2:own]");
    assert_string_equal(render(a, "{{#each xs}}{{.}},{{/each}}", "{\"xs\":[\"a\",\"<b>\"]}"),
                        "a,&lt;b&gt;,");
    assert_string_equal(render(a, "{{#if ok}}yes{{else}}no{{/if}}", "{\"ok\":true}"), "yes");
    assert_string_equal(render(a, "{{#if ok}}yes{{else}}no{{/if}}", "{\"ok\":0}"), "no");
    assert_string_equal(render(a, "{{#if xs}}some{{else}}none{{/if}}", "{\"xs\":[]}"), "none");
    assert_string_equal(render(a, "{{#if a}}{{#each xs}}{{#if .}}x{{/if}}{{/each}}{{/if}}!",
                               "{\"a\":1,\"xs\":[1,0,1]}"),
                        "xx!");
    assert_null(render(a, "{{#if a}}unclosed", "{\"a\":1}"));
    assert_null(render(a, "{{unterminated", "{}"));
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_json_block),
        cmocka_unit_test(test_sections),
    };
    return cmocka_run_group_tests_name("template", tests, NULL, NULL);
}
