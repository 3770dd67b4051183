/* families.h: procedural task families: generated questions whose answers a
 * program can check without any model.
 *
 * Each family pairs a generator (seed, index) -> item {question, answer,
 * meta} with a checker (item, candidate) -> verdict + reason. Items are a pure
 * function of (family, seed, index) through our own generator (rng.h), so a
 * validator regenerates the exact item a worker was given and checks the
 * worker's answer. Built in:
 *   arith    multi-digit +, -, * on integers (exact, 64-bit)
 *   units    length, mass, time and volume conversions, exact rational
 *            arithmetic; answers to 2 decimal places, accepted when within
 *            0.005 of the exact value (half a unit in the last place asked)
 *   sort     sort integers or words ascending / descending
 *   logic    evaluate a boolean formula (and, or, xor, not) over named values
 *   strings  reverse, uppercase, lowercase, rot13, drop vowels, swap case
 *
 * Answer extraction (gt_answer_extract), the same for every family, so model
 * output can be free text with reasoning before the answer:
 *   1. the text after the LAST "answer:" (any case) up to the end of its line;
 *   2. otherwise the last non-blank line;
 *   then surrounding spaces, markdown bold/backticks, quotes and one trailing
 *   period are removed. The family then reads what it needs from that span:
 *   arith/units the first number of a marked span ("Answer: 42 (6*7)") or the
 *   last number of an unmarked one ("so the total is 42"), sort every number
 *   (or word) in order, logic the last true/false/yes/no word, strings the
 *   whole span. */
#ifndef GT_WORK_FAMILIES_H
#define GT_WORK_FAMILIES_H

#include <stddef.h>
#include <stdint.h>

#include "work/data/rng.h"

#define GT_FAMILY_QUESTION_MAX 512 /* longest generated question, bytes with NUL */
#define GT_FAMILY_ANSWER_MAX 256   /* longest answer, bytes with NUL */
#define GT_FAMILY_META_MAX 256     /* the item's parameters as compact JSON */
#define GT_FAMILY_REASON_MAX 192
#define GT_FAMILY_MAX_CHOICES 4    /* answer + distractors for multiple choice */
/* Candidate answers longer than this are refused unread: a checker's work must
 * stay bounded whatever a worker submits. */
#define GT_FAMILY_CANDIDATE_MAX (64 * 1024)

typedef struct gt_family gt_family;

typedef struct gt_family_item {
    const gt_family *family;
    uint64_t seed, index;
    int level; /* difficulty: 0 the family's mix, else its digits, items or depth (gt_family_generate_level) */
    char question[GT_FAMILY_QUESTION_MAX];
    char answer[GT_FAMILY_ANSWER_MAX];     /* the canonical answer text */
    char meta[GT_FAMILY_META_MAX];         /* e.g. {"op":"*","digits":[5,3]} */
} gt_family_item;

typedef struct gt_verdict {
    int ok;                                /* 1: the candidate is correct */
    char extracted[GT_FAMILY_ANSWER_MAX];  /* what was read as the answer (truncated) */
    char reason[GT_FAMILY_REASON_MAX];     /* "correct" or what was wrong */
} gt_verdict;

struct gt_family {
    const char *name;     /* "arith" */
    const char *summary;  /* one line for listings */
    const char *answer_hint; /* how the answer should be written, for prompts */
    /* Fills question/answer/meta from r (family, seed and index are set). */
    void (*generate)(gt_rng *r, gt_family_item *it);
    /* Judges the extracted answer span ans[0..n) against the item; marked is
     * 1 when the span followed an "answer:" marker (see gt_answer_extract). */
    void (*check)(const gt_family_item *it, const char *ans, size_t n, int marked, gt_verdict *v);
    /* Writes up to k wrong answers, distinct from the answer and from each
     * other, into out; returns how many (some families have fewer). */
    int (*distract)(const gt_family_item *it, gt_rng *r, char (*out)[GT_FAMILY_ANSWER_MAX], int k);
    /* Difficulty levels min_level..max_level (0, 0: none): what a level
     * means is the family's (arith: digits of each operand; sort: items;
     * logic: depth). */
    int min_level, max_level;
    /* Writes a worked solution ending with "Answer: <answer>" into out
     * (cap bytes); 0, or -1 when it does not fit. NULL: the family has none. */
    int (*scratchpad)(const gt_family_item *it, char *out, size_t cap);
};

/* The built-in families, in a fixed order. */
int gt_family_count(void);
const gt_family *gt_family_at(int i);
/* NULL when no family has that name. */
const gt_family *gt_family_by_name(const char *name);

/* Generates item `index` of family f under `seed` (pure function). */
void gt_family_generate(const gt_family *f, uint64_t seed, uint64_t index, gt_family_item *out);
/* The same at a difficulty level: 0 is gt_family_generate's mix (the same
 * items); f->min_level..f->max_level fix the family's digits, items or
 * depth. GT_EINVAL for another level. */
int gt_family_generate_level(const gt_family *f, uint64_t seed, uint64_t index, int level, gt_family_item *out);

/* The longest worked solution. */
#define GT_FAMILY_SCRATCHPAD_MAX 2048
/* A worked solution of the item -- the steps, then a marked final answer
 * ("Answer: 579"), which gt_family_check reads -- as training text that
 * shows its work. 0; GT_EUNSUPPORTED when the family has none; GT_ELIMIT
 * when it does not fit in cap bytes. */
int gt_family_scratchpad(const gt_family_item *it, char *out, size_t cap);

/* Extracts the answer span from free text (rules above): *start and the
 * returned length point into text; *marked (may be NULL) is set to 1 when the
 * span came from an "answer:" line. Returns 0 with *start = text when there
 * is nothing but blanks. */
size_t gt_answer_extract(const char *text, size_t len, const char **start, int *marked);

/* Checks free-text output against the item: extraction, then the family's
 * checker. Output over GT_FAMILY_CANDIDATE_MAX is judged wrong with that
 * reason. Never fails. */
void gt_family_check(const gt_family_item *it, const char *output, size_t len, gt_verdict *v);

/* Multiple-choice options for an item: the answer and up to n-1 distractors,
 * shuffled by a generator seeded from (item seed, index). Returns the number
 * of options written (2..n) and the index of the correct one in *gold. */
int gt_family_choices(const gt_family_item *it, int n, char (*out)[GT_FAMILY_ANSWER_MAX], int *gold);

#endif
