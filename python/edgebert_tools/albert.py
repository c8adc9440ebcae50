# SPDX-License-Identifier: Apache-2.0
"""ALBERT in plain torch with HuggingFace transformers' parameter names and forward semantics
(modeling_albert.py: AlbertModel, AlbertMLMHead), plus the task-specific parts edgebert attaches to a shared
backbone: AdapterHub adapters and classification head, EdgeBERT off-ramps ("highway"), adaptive span, task
LayerNorms and pruning masks on the shared encoder weights.

State-dict names of `AlbertForPretraining` are HF's: albert.embeddings.*, albert.encoder.*, predictions.*."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


_ACT = {"gelu_new": gelu_new, "gelu_pytorch_tanh": gelu_new, "gelu": F.gelu, "relu": F.relu, "swish": F.silu,
        "silu": F.silu, "tanh": torch.tanh}


def activation(name):
    try:
        return _ACT[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}") from None


def default_config(**kw):
    cfg = {"model_type": "albert", "architectures": ["AlbertModel"], "vocab_size": 5000, "embedding_size": 64,
           "hidden_size": 128, "num_hidden_layers": 6, "num_hidden_groups": 1, "num_attention_heads": 4,
           "intermediate_size": 512, "inner_group_num": 1, "hidden_act": "gelu_new", "hidden_dropout_prob": 0.0,
           "attention_probs_dropout_prob": 0.0, "classifier_dropout_prob": 0.1, "max_position_embeddings": 128,
           "type_vocab_size": 2, "initializer_range": 0.02, "layer_norm_eps": 1e-12,
           "position_embedding_type": "absolute", "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3}
    cfg.update(kw)
    return cfg


class AlbertEmbeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        E = cfg["embedding_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], E, padding_idx=cfg.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], E)
        self.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], E)
        self.LayerNorm = nn.LayerNorm(E, eps=cfg["layer_norm_eps"])
        self.dropout = nn.Dropout(cfg["hidden_dropout_prob"])

    def forward(self, ids, token_type_ids=None):
        S = ids.shape[1]
        if S > self.position_embeddings.num_embeddings:
            raise ValueError(f"sequence of {S} tokens is longer than max_position_embeddings")
        tt = torch.zeros_like(ids) if token_type_ids is None else token_type_ids
        pos = torch.arange(S, device=ids.device)[None]
        x = self.word_embeddings(ids) + self.token_type_embeddings(tt) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(x))


class AlbertAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H = cfg["hidden_size"]
        self.num_attention_heads = cfg["num_attention_heads"]
        if H % self.num_attention_heads:
            raise ValueError("hidden_size must be a multiple of num_attention_heads")
        self.query, self.key, self.value, self.dense = (nn.Linear(H, H) for _ in range(4))
        self.LayerNorm = nn.LayerNorm(H, eps=cfg["layer_norm_eps"])
        self.attention_dropout = nn.Dropout(cfg["attention_probs_dropout_prob"])
        self.output_dropout = nn.Dropout(cfg["hidden_dropout_prob"])


class AlbertLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        H, I = cfg["hidden_size"], cfg["intermediate_size"]
        self.eps = cfg["layer_norm_eps"]
        self.full_layer_layer_norm = nn.LayerNorm(H, eps=self.eps)
        self.attention = AlbertAttention(cfg)
        self.ffn = nn.Linear(H, I)
        self.ffn_output = nn.Linear(I, H)
        self.act = activation(cfg["hidden_act"])

    def forward(self, x, additive_mask, task=None, prefix=""):
        """One ALBERT layer. task (a TaskModule or None) supplies adapters, span, task LayerNorms and weight
        masks; prefix is this layer's name relative to albert.encoder (for mask lookup)."""
        at = self.attention
        B, S, H = x.shape
        nh = at.num_attention_heads
        d = H // nh

        def lin(mod, name, v):
            m = task.weight_mask(prefix + name) if task is not None else None
            w = mod.weight if m is None else mod.weight * m
            return F.linear(v, w, mod.bias)

        def ln(mod, name):
            p = task.layer_norm(prefix + name) if task is not None else None
            w, b = (mod.weight, mod.bias) if p is None else p
            return lambda v: F.layer_norm(v, (H,), w, b, self.eps)

        split = lambda t: t.view(B, S, nh, d).transpose(1, 2)
        q = split(lin(at.query, "attention.query", x))
        k = split(lin(at.key, "attention.key", x))
        v = split(lin(at.value, "attention.value", x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
        if additive_mask is not None:
            scores = scores + additive_mask
        probs = torch.softmax(scores, dim=-1)
        if task is not None and task.span is not None:
            probs = task.span.apply(probs)
        probs = at.attention_dropout(probs)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(B, S, H)
        s = at.output_dropout(lin(at.dense, "attention.dense", ctx))
        ln_att = ln(at.LayerNorm, "attention.LayerNorm")
        ad = task.att_adapter if task is not None else None
        # AdapterHub's ALBERT passes the attention block input x as the adapter's hidden_states and s as the
        # residual input (models/albert/modeling_albert.py), unlike BERT; reproduced on purpose.
        a = ad.bottleneck_layer(x, s, ln_att) if ad is not None else ln_att(x + s)
        f = lin(self.ffn_output, "ffn_output", self.act(lin(self.ffn, "ffn", a)))
        ln_full = ln(self.full_layer_layer_norm, "full_layer_layer_norm")
        ad = task.out_adapter if task is not None else None
        return ad.bottleneck_layer(f, a, ln_full) if ad is not None else ln_full(f + a)


class AlbertLayerGroup(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.albert_layers = nn.ModuleList(AlbertLayer(cfg) for _ in range(cfg["inner_group_num"]))


class AlbertTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embedding_hidden_mapping_in = nn.Linear(cfg["embedding_size"], cfg["hidden_size"])
        self.albert_layer_groups = nn.ModuleList(AlbertLayerGroup(cfg) for _ in range(cfg["num_hidden_groups"]))


class AlbertModel(nn.Module):
    def __init__(self, cfg, add_pooling_layer=False):
        super().__init__()
        self.cfg = cfg
        self.embeddings = AlbertEmbeddings(cfg)
        self.encoder = AlbertTransformer(cfg)
        if add_pooling_layer:
            self.pooler = nn.Linear(cfg["hidden_size"], cfg["hidden_size"])

    def forward(self, ids, attention_mask=None, token_type_ids=None, task=None, layer_callback=None):
        """Returns the list of hidden states (entry 0 the projected embeddings, entry i the output of layer i).
        layer_callback(i, h) is called after each layer i (1-based) and may return True to stop (early exit)."""
        cfg = self.cfg
        if attention_mask is None:
            additive = None
        else:
            additive = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        h = self.encoder.embedding_hidden_mapping_in(self.embeddings(ids, token_type_ids))
        states = [h]
        L, G, inner = cfg["num_hidden_layers"], cfg["num_hidden_groups"], cfg["inner_group_num"]
        for i in range(L):
            g = int(i / (L / G))
            for j in range(inner):
                h = self.encoder.albert_layer_groups[g].albert_layers[j](
                    h, additive, task, f"albert_layer_groups.{g}.albert_layers.{j}.")
            states.append(h)
            if layer_callback is not None and layer_callback(i + 1, h):
                break
        return states


class AlbertMLMHead(nn.Module):
    """HF AlbertMLMHead: dense H->E, activation, LayerNorm(E), decoder tied to the word embeddings, bias."""

    def __init__(self, cfg):
        super().__init__()
        self.LayerNorm = nn.LayerNorm(cfg["embedding_size"], eps=cfg["layer_norm_eps"])
        self.bias = nn.Parameter(torch.zeros(cfg["vocab_size"]))
        self.dense = nn.Linear(cfg["hidden_size"], cfg["embedding_size"])
        self.act = activation(cfg["hidden_act"])

    def forward(self, h, word_embeddings):
        return F.linear(self.LayerNorm(self.act(self.dense(h))), word_embeddings.weight, self.bias)


class AlbertForPretraining(nn.Module):
    """Backbone + MLM head (names albert.* and predictions.* as HF's AlbertForMaskedLM)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.albert = AlbertModel(cfg)
        self.predictions = AlbertMLMHead(cfg)
        self.apply(self._init)

    def _init(self, m):
        std = self.cfg["initializer_range"]
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=std)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=std)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, ids, attention_mask, positions):
        """MLM logits at the flat indices `positions` of [B*S] (only masked tokens, to save the V x E product)."""
        h = self.albert(ids, attention_mask)[-1]
        h = h.reshape(-1, h.shape[-1])[positions]
        return self.predictions(h, self.albert.embeddings.word_embeddings)

    def backbone_state_dict(self):
        """The tensors a backbone model.safetensors holds: albert.embeddings.* and albert.encoder.*."""
        return {"albert." + k: v for k, v in self.albert.state_dict().items()}


def entropy(logits):
    """Natural-log entropy of softmax(logits), computed stably from the logits (EdgeBERT's formula)."""
    m = logits.max(-1, keepdim=True).values
    e = torch.exp(logits - m)
    s = e.sum(-1, keepdim=True)
    return (torch.log(s) + m - (logits * e).sum(-1, keepdim=True) / s).squeeze(-1)
