/*
 * The statement tables db_init checks before a process starts (app/runtime/db.c): a slot
 * without a name or a text, and a name used twice across modules, stop the start; the real
 * registry of the store passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "db.h"
#include "log.h"
#include "store.h"

enum { A_ONE, A_TWO, A_THREE, A_COUNT };

static const struct db_stmt complete[A_COUNT] = {
    [A_ONE] = {"t_one", "SELECT 1"},
    [A_TWO] = {"t_two", "SELECT 2"},
    [A_THREE] = {"t_three", "SELECT 3"},
};
/* A_TWO forgotten: designated initializers leave the slot empty. */
static const struct db_stmt holed[A_COUNT] = {
    [A_ONE] = {"h_one", "SELECT 1"},
    [A_THREE] = {"h_three", "SELECT 3"},
};
static const struct db_stmt textless[1] = {{"x_one", NULL}};
static const struct db_stmt clash[1] = {{"t_two", "SELECT 22"}};
static const struct db_stmt self_clash[2] = {{"s_one", "SELECT 1"}, {"s_one", "SELECT 2"}};

static const struct db_stmts complete_t = DB_STMTS("complete", complete);
static const struct db_stmts holed_t = DB_STMTS("holed", holed);
static const struct db_stmts textless_t = DB_STMTS("textless", textless);
static const struct db_stmts clash_t = DB_STMTS("clash", clash);
static const struct db_stmts self_clash_t = DB_STMTS("self_clash", self_clash);

static void test_complete_tables_pass(void **state)
{
    (void)state;
    const struct db_stmts *const tables[] = {&complete_t, NULL};
    assert_int_equal(db_init("", tables), 0);
    assert_int_equal(complete_t.count, 3);
}

static void test_missing_slot_fails(void **state)
{
    (void)state;
    const struct db_stmts *const tables[] = {&complete_t, &holed_t, NULL};
    assert_int_equal(db_init("", tables), -1);
}

static void test_missing_text_fails(void **state)
{
    (void)state;
    const struct db_stmts *const tables[] = {&textless_t, NULL};
    assert_int_equal(db_init("", tables), -1);
}

static void test_name_used_twice_fails(void **state)
{
    (void)state;
    const struct db_stmts *const across[] = {&complete_t, &clash_t, NULL};
    assert_int_equal(db_init("", across), -1);
    const struct db_stmts *const within[] = {&self_clash_t, NULL};
    assert_int_equal(db_init("", within), -1);
}

static void test_store_registry_passes(void **state)
{
    (void)state;
    assert_int_equal(db_init("", store_statements), 0);
}

int main(void)
{
    log_open("", 0, LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_tables_pass),  cmocka_unit_test(test_missing_slot_fails),
        cmocka_unit_test(test_missing_text_fails),    cmocka_unit_test(test_name_used_twice_fails),
        cmocka_unit_test(test_store_registry_passes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
