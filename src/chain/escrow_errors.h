/* escrow_errors.h: JobEscrow's custom errors and the messages they stand for.
 *
 * JobEscrow refuses with custom errors (4 bytes of selector) rather than
 * revert strings, which cost their length in runtime code under EIP-170's
 * 24,576-byte limit. A user still reads the message the contract once
 * carried: the table here maps each error's signature ("JobNotOpen()") to
 * it ("escrow: the job is not open"), the text written above the error's
 * declaration in contracts/JobEscrow.sol; test_abi_decode checks that every
 * declared error is in the table with that text. */
#ifndef GT_CHAIN_ESCROW_ERRORS_H
#define GT_CHAIN_ESCROW_ERRORS_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *signature; /* canonical, as the selector hashes it */
    const char *message;   /* what the user reads */
} gt_escrow_error;

/* The table (n entries), in the contract's order of first use. */
const gt_escrow_error *gt_escrow_errors(size_t *n);

/* The message of the error whose selector is sel, or NULL if JobEscrow
 * declares none with it. */
const char *gt_escrow_error_message(const uint8_t sel[4]);
#endif
