/*
 * loanctl's lending commands: `otp last`, which prints the last one-time code sent to a phone
 * (development and test only: it opens the sealed code the outbox carries, so people and tests
 * can complete a signature without a real phone), and `agreement verify`, which checks a
 * downloaded agreement offline: the SHA-256 of its terms and the lender's Ed25519 signature,
 * with a published keys file (GET /.well-known/loanflow-signing-keys.json), a key given in hex,
 * or the local stack's own key.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cli.h"
#include "config.h"
#include "lending.h"

int cmd_otp_last(int argc, char **argv)
{
    const char *phone = cli_opt(argc, argv, "--phone");
    if (phone == NULL || phone[0] == '\0') {
        fprintf(stderr, "usage: loanctl otp last --phone NUMBER\n");
        return 2;
    }
    if (cli_config() != 0)
        return 1;
    if (config_get()->env == ENV_PRODUCTION) {
        fprintf(stderr, "loanctl: otp last is refused in production: codes go only to phones\n");
        return 1;
    }
    if (cli_connect() != 0)
        return 1;
    arena *a = arena_new(1 << 14);
    char code[7];
    int rc = lending_last_otp(a, phone, code);
    arena_free(a);
    cli_disconnect();
    if (rc == 1) {
        fprintf(stderr, "loanctl: no one-time code was sent to %s\n", phone);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "loanctl: the last code to %s cannot be read (database or PII_KEY)\n",
                phone);
        return 1;
    }
    printf("%s\n", code);
    return 0;
}

/* The public key of key_id (NULL: the first) in a keys document; NULL when absent. */
static char *key_from_file(const char *path, const char *key_id)
{
    size_t len;
    char *text = cli_read_file(path, &len);
    if (text == NULL)
        return NULL;
    json_object *o = json_tokener_parse(text);
    free(text);
    json_object *keys;
    char *found = NULL;
    if (o != NULL && json_object_object_get_ex(o, "keys", &keys) &&
        json_object_is_type(keys, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(keys) && found == NULL; i++) {
            json_object *k = json_object_array_get_idx(keys, i), *id, *pk;
            if (!json_object_object_get_ex(k, "public_key", &pk))
                continue;
            if (key_id != NULL && json_object_object_get_ex(k, "key_id", &id) &&
                strcmp(json_object_get_string(id), key_id) != 0)
                continue;
            found = strdup(json_object_get_string(pk));
        }
    }
    json_object_put(o);
    return found;
}

int cmd_agreement_verify(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: loanctl agreement verify FILE [--keys KEYS.json | --key HEX]\n");
        return 2;
    }
    size_t len;
    char *doc = cli_read_file(argv[0], &len);
    if (doc == NULL)
        return 1;
    /* The key id the agreement names picks the key of a keys file. */
    char key_id[64] = "";
    json_object *o = json_tokener_parse(doc), *g = NULL, *kid;
    if (o != NULL && !json_object_object_get_ex(o, "agreement", &g))
        g = o;
    if (g != NULL && json_object_object_get_ex(g, "key_id", &kid) && kid != NULL)
        snprintf(key_id, sizeof(key_id), "%s", json_object_get_string(kid));
    json_object_put(o);

    char *pub = NULL;
    char own_kid[17], own_pub[65];
    const char *keys = cli_opt(argc, argv, "--keys"), *hex = cli_opt(argc, argv, "--key");
    if (keys != NULL)
        pub = key_from_file(keys, key_id[0] ? key_id : NULL);
    else if (hex != NULL)
        pub = strdup(hex);
    else if (cli_config() == 0 && lending_signing_key(own_kid, own_pub) == 0)
        pub = strdup(own_pub);
    if (pub == NULL) {
        fprintf(stderr, "loanctl: no public key%s%s to verify with\n", key_id[0] ? " for key " : "",
                key_id);
        free(doc);
        return 1;
    }
    const char *why = NULL;
    int rc = lending_verify_document(doc, pub, &why);
    free(pub);
    free(doc);
    if (rc == 0) {
        printf("%s: valid (Ed25519, key %s)\n", argv[0], key_id[0] ? key_id : "?");
        return 0;
    }
    printf("%s: invalid: %s\n", argv[0], why);
    return 1;
}
