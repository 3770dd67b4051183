/* fund_impl.h: what the fund module's rules share and nobody else sees:
 * the buffer of state-commitment bytes of the action being applied (as the
 * work layer's wk_ctx: bytes reach the block's commitment only when the whole
 * action succeeds), record tags, and small SQL helpers. */
#ifndef GT_FUND_IMPL_H
#define GT_FUND_IMPL_H

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "ledger/action.h"
#include "ledger/state.h"

typedef struct fd_ctx {
    gt_tx *tx;
    gt_buf diff;
} fd_ctx;

/* Record tags of the fund tables' rows (a byte range apart from market's and work's). */
enum {
    FD_REC_ROUND = 0x61,
    FD_REC_PROJECT = 0x62,
    FD_REC_CONTRIB = 0x63,
    FD_REC_NULLIFIER = 0x64,
    FD_REC_ISSUER = 0x65,
    FD_REC_HUMAN = 0x66,
    FD_REC_POINTS = 0x67,
    FD_REC_EPOCH = 0x68,
    FD_REC_LEAF = 0x69,
    FD_REC_SAME = 0x70, /* a human_same statement */
    FD_REC_SYBIL = 0x71, /* an issuer slashed for a duplicate pair */
    FD_REC_EXIT = 0x72,  /* an issuer leaving, or withdrawing its bond */
    FD_REC_PAYER = 0x73, /* what a poster has paid for points in an epoch (format 10) */
    FD_REC_EPOCH_FUND = 0x74 /* what one funder put in an epoch's pool (format 14) */
};

/* Appends v (be64) / n bytes to the commitment; nonzero when out of memory. */
int gt_fund_rec_u64(fd_ctx *c, uint64_t v);
int gt_fund_rec_bytes(fd_ctx *c, const void *p, size_t n);
/* Feeds the buffered bytes to the block commitment when rc == 0; frees. Returns rc. */
int gt_fund_finish(fd_ctx *c, int rc);

/* Prepares sql on db; GT_EDB with the store's message. */
int gt_fund_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **q, gt_err *err);
/* Steps a write statement to completion and finalizes it; GT_EDB naming what. */
int gt_fund_exec_done(sqlite3 *db, sqlite3_stmt *q, const char *what, gt_err *err);
int gt_fund_is_zero32(const uint8_t b[32]);
/* "0x1234abcd" short form of an id. */
const char *gt_fund_short(const uint8_t id[32], char out[19]);
/* The EIP-55 form of a into out, returned (for messages). */
const char *gt_fund_addr(const gt_addr *a, char out[43]);
/* JSON values of the fund readers (fund_query.c, label_query.c): a hash
 * as 0x-hex, an address, an amount as a decimal string of base units; and
 * gt_fund_j_put, which sets key to v (stolen) and records a failure in *bad. */
json_t *gt_fund_j_hex(const uint8_t *b, size_t n);
json_t *gt_fund_j_addr(const gt_addr *a);
json_t *gt_fund_j_amt(uint64_t v);
void gt_fund_j_put(json_t *o, const char *key, json_t *v, int *bad);

/* The staked amount of an issuer: through tx's state when tx is not NULL
 * (inside a rule), else from db's accounts table (a reader). */
int gt_fund_staked(gt_tx *tx, sqlite3 *db, const gt_addr *who, uint64_t *staked, gt_err *err);
/* An issuer's standing (fund.c): registered; left (human_issuer_leave) at
 * leave_height, its bond free from release_height, withdrawn; and what its
 * bond lock holds now. */
typedef struct fd_issuer {
    int registered, left, withdrawn;
    uint64_t leave_height, release_height, bond;
} fd_issuer;
/* Reads who's standing (all zero when it never registered): through tx
 * inside a rule (db unused), else from db. */
int gt_fund_issuer_read(gt_tx *tx, sqlite3 *db, const gt_addr *who, fd_issuer *out, gt_err *err);
/* The weight as gt_fund_human_weight, with the issuer's stake read as gt_fund_staked. */
int gt_fund_human_weight_tx(gt_tx *tx, sqlite3 *db, const gt_addr *who, uint64_t at_s, uint32_t *weight_ppm,
                            gt_err *err);
/* The same, counting only the attestations whose nullifier who recorded in
 * scope (a round's id: gt_fund_use_nullifiers, when it contributed), and a
 * revocation only when made before at_s (the round's endS; format 14's
 * revocations hold their block time); scope NULL counts every valid one
 * (gt_fund_human_weight_tx). */
int gt_fund_human_weight_in(gt_tx *tx, sqlite3 *db, const gt_addr *who, uint64_t at_s, const uint8_t *scope,
                            uint32_t *weight_ppm, gt_err *err);
/* The nullifier of (issuer, person) in round: keccak256("gotong.fund.nullifier" ‖ issuer ‖ person ‖ round). */
void gt_fund_nullifier(const gt_addr *issuer, const uint8_t person[32], const uint8_t round[32], uint8_t out[32]);

/* Records who's nullifiers in scope (a round's or a task's id): one per
 * valid attestation (unrevoked, unexpired at the block's time, issuer
 * registered); GT_EPERM when another address already acts in scope as the
 * same human, the message saying who "acts" there and the rule broken. */
int gt_fund_use_nullifiers(fd_ctx *c, const uint8_t scope[32], const gt_addr *who, const char *acts, const char *rule,
                           gt_err *err);

/* Is worker attested as the same human as poster at the block's time: the
 * same issuer's person id on valid attestations of both (any == 0: points,
 * fund_points.c) or on any attestations of both, expired or revoked too
 * (any != 0: label joins from format 14 -- an issuer's statement that two
 * addresses are one person does not lapse with the proof), or a human_same
 * pair both signed? *same 1 or 0. */
int gt_fund_same_human(gt_tx *tx, const gt_addr *worker, const gt_addr *poster, int any, int *same, gt_err *err);

/* The lock that escrows a round's pool (its id) and an epoch's pool. */
void gt_fund_epoch_lock_id(uint64_t epoch, uint8_t out[32]);

#endif
