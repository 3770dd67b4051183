#!/usr/bin/env python3
"""bench/train_peer.py: PyTorch's training speed on the model that
bench/train.sh gives gotong (bench/bench_train.c), for the side-by-side ratio.

usage: train_peer.py VOCAB DIM LAYERS HEADS KV_HEADS FF SEQ BATCH THREADS STEPS

The same llama as gotong's trainer: token embedding, per block RMSNorm,
attention with RoPE on adjacent pairs, grouped KV heads and the causal mask,
residual, RMSNorm, SwiGLU feed-forward, residual; a final RMSNorm and an
untied output matrix; cross-entropy. AdamW (betas 0.9/0.95, eps 1e-8, weight
decay 0.1 on matrices only), global gradient clipping at 1.0, one micro-batch
per step, f32, eager mode, THREADS intra-op threads (one inter-op). Random
tokens, a new batch each step; one untimed step first. Prints one JSON line:
tokens_per_s, params, step_s, torch's version and its BLAS.
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(seq, hd, base=10000.0):
    inv = base ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    ang = torch.arange(seq, dtype=torch.float32)[:, None] * inv[None, :]
    return torch.cos(ang), torch.sin(ang)  # [T][hd/2]


def rope(x, cos, sin):
    """x: [B][H][T][hd], rotating adjacent pairs (2i, 2i+1)."""
    xr = x.reshape(*x.shape[:-1], -1, 2)
    a, b = xr[..., 0], xr[..., 1]
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).reshape(x.shape)


class Block(nn.Module):
    def __init__(self, dim, heads, kv_heads, ff):
        super().__init__()
        self.h, self.kvh, self.hd = heads, kv_heads, dim // heads
        self.attn_norm, self.ffn_norm = RMSNorm(dim), RMSNorm(dim)
        self.wq = nn.Linear(dim, dim, bias=False)
        self.wk = nn.Linear(dim, self.hd * kv_heads, bias=False)
        self.wv = nn.Linear(dim, self.hd * kv_heads, bias=False)
        self.wo = nn.Linear(dim, dim, bias=False)
        self.gate = nn.Linear(dim, ff, bias=False)
        self.up = nn.Linear(dim, ff, bias=False)
        self.down = nn.Linear(ff, dim, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, D = x.shape
        xn = self.attn_norm(x)
        q = self.wq(xn).view(B, T, self.h, self.hd).transpose(1, 2)
        k = self.wk(xn).view(B, T, self.kvh, self.hd).transpose(1, 2)
        v = self.wv(xn).view(B, T, self.kvh, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        rep = self.h // self.kvh
        if rep > 1:
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(self.hd) + mask
        o = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, D)
        x = x + self.wo(o)
        xn = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(xn)) * self.up(xn))


class Llama(nn.Module):
    def __init__(self, vocab, dim, layers, heads, kv_heads, ff, seq):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(Block(dim, heads, kv_heads, ff) for _ in range(layers))
        self.norm = RMSNorm(dim)
        self.out = nn.Linear(dim, vocab, bias=False)
        cos, sin = rope_tables(seq, dim // heads)
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)
        self.register_buffer("mask", torch.full((seq, seq), float("-inf")).triu(1))
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, tok):
        x = self.embed(tok)
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mask)
        return self.out(self.norm(x))


def main():
    if len(sys.argv) != 11:
        sys.exit(__doc__)
    V, D, L, H, KV, FF, T, B, threads, steps = (int(a) for a in sys.argv[1:])
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    model = Llama(V, D, L, H, KV, FF, T)
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(1)
    t0, loss = 0.0, 0.0
    for i in range(steps + 1):
        if i == 1:
            t0 = time.perf_counter()
        seq = torch.randint(0, V, (B, T + 1), generator=gen)
        logits = model(seq[:, :-1])
        lossv = F.cross_entropy(logits.reshape(-1, V), seq[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        lossv.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss = lossv.item()
    el = time.perf_counter() - t0
    blas = "unknown"  # the BLAS library torch runs on, as mapped (Debian's alternatives pick it)
    with open("/proc/self/maps") as maps:
        for line in maps:
            if "blas" in line and ".so" in line:
                blas = line.split()[-1]
                break
    print(json.dumps({"tokens_per_s": round(steps * B * T / el, 1), "params": sum(p.numel() for p in model.parameters()),
                      "step_s": round(el / steps, 4), "loss": round(loss, 4), "torch": torch.__version__,
                      "blas": blas}))


if __name__ == "__main__":
    main()
