/* trainer_impl.h: the trainer's inside, shared by trainer.c, pass.c,
 * adamw.c and save.c (not a public interface: use trainer.h). */
#ifndef GT_TRAIN_TRAINER_IMPL_H
#define GT_TRAIN_TRAINER_IMPL_H

#include "base/pool.h"
#include "train/trainer.h"

#define MAX_TENSORS (3 + 9 * GT_TRAIN_MAX_LAYERS)

/* One weight tensor: rows x cols floats at off in the parameter array. */
typedef struct tensor {
    char name[48];
    int rows, cols;
    size_t off;
    int is_norm; /* initialised to 1, no weight decay */
} tensor;

/* Per layer: indices into the tensor table, in GGUF order. */
enum { T_ATTN_NORM, T_Q, T_K, T_V, T_O, T_FFN_NORM, T_GATE, T_UP, T_DOWN, T_PER_LAYER };

/* Activations of one layer kept for the backward pass. */
typedef struct acts {
    float *res;       /* [N][D] the layer's input (residual stream) */
    float *xn1, *r1;  /* attention norm output and its 1/rms */
    float *q, *k, *v; /* after RoPE (q, k) */
    float *att;       /* [B][H][T][T] probabilities */
    float *ao;        /* [N][D] attention output, before Wo */
    float *mid;       /* [N][D] residual after attention */
    float *xn2, *r2;
    float *g, *u, *h; /* [N][F] gate, up, SwiGLU */
} acts;

struct gt_trainer {
    gt_train_hparams hp;
    gt_pool *pool;
    int n_tensors, step;
    tensor tensors[MAX_TENSORS];
    size_t n_params;
    float *w, *dw, *m, *v; /* weights, gradients, AdamW moments */
    float *rope;           /* [T][hd/2][2] cos, sin */
    acts *layers;
    float *res_out, *xf, *rf, *logits;
    double *row_loss;
    const int32_t *tokens, *targets; /* of the last forward */
    /* Backward scratch. */
    float *dres, *dxn, *dq, *dk, *dv, *dao, *dg, *du, *dh, *dxf, *scratch;
    int ready; /* 1 after a forward with targets, until its backward */
};

/* Tensor indices: 0 the embedding, then T_PER_LAYER per layer, then the
 * output norm and the output matrix. */
#define LT(l, k) (1 + (l) * T_PER_LAYER + (k))
#define T_OUT_NORM(t) (1 + (t)->hp.n_layer * T_PER_LAYER)
#define T_OUTPUT(t) (2 + (t)->hp.n_layer * T_PER_LAYER)
#define W(t, i) ((t)->w + (t)->tensors[i].off)
#define DW(t, i) ((t)->dw + (t)->tensors[i].off)

#endif
