/* unicode.h: the UTF-8 and byte-level helpers the tokenizers need.
 *
 * Decoding is lenient the way llama.cpp's is (a lead byte and the right number
 * of continuation bytes make a code point; overlong forms are accepted), so
 * that the same bytes give the same tokens. What PCRE2 cannot take
 * (surrogates, code points past U+10FFFF) becomes U+FFFD. */
#ifndef GT_INFER_UNICODE_H
#define GT_INFER_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define GT_UNICODE_REPLACEMENT 0xFFFDu

/* Bytes in the UTF-8 sequence a lead byte announces (1 for continuation and
 * invalid bytes): llama.cpp's character step for symbols. */
size_t gt_utf8_len(uint8_t lead);

/* Decodes one code point at s[0..n) (n >= 1). Returns the bytes consumed, or
 * 0 when the sequence is invalid (a continuation byte as lead, a missing
 * continuation, an 0xF8+ lead). */
size_t gt_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);

/* Writes cp as UTF-8 into out (4 bytes of room); returns the length. */
size_t gt_utf8_encode(uint32_t cp, uint8_t *out);

/* Appends s[0..n) to out as valid UTF-8: each sequence gt_utf8_decode
 * accepts is written in its shortest form, every other byte becomes U+FFFD
 * (as llama.cpp does before a BPE pre-tokenizer). Returns 0 or GT_ENOMEM. */
int gt_utf8_sanitize(const uint8_t *s, size_t n, gt_buf *out);

/* The offset of the first byte of s[0..n) that gt_utf8_sanitize would
 * replace with U+FFFD (an undecodable byte, a surrogate, past U+10FFFF), or
 * n when s is UTF-8 as the tokenizers read it. */
size_t gt_utf8_first_invalid(const uint8_t *s, size_t n);

/* GPT-2's byte-level alphabet: each byte maps to a printable code point
 * (printable Latin-1 bytes to themselves, the rest to U+0100 and up). */
uint32_t gt_unicode_byte_to_cp(uint8_t b);
/* The byte a code point stands for, or -1 if it is not in the alphabet. */
int gt_unicode_cp_to_byte(uint32_t cp);

#endif
