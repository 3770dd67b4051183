/* skills.c: the table of skills an agent can list on its card. A skill is a
 * task kind plus plain C functions (agent.h's gt_skill): to add one, write
 * its functions in a skill_*.c beside this file and add a line below. */
#include <string.h>

#include "agent/agent.h"
#include "agent/skill_complete.h"
#include "agent/skill_eval.h"
#include "agent/skill_generate.h"
#include "agent/skill_train.h"

static const gt_skill *const skills[] = {
    &gt_skill_complete,
    &gt_skill_generate,
    &gt_skill_validate,
    &gt_skill_eval,
    &gt_skill_train,
};

const gt_skill *gt_skill_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof skills / sizeof skills[0]; i++)
        if (!strcmp(skills[i]->name, name)) return skills[i];
    return NULL;
}

const char *gt_skill_names(void) {
    /* Keep in the table's order. */
    return "complete, generate, validate, eval, train";
}
